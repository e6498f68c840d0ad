"""--idempotency-key on Step Functions: the execution's name comes from the key and the machine;
the execution of that name is looked up before any start, attached to while it runs, reported
once it has ended (never started again), and a different input under the key exits 2. EXPRESS
machines, whose starts Step Functions does not deduplicate, refuse a typed key in their row."""

from __future__ import annotations

import re

from paradime.api import idempotency_token
from paradime_aws_common.testing import IamPolicy

KEY = "scheduled__2026-06-01T02:00:00+00:00"


def test_a_retry_attaches_to_the_running_execution_named_after_the_key(
    start, machines, asl, aws_faults
):
    arn = machines.arn("nightly", asl.waiting(1))
    first = start("--state-machine-arn", arn, "--idempotency-key", KEY,
                  "--no-wait-for-completion", "--json")  # fmt: skip
    assert first.exit_code == 0, first.stderr
    [execution] = machines.executions(arn)
    name = idempotency_token(KEY, arn, max_length=80, label="nightly")
    assert execution["name"] == name
    assert re.fullmatch(r"scheduled-2026-06-01T02-00-00-00-00-nightly-[0-9a-f]{16}", name)
    retry = start("--state-machine-arn", arn, "--json", env={"PARADIME_IDEMPOTENCY_KEY": KEY})
    assert retry.exit_code == 0, retry.stderr
    [row] = retry.json["results"]
    assert (row["status"], row["run_id"], row["attached"]) == (
        "SUCCEEDED",
        execution["executionArn"],
        True,
    )
    assert row["output"] == {"waited": 1}
    assert row["execution_name"] == name
    assert f"attached to execution {name}" in retry.stderr
    assert aws_faults.count("StartExecution") == 1  # the first attempt's only
    assert len(machines.executions(arn)) == 1


def test_a_rerun_after_success_reports_it_with_the_same_run_id_and_starts_nothing(
    start, machines, asl, aws_faults
):
    arn = machines.arn("hello", asl.passing())
    args = ("--state-machine-arn", arn, "--idempotency-key", KEY, "--json")
    first = start(*args)
    assert first.exit_code == 0, first.stderr
    again = start(*args)
    assert again.exit_code == 0, again.stderr
    [before], [after] = first.json["results"], again.json["results"]
    assert (after["status"], after["run_id"], after["attached"]) == (
        "SUCCEEDED",
        before["run_id"],
        True,
    )
    assert after["output"] == before["output"]
    assert "had ended (SUCCEEDED at " in again.stderr
    assert aws_faults.count("StartExecution") == 1
    assert len(machines.executions(arn)) == 1


def test_a_failed_execution_is_reported_failed_again_with_its_cause(start, machines, asl):
    arn = machines.arn("broken", asl.failing("Load.Failed", "table missing"))
    args = ("--state-machine-arn", arn, "--idempotency-key", KEY, "--json")
    assert start(*args).exit_code == 1
    again = start(*args)
    assert again.exit_code == 1
    [row] = again.json["results"]
    assert (row["status"], row["error"], row["attached"]) == (
        "FAILED",
        "Load.Failed: table missing",
        True,
    )
    assert len(machines.executions(arn)) == 1


def test_a_different_input_under_the_same_key_exits_2_and_starts_nothing(
    start, machines, asl, aws_faults
):
    arn = machines.arn("choose", asl.choice())
    assert start("--state-machine-arn", arn, "--input", '{"n": 5}',
                 "--idempotency-key", KEY).exit_code == 0  # fmt: skip
    [execution] = machines.executions(arn)
    changed = start("--state-machine-arn", arn, "--input", '{"n": 7}',
                    "--idempotency-key", KEY, "--json")  # fmt: skip
    assert changed.exit_code == 2
    [row] = changed.json["results"]
    assert row["status"] == "ERROR"
    assert row["error"] == (
        f"idempotency key '{KEY}' already started execution {execution['executionArn']} with a "
        "different input; a new key starts a new execution"
    )
    assert aws_faults.count("StartExecution") == 1
    # The same JSON written differently is the same input.
    same = start("--state-machine-arn", arn, "--input", '{ "n" : 5 }', "--idempotency-key", KEY)
    assert same.exit_code == 0, same.stderr
    assert len(machines.executions(arn)) == 1


def test_a_new_key_starts_a_new_execution(start, machines, asl):
    arn = machines.arn("hello", asl.passing())
    assert start("--state-machine-arn", arn, "--idempotency-key", KEY).exit_code == 0
    other = start("--state-machine-arn", arn, "--idempotency-key", KEY + "-rerun", "--json")
    assert other.exit_code == 0, other.stderr
    assert other.json["results"][0]["attached"] is False
    assert len(machines.executions(arn)) == 2


def test_an_execution_started_between_the_look_up_and_the_start_is_found_not_duplicated(
    start, machines, asl, aws_faults
):
    """Two attempts at once: the other one's start lands first; ours meets
    ExecutionAlreadyExists (another input here) and reads the execution again."""
    arn = machines.arn("choose", asl.choice())
    name = idempotency_token(KEY, arn, max_length=80, label="choose")

    def theirs_first(request):
        if request.action == "StartExecution" and not machines.executions(arn):
            machines.client().start_execution(stateMachineArn=arn, name=name, input='{"n": 9}')
        return None

    aws_faults.add_rule(theirs_first)
    result = start("--state-machine-arn", arn, "--input", '{"n": 5}',
                   "--idempotency-key", KEY, "--json")  # fmt: skip
    assert result.exit_code == 2
    assert "already started execution" in result.json["results"][0]["error"]
    assert len(machines.executions(arn)) == 1


def test_an_express_machine_refuses_a_typed_key_and_runs_without_one_from_the_environment(
    start, machines, asl
):
    express = [machines.arn(n, asl.passing(), type="EXPRESS") for n in ("fast-a", "fast-b")]
    typed = start("--state-machine-arn", express[0], "--idempotency-key", KEY, "--json")
    assert typed.exit_code == 1
    assert typed.json["results"][0]["error"] == (
        "--idempotency-key cannot be honoured: state machine 'fast-a' is EXPRESS, and Step "
        "Functions does not deduplicate EXPRESS starts: a repeat under the same name runs it "
        "again; not started (the other targets run under the key)"
    )
    from_env = start("--state-machine-arn", ",".join(express), "--json",
                     env={"PARADIME_IDEMPOTENCY_KEY": KEY})  # fmt: skip
    assert from_env.exit_code == 0, from_env.stderr
    assert from_env.stderr.count("PARADIME_IDEMPOTENCY_KEY is set, but state machine") == 1
    assert all(row["attached"] is False for row in from_env.json["results"])


def test_a_typed_key_starts_the_standard_machine_and_refuses_the_express_one_in_its_row(
    start, machines, asl, aws_faults
):
    """The EXPRESS machine's type is read only after the STANDARD one may have started: its
    refusal is an ERROR row and exit 1, never exit 2, which promises nothing was started."""
    standard = machines.arn("nightly", asl.passing())
    express = machines.arn("fast", asl.passing(), type="EXPRESS")
    result = start("--state-machine-arn", f"{standard},{express}", "--idempotency-key", KEY,
                   "--json")  # fmt: skip
    assert result.exit_code == 1, result.stderr
    rows = {row["target"]: row for row in result.json["results"]}
    assert (rows[standard]["status"], rows[standard]["attached"]) == ("SUCCEEDED", False)
    assert rows[express]["status"] == "ERROR"
    assert rows[express]["error"].startswith(
        "--idempotency-key cannot be honoured: state machine 'fast' is EXPRESS"
    )
    assert rows[express]["error"].endswith("not started (the other targets run under the key)")
    assert len(machines.executions(standard)) == 1
    assert aws_faults.count("StartSyncExecution") == 0
    assert aws_faults.count("StartExecution") == 1


def test_an_execution_name_and_a_key_are_one_too_many(start, machines, asl, aws_faults):
    arn = machines.arn("hello", asl.passing())
    typed = start("--state-machine-arn", arn, "--execution-name", "mine",
                  "--idempotency-key", KEY)  # fmt: skip
    assert typed.exit_code == 2
    assert typed.stderr.strip() == (
        "Error: --idempotency-key cannot be honoured: --execution-name names the executions "
        "itself; give one or the other"
    )
    assert aws_faults.requests == []
    from_env = start("--state-machine-arn", arn, "--execution-name", "mine", "--json",
                     env={"PARADIME_IDEMPOTENCY_KEY": KEY})  # fmt: skip
    assert from_env.exit_code == 0, from_env.stderr
    assert [e["name"] for e in machines.executions(arn)] == ["mine"]
    assert "running without it" in from_env.stderr


def test_the_documented_actions_suffice_under_a_key(start, machines, asl, aws_faults):
    """Without DescribeStateMachine the type is unknown before the start: the key's execution
    is still looked up first, and a retry attaches to it."""
    arn = machines.arn("nightly", asl.waiting(1))
    policy = aws_faults.add_rule(
        IamPolicy("states:StartExecution", "states:DescribeExecution", "states:ListStateMachines")
    )
    args = ("--state-machine-arn", arn, "--idempotency-key", KEY, "--json")
    first = start(*args, "--no-wait-for-completion")
    assert first.exit_code == 0, first.stderr
    retry = start(*args)
    assert retry.exit_code == 0, retry.stderr
    [row] = retry.json["results"]
    assert (row["status"], row["attached"]) == ("SUCCEEDED", True)
    assert len(machines.executions(arn)) == 1
    assert set(policy.denied) == {"states:DescribeStateMachine"}


def test_a_keyed_start_whose_answers_were_lost_finds_its_own_execution_not_attached(
    start, machines, asl, aws_faults, instant_botocore_retries
):
    """The start's answer is lost (the start reached Step Functions): core's recovery look-up
    finds the execution this attempt started, by the key's name; nothing is sent again."""
    from paradime.testing.proxy import Lost
    from paradime_aws_common.testing import server_error, when

    arn = machines.arn("nightly", asl.waiting(1))
    aws_faults.add_rule(when(Lost(server_error()), action="StartExecution", times=4))
    result = start("--state-machine-arn", arn, "--idempotency-key", KEY, "--json")
    assert result.exit_code == 0, result.stderr
    [row] = result.json["results"]
    assert (row["status"], row["attached"]) == ("SUCCEEDED", False)
    assert aws_faults.count("StartExecution") == 1
    assert len(machines.executions(arn)) == 1
