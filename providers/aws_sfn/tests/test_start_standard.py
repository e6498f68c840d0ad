"""STANDARD executions end to end: every status, input and output, names, regions, qualifiers."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.usefixtures("fast_polling")

NAME = re.compile(r"^paradime-\d{8}T\d{6}Z-[0-9a-f]{8}$")


def test_a_succeeding_execution_reports_its_output_and_links(start, machines, asl):
    arn = machines.arn("hello", asl.passing())
    result = start("--state-machine-arn", arn, "--input", '{"who": "world"}', "--json")
    assert result.exit_code == 0, result.stderr
    row = result.json["results"][0]
    assert row["status"] == "SUCCEEDED"
    assert row["output"] == {"who": "world", "result": {"greeting": "hello"}}
    assert row["run_id"].startswith("arn:aws:states:us-east-1:123456789012:execution:hello:")
    assert row["console_url"] == (
        "https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1"
        f"#/v2/executions/details/{row['run_id']}"
    )
    assert row["execution_status"] == "SUCCEEDED"
    assert row["state_machine_type"] == "STANDARD"
    execution = machines.describe(row["run_id"])
    assert json.loads(execution["input"]) == {"who": "world"}


def test_a_failed_execution_exits_one_with_its_error_and_cause(start, machines, asl):
    arn = machines.arn("broken", asl.failing("Demo.Failure", "the job failed on purpose"))
    result = start("--state-machine-arn", arn, "--json")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "FAILED"
    assert row["error"] == "Demo.Failure: the job failed on purpose"
    assert (row["execution_error"], row["execution_cause"]) == (
        "Demo.Failure",
        "the job failed on purpose",
    )
    assert row["run_id"].endswith(":execution:broken:" + row["execution_name"])


def test_the_input_drives_a_choice_state(start, machines, asl):
    arn = machines.arn("sizer", asl.choice())
    big = start("--state-machine-arn", arn, "--input", '{"n": 5}', "--json")
    small = start("--state-machine-arn", arn, "--input", '{"n": 1}', "--json")
    assert (big.exit_code, big.json["results"][0]["output"]) == (0, {"size": "big"})
    assert small.exit_code == 1
    assert small.json["results"][0]["error"] == "TooSmall: n must be above 2"


def test_input_can_come_from_a_file_or_standard_input(start, machines, asl, tmp_path, monkeypatch):
    import io

    arn = machines.arn("sizer", asl.choice())
    path = tmp_path / "input.json"
    path.write_text('{"n": 3}', encoding="utf-8")
    from_file = start("--state-machine-arn", arn, "--input-file", str(path), "--json")
    assert from_file.json["results"][0]["output"] == {"size": "big"}
    monkeypatch.setattr("sys.stdin", io.StringIO('{"n": 7}'))
    from_stdin = start("--state-machine-arn", arn, "--input-file", "-", "--json")
    assert from_stdin.exit_code == 0, from_stdin.stderr
    execution = machines.describe(from_stdin.json["results"][0]["run_id"])
    assert json.loads(execution["input"]) == {"n": 7}


def test_a_timed_out_execution_reports_the_cause_from_its_history(
    start, machines, asl, timeout_cause, aws_faults
):
    arn = machines.arn("slowpoke", asl.timing_out())
    result = start("--state-machine-arn", arn, "--json")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "TIMED_OUT"
    error, cause = timeout_cause
    assert row["error"] == f"{error}: {cause}"
    # DescribeExecution had no cause; the newest history events were read, once.
    assert aws_faults.count("GetExecutionHistory") == 1


def test_a_timeout_without_any_recorded_cause_says_so(start, machines, asl):
    arn = machines.arn("slowpoke", asl.timing_out())
    result = start("--state-machine-arn", arn, "--json")
    row = result.json["results"][0]
    assert (result.exit_code, row["status"]) == (1, "TIMED_OUT")
    assert row["error"] == "execution timed out (Step Functions recorded no error or cause)"


def test_every_target_gets_a_generated_unique_readable_name(start, machines, asl):
    one = machines.arn("one", asl.passing())
    two = machines.arn("two", asl.passing())
    first = start("--state-machine-arn", f"{one},{two}", "--json")
    again = start("--state-machine-arn", one, "--json")
    names = [r["execution_name"] for r in first.json["results"] + again.json["results"]]
    assert all(NAME.match(n) for n in names), names
    assert len(set(names)) == 3
    assert {e["name"] for e in machines.executions(one)} == {names[0], names[2]}
    assert {e["name"] for e in machines.executions(two)} == {names[1]}


def test_a_given_execution_name_is_used_for_each_target(start, machines, asl):
    one = machines.arn("one", asl.passing())
    two = machines.arn("two", asl.passing())
    result = start(
        "--state-machine-arn",
        one,
        "--state-machine-arn",
        two,
        "--execution-name",
        "nightly-2024-06-01",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    assert [r["run_id"] for r in result.json["results"]] == [
        "arn:aws:states:us-east-1:123456789012:execution:one:nightly-2024-06-01",
        "arn:aws:states:us-east-1:123456789012:execution:two:nightly-2024-06-01",
    ]


def test_reusing_an_execution_name_is_an_error_naming_the_existing_execution(start, machines, asl):
    arn = machines.arn("hello", asl.passing())
    first = start("--state-machine-arn", arn, "--execution-name", "once", "--json")
    assert first.exit_code == 0
    # Same name and same input: Step Functions refuses a second run of an ended execution, and
    # the earlier run is not passed off as this one.
    for extra in ([], ["--input", '{"x": 1}']):
        second = start("--state-machine-arn", arn, "--execution-name", "once", *extra, "--json")
        assert second.exit_code == 1
        row = second.json["results"][0]
        assert row["status"] == "ERROR"
        assert "an execution named 'once' already exists" in row["error"]
        assert ":execution:hello:once" in row["error"]
    assert len(machines.executions(arn)) == 1
