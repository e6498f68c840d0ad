"""Running with exactly the documented IAM actions (docs/permissions.md), enforced at the proxy:
every other call is refused as AWS refuses it."""

from __future__ import annotations

from paradime.testing import CliResult, run_cli
from paradime_aws_common.testing import IamPolicy

# The Lambda list of the AWS Triggers documentation, as written there.
REQUIRED = ("lambda:InvokeFunction", "lambda:ListFunctions", "lambda:GetFunction")
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


def test_the_specs_list_runs_every_invocation_type_without_a_permission_warning(
    aws_faults, functions, lambda_emulator
):
    """A wait shorter than Lambda's 15 minutes reads the configuration (for the timeout
    warning): with exactly the spec's list that read is GetFunction, and nothing is refused."""
    functions.create("ml-training", Timeout=600)
    policy = aws_faults.add_rule(IamPolicy(*REQUIRED))
    runs = [
        ("--invocation-type", "RequestResponse", "--timeout-minutes", "5"),
        ("--invocation-type", "DryRun"),
        ("--invocation-type", "Event", "--no-wait-for-completion"),
    ]
    results = [invoke("--function-name", "ml-training", *args) for args in runs]
    for result in results:
        assert result.exit_code == 0, result.stderr
        assert "AccessDenied" not in result.stderr
        assert "cannot read the function's configuration" not in result.stderr
    assert policy.denied == []
    assert set(policy.seen) == {"lambda:InvokeFunction", "lambda:GetFunction"}
    # The configuration was read: the function's 10 minutes outlast the 5-minute wait.
    assert "the function's timeout (600 s) is longer than" in results[0].stderr


def test_a_policy_granting_only_get_function_configuration_is_served_without_a_warning(
    aws_faults, functions, lambda_emulator, fast_polling
):
    functions.create("custom", LoggingConfig={"LogFormat": "Text", "LogGroup": "/team/jobs"})
    only_configuration = ("lambda:InvokeFunction", "lambda:GetFunctionConfiguration")
    policy = aws_faults.add_rule(IamPolicy(*only_configuration, EVENT_TRACKING))
    result = invoke("--function-name", "custom", "--invocation-type", "Event")
    assert result.exit_code == 0, result.stderr
    [row] = result.json["results"]
    assert row["status"] == "SUCCEEDED"
    assert row["log_group"] == "/team/jobs"  # read from the configuration
    assert "cannot read the function's configuration" not in result.stderr
    assert policy.denied == ["lambda:GetFunction"]


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
    # The one action beyond the spec's list that waiting needs, and nothing else, was refused.
    assert policy.denied == [EVENT_TRACKING]
    assert "cannot read the function's configuration" not in result.stderr


def test_without_any_configuration_read_one_warning_and_the_default_log_group(
    aws_faults, functions, lambda_emulator, fast_polling
):
    functions.create("ml-training")
    policy = aws_faults.add_rule(IamPolicy("lambda:InvokeFunction", EVENT_TRACKING))
    result = invoke("--function-name", "ml-training", "--invocation-type", "Event")
    [row] = result.json["results"]
    assert row["log_group"] == "/aws/lambda/ml-training"
    assert result.stderr.count("cannot read the function's configuration") == 1
    # Without the runtime, a text REPORT line alone cannot tell success: said, not guessed.
    assert (result.exit_code, row["status"]) == (1, "STARTED")
    assert "its configuration was not read" in row["error"]
    assert policy.denied == ["lambda:GetFunction", "lambda:GetFunctionConfiguration"]


def test_log_access_is_what_event_waiting_adds(
    aws_faults, functions, lambda_emulator, fast_polling
):
    functions.create("ml-training")
    aws_faults.add_rule(IamPolicy(*REQUIRED, EVENT_TRACKING))
    result = invoke("--function-name", "ml-training", "--invocation-type", "Event")
    assert result.exit_code == 0, result.stdout
    assert result.statuses == {"ml-training": "SUCCEEDED"}
