"""Running with exactly the documented IAM actions (docs/permissions.md), enforced at the proxy:
``states:StartExecution``, ``states:DescribeExecution``, ``states:ListStateMachines``. Every
other call is refused as AWS refuses it; ``DescribeStateMachine`` is then done without."""

from __future__ import annotations

import pytest

from paradime_aws_common.testing import IamPolicy

pytestmark = pytest.mark.usefixtures("fast_polling")
REQUIRED = ("states:StartExecution", "states:DescribeExecution", "states:ListStateMachines")
EXPRESS_WAITING = ("states:DescribeStateMachine", "states:StartSyncExecution")


def test_standard_machines_run_to_their_end_with_only_the_documented_actions(
    start, machines, asl, aws_faults
):
    by_arn = machines.arn("nightly-etl", asl.passing())
    machines.arn("weekly-report", asl.failing("Report.Failed", "no data for the week"))
    policy = aws_faults.add_rule(IamPolicy(*REQUIRED))
    result = start("--state-machine-arn", f"{by_arn},weekly-report", "--json")
    assert result.exit_code == 1  # weekly-report's own failure, not a permission
    assert result.statuses == {by_arn: "SUCCEEDED", "weekly-report": "FAILED"}
    failed = result.json["results"][1]
    assert failed["error"] == "Report.Failed: no data for the week"
    assert failed["state_machine_type"] == "STANDARD"
    # DescribeStateMachine is not asked again once refused (two targets may ask at once before
    # the first refusal is in); nothing else was refused.
    assert set(policy.denied) == {"states:DescribeStateMachine"}
    assert len(policy.denied) <= 2
    assert [len(machines.executions(by_arn))] == [1]


def test_a_start_of_unknown_type_is_sent_once(start, machines, asl, aws_faults):
    from paradime_aws_common.testing import server_error, when

    arn = machines.arn("nightly-etl", asl.passing())
    aws_faults.add_rule(IamPolicy(*REQUIRED))
    aws_faults.add_rule(when(server_error(), action="StartExecution"))
    result = start("--state-machine-arn", arn, "--json")
    assert result.statuses == {arn: "ERROR"}
    # It could be an EXPRESS machine, whose starts are not idempotent: never repeated.
    assert aws_faults.count("StartExecution") == 1


def test_an_express_machine_is_started_and_says_why_it_was_not_waited_for(
    start, machines, asl, aws_faults, express_arns
):
    arn = machines.arn("clickstream", asl.passing(), type="EXPRESS")
    policy = aws_faults.add_rule(IamPolicy(*REQUIRED))
    result = start("--state-machine-arn", arn, "--json")
    assert result.exit_code == 1  # waiting was asked for; the outcome is unknown
    [row] = result.json["results"]
    assert row["status"] == "STARTED"
    assert ":express:clickstream:" in row["run_id"]
    assert row["state_machine_type"] == "EXPRESS"
    assert row["error"].startswith(
        "completion not tracked: an EXPRESS execution cannot be described, and "
        "DescribeStateMachine was denied"
    )
    assert "needs states:DescribeStateMachine and states:StartSyncExecution" in row["error"]
    assert policy.denied == ["states:DescribeStateMachine"]  # it was never described
    assert "⚠️ [" + arn + "] Started; completion not tracked" in result.stderr

    not_waiting = start("--state-machine-arn", arn, "--no-wait-for-completion", "--json")
    assert not_waiting.exit_code == 0
    assert not_waiting.statuses == {arn: "STARTED"}
    assert not_waiting.json["results"][0]["error"] is None


def test_describe_state_machine_is_what_lets_an_express_machine_be_waited_for(
    start, machines, asl, aws_faults, express_arns
):
    arn = machines.arn("clickstream", asl.passing(), type="EXPRESS")
    aws_faults.add_rule(IamPolicy(*REQUIRED, *EXPRESS_WAITING))
    result = start("--state-machine-arn", arn, "--json")
    assert result.exit_code == 0, result.stdout
    assert result.statuses == {arn: "SUCCEEDED"}


def test_listing_needs_only_list_state_machines(paradime_cli, machines, asl, aws_faults):
    machines.arn("nightly-etl", asl.passing())
    policy = aws_faults.add_rule(IamPolicy(*REQUIRED))
    result = paradime_cli(["run", "aws-stepfunctions-list-state-machines", "--json"])
    assert result.exit_code == 0
    assert [row["name"] for row in result.json] == ["nightly-etl"]
    assert policy.denied == []
