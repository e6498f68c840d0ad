"""Running with exactly the documented IAM actions (docs/permissions.md), enforced at the proxy:
every other call is refused as AWS refuses it."""

from __future__ import annotations

from paradime.testing import CliResult, run_cli
from paradime_aws_common.testing import IamPolicy

REQUIRED = ("lambda:InvokeFunction", "lambda:ListFunctions")
EVENT_TRACKING = "logs:FilterLogEvents"


def invoke(*args: str) -> CliResult:
    return run_cli(["run", "aws-lambda-invoke", *args, "--json"])


def test_invocations_succeed_with_only_the_documented_actions(
    aws_faults, functions, lambda_emulator
):
    functions.create("data-preprocessing", "ml-training")
    policy = aws_faults.add_rule(IamPolicy(*REQUIRED))
    for invocation_type in ("RequestResponse", "DryRun"):
        result = invoke(
            "--function-name", "data-preprocessing,ml-training",
            "--invocation-type", invocation_type,
        )  # fmt: skip
        assert result.exit_code == 0, result.stdout
        assert set(result.statuses.values()) == {"SUCCEEDED"}
    started = invoke(
        "--function-name", "ml-training", "--invocation-type", "Event",
        "--no-wait-for-completion",
    )  # fmt: skip
    assert started.exit_code == 0, started.stdout
    assert started.statuses == {"ml-training": "STARTED"}
    assert policy.denied == []
    assert set(policy.seen) == {"lambda:InvokeFunction"}


def test_listing_needs_only_list_functions(aws_faults, functions, lambda_emulator):
    functions.create("data-preprocessing")
    policy = aws_faults.add_rule(IamPolicy(*REQUIRED))
    result = run_cli(["run", "aws-lambda-list-functions", "--json"])
    assert result.exit_code == 0
    assert [row["name"] for row in result.json] == ["data-preprocessing"]
    assert policy.denied == []


def test_waiting_for_an_event_invocation_without_log_access_says_which_permission(
    aws_faults, functions, lambda_emulator, fast_polling
):
    functions.create("ml-training")
    policy = aws_faults.add_rule(IamPolicy(*REQUIRED))
    result = invoke("--function-name", "ml-training", "--invocation-type", "Event")
    assert result.exit_code == 1  # waiting was asked for; the outcome is unknown
    [row] = result.json["results"]
    assert row["status"] == "STARTED"
    assert row["run_id"] == lambda_emulator.invoked("ml-training")[0].request_id
    assert row["error"].startswith(
        "completion not tracked: reading log group /aws/lambda/ml-training was denied "
        "(FilterLogEvents: AccessDeniedException: User: arn:aws:iam::123456789012:user/"
        "paradime-test is not authorized to perform: logs:FilterLogEvents"
    )
    assert "needs logs:FilterLogEvents" in row["error"]
    # The optional configuration read was refused too: the default log group was followed.
    assert policy.denied == ["lambda:GetFunctionConfiguration", EVENT_TRACKING]


def test_log_access_is_what_event_waiting_adds(
    aws_faults, functions, lambda_emulator, fast_polling
):
    functions.create("ml-training")
    aws_faults.add_rule(IamPolicy(*REQUIRED, EVENT_TRACKING))
    result = invoke("--function-name", "ml-training", "--invocation-type", "Event")
    assert result.exit_code == 0, result.stdout
    assert result.statuses == {"ml-training": "SUCCEEDED"}
