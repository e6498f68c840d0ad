"""Which state machine runs where: names, regions, versions and aliases; EXPRESS machines."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.usefixtures("fast_polling")


def test_a_name_is_resolved_to_its_arn_by_listing(start, machines, asl, aws_faults):
    arn = machines.arn("nightly", asl.passing())
    machines.arn("other", asl.failing())
    result = start("--state-machine-arn", "nightly", "--json")
    assert result.exit_code == 0, result.stderr
    row = result.json["results"][0]
    assert (row["target"], row["state_machine_arn"]) == ("nightly", arn)
    assert row["run_id"].startswith("arn:aws:states:us-east-1:123456789012:execution:nightly:")
    assert len(machines.executions(arn)) == 1


def test_names_are_looked_up_once_per_region_for_all_targets(start, machines, asl, aws_faults):
    for name in ("a", "b", "c"):
        machines.arn(name, asl.passing())
    result = start("--state-machine-arn", "a,b,c", "--json")
    assert result.statuses == {"a": "SUCCEEDED", "b": "SUCCEEDED", "c": "SUCCEEDED"}
    assert aws_faults.count("ListStateMachines") == 1


def test_an_unknown_name_is_an_error_naming_it_and_others_still_run(start, machines, asl):
    machines.arn("real", asl.passing())
    result = start("--state-machine-arn", "ghost", "--state-machine-arn", "real", "--json")
    assert result.exit_code == 1
    assert result.statuses == {"ghost": "ERROR", "real": "SUCCEEDED"}
    error = result.json["results"][0]["error"]
    assert "state machine 'ghost' does not exist in us-east-1" in error


def test_a_missing_arn_is_an_error_with_the_aws_error(start, machines, asl):
    ok = machines.arn("real", asl.passing())
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:deleted-last-week"
    result = start("--state-machine-arn", missing, "--state-machine-arn", ok, "--json")
    assert result.exit_code == 1
    assert result.statuses == {missing: "ERROR", ok: "SUCCEEDED"}
    row = result.json["results"][0]
    assert row["error"].startswith("DescribeStateMachine: StateMachineDoesNotExist:")
    assert "deleted-last-week" in row["error"]
    assert row["aws_error_code"] == "StateMachineDoesNotExist"
    assert row["run_id"] is None


def test_an_arn_runs_in_its_own_region_whatever_aws_region_says(start, machines, asl):
    arn = machines.arn("dublin", asl.passing(), region="eu-west-1")
    result = start("--state-machine-arn", arn, "--aws-region", "us-east-1", "--json")
    assert result.exit_code == 0, result.stderr
    row = result.json["results"][0]
    assert row["run_id"].startswith("arn:aws:states:eu-west-1:")
    assert "eu-west-1.console.aws.amazon.com" in row["console_url"]
    assert len(machines.executions(arn, region="eu-west-1")) == 1


def test_names_are_looked_up_in_aws_region(start, machines, asl):
    machines.arn("dublin", asl.passing(), region="eu-west-1")
    here = start("--state-machine-arn", "dublin", "--json")
    there = start("--state-machine-arn", "dublin", "--aws-region", "eu-west-1", "--json")
    assert here.statuses == {"dublin": "ERROR"}
    assert there.statuses == {"dublin": "SUCCEEDED"}


def test_a_version_arn_is_started_as_given(start, machines, asl, aws_faults, bodies):
    created = machines.create("versioned", asl.passing(), publish=True)
    version = created["stateMachineVersionArn"]
    assert version.endswith(":versioned:1")
    result = start("--state-machine-arn", version, "--json")
    assert result.exit_code == 0, result.stderr
    assert [b["stateMachineArn"] for b in bodies(aws_faults, "StartExecution")] == [version]
    # The type comes from the machine itself: versions and aliases share it.
    assert [b["stateMachineArn"] for b in bodies(aws_faults, "DescribeStateMachine")] == [
        created["stateMachineArn"]
    ]


def test_an_alias_arn_is_started_as_given(start, machines, asl, aws_faults, bodies):
    created = machines.create("aliased", asl.passing(), publish=True)
    alias = machines.client().create_state_machine_alias(
        name="live",
        routingConfiguration=[
            {"stateMachineVersionArn": created["stateMachineVersionArn"], "weight": 100}
        ],
    )["stateMachineAliasArn"]
    result = start("--state-machine-arn", alias, "--json")
    assert result.exit_code == 0, result.stderr
    assert [b["stateMachineArn"] for b in bodies(aws_faults, "StartExecution")] == [alias]


def test_the_same_machine_by_name_and_by_arn_is_refused_before_any_start(start, machines, asl):
    """Two spellings of one machine would start two executions (or, under one execution name,
    report an error no option caused): a usage error naming both, and nothing started."""
    arn = machines.arn("slow", asl.waiting(1))
    result = start(
        "--state-machine-arn", arn, "--state-machine-arn", "slow",
        "--execution-name", "shared", "--max-concurrency", "1", "--json",
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"Error: --state-machine-arn: '{arn}' and 'slow' name the same target; give it once"
    )
    assert machines.executions(arn) == []


def test_no_wait_reports_started_without_polling(start, machines, asl, aws_faults):
    arn = machines.arn("slow", asl.waiting(30))
    result = start("--state-machine-arn", arn, "--no-wait-for-completion", "--json")
    assert result.exit_code == 0, result.stderr
    row = result.json["results"][0]
    assert row["status"] == "STARTED"
    assert machines.describe(row["run_id"])["status"] == "RUNNING"
    assert aws_faults.count("DescribeExecution") == 0


# -- EXPRESS ------------------------------------------------------------------------------
def test_express_waits_with_a_synchronous_start(start, machines, asl, aws_faults):
    arn = machines.arn("quick", asl.passing(), type="EXPRESS")
    result = start("--state-machine-arn", arn, "--input", '{"id": 7}', "--json")
    assert result.exit_code == 0, result.stderr
    row = result.json["results"][0]
    assert row["status"] == "SUCCEEDED"
    assert row["output"] == {"id": 7, "result": {"greeting": "hello"}}
    assert row["state_machine_type"] == "EXPRESS"
    assert ":express:quick:" in row["run_id"]
    assert "#/express-executions/details/" in row["console_url"]
    assert aws_faults.count("StartSyncExecution") == 1
    assert aws_faults.count("StartExecution") == 0
    assert aws_faults.count("DescribeExecution") == 0


def test_express_failure_reports_error_and_cause(start, machines, asl):
    arn = machines.arn("quick-fail", asl.failing("Bad.Input", "no id given"), type="EXPRESS")
    result = start("--state-machine-arn", arn, "--json")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert (row["status"], row["error"]) == ("FAILED", "Bad.Input: no id given")


def test_express_sync_start_reaches_a_custom_endpoint_without_host_prefix(
    start, machines, asl, aws
):
    # No proxy: the CLI talks to the emulator's own URL, where a "sync-" host would not resolve.
    assert aws.env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    arn = machines.arn("quick", asl.passing(), type="EXPRESS")
    result = start("--state-machine-arn", arn, "--json")
    assert result.statuses == {arn: "SUCCEEDED"}, result.stdout


def test_express_without_wait_is_started_asynchronously(start, machines, asl, aws_faults):
    arn = machines.arn("quick", asl.passing(), type="EXPRESS")
    result = start("--state-machine-arn", arn, "--no-wait-for-completion", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {arn: "STARTED"}
    assert aws_faults.count("StartExecution") == 1
    assert aws_faults.count("StartSyncExecution") == 0


def test_a_failed_express_sync_start_is_not_repeated(start, machines, asl, aws_faults):
    from paradime_aws_common.testing import server_error, when

    arn = machines.arn("quick", asl.passing(), type="EXPRESS")
    aws_faults.add_rule(when(server_error(), action="StartSyncExecution"))
    result = start("--state-machine-arn", arn, "--json")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "ERROR"
    assert row["error"].startswith("StartSyncExecution: ServiceException")
    # It may have run: a second synchronous start could run the workflow twice.
    assert aws_faults.count("StartSyncExecution") == 1


def test_a_failed_express_start_without_waiting_is_sent_once_and_is_an_error(
    start, machines, asl, aws_faults
):
    """DescribeStateMachine before it uses botocore's retries; the EXPRESS StartExecution must
    not share that client: a retried 5xx could start the workflow twice."""
    from paradime_aws_common.testing import server_error, when

    arn = machines.arn("quick", asl.passing(), type="EXPRESS")
    aws_faults.add_rule(when(server_error(), action="StartExecution"))
    result = start("--state-machine-arn", arn, "--no-wait-for-completion", "--json")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "ERROR"
    assert row["error"].startswith("StartExecution: ServiceException")
    assert aws_faults.count("DescribeStateMachine") == 1
    assert aws_faults.count("StartExecution") == 1
    assert machines.executions(arn) == []


def test_the_execution_input_is_sent_byte_for_byte(start, machines, asl, aws_faults, bodies):
    arn = machines.arn("hello", asl.passing())
    text = '{"b": 1,   "a": [1, 2], "u": "\u00e9t\u00e9"}'
    start("--state-machine-arn", arn, "--input", text, "--json")
    assert [b["input"] for b in bodies(aws_faults, "StartExecution")] == [text]
    assert json.loads(text)["u"] == "été"
