"""No duplicate invocations, throttles retried, AWS errors reported: through the fault proxy."""

from __future__ import annotations

import time

import pytest

from paradime.engine import TRIGGER_ATTEMPTS
from paradime.testing import CliResult, run_cli
from paradime_aws_common.testing import RESET, Delay, aws_error, server_error, throttle, when

INVOKE = "/invocations"
# The configuration reads: GetFunction (GET .../functions/NAME) and GetFunctionConfiguration.
CONFIGURATION = "GET /2015-03-31/functions/"


def invoke(*args: str) -> CliResult:
    return run_cli(["run", "aws-lambda-invoke", *args])


def wait_for_invocations(emulator, count: int, limit_s: float = 10.0) -> None:
    """Let a delayed request reach the emulator before counting what it saw."""
    deadline = time.monotonic() + limit_s
    while len(emulator.invoked()) < count and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def one_second_lambda(monkeypatch):
    """Lambda's 15-minute limit scaled down to 1 s (no margin), so a test can outlast it."""
    monkeypatch.setattr("paradime_aws_lambda.runner.READ_TIMEOUT_MARGIN_S", 0.0)
    monkeypatch.setattr("paradime_aws_lambda.runner.MAX_FUNCTION_TIMEOUT_S", 1)


def test_a_slow_answer_is_never_invoked_twice(
    aws_faults, functions, lambda_emulator, one_second_lambda
):
    functions.create("slow", Timeout=1)
    aws_faults.add_rule(when(Delay(1.6), action=INVOKE))
    result = invoke("--function-name", "slow", "--json")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "ERROR"
    assert "ReadTimeoutError" in row["error"]
    assert "may have reached Lambda" in row["error"]
    assert "not retried" in row["error"]
    assert aws_faults.count(INVOKE) == 1
    wait_for_invocations(lambda_emulator, 1)
    assert len(lambda_emulator.invoked("slow")) == 1


def test_the_read_timeout_covers_the_longest_a_function_may_run(
    aws_faults, functions, lambda_emulator, monkeypatch
):
    # The same 1.6 s answer as above is simply waited for when Lambda's limit is 3 s.
    monkeypatch.setattr("paradime_aws_lambda.runner.READ_TIMEOUT_MARGIN_S", 0.0)
    monkeypatch.setattr("paradime_aws_lambda.runner.MAX_FUNCTION_TIMEOUT_S", 3)
    functions.create("patient", Timeout=3)
    aws_faults.add_rule(when(Delay(1.6), action=INVOKE))
    result = invoke("--function-name", "patient", "--json")
    assert result.exit_code == 0, result.stdout
    assert aws_faults.count(INVOKE, forwarded_only=True) == 1
    assert len(lambda_emulator.invoked("patient")) == 1


def test_a_server_error_on_invoke_is_not_retried_and_names_the_request_id(
    aws_faults, functions, lambda_emulator
):
    functions.create("fragile")
    aws_faults.add_rule(when(server_error(), action=INVOKE, times=1))
    result = invoke("--function-name", "fragile", "--json")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "ERROR"
    assert row["error"].startswith("function 'fragile': ServiceException: Internal failure")
    assert "may have reached Lambda (request id fault-" in row["error"]
    assert row["run_id"].startswith("fault-")
    assert aws_faults.count(INVOKE) == 1
    assert lambda_emulator.invoked() == []


def test_a_server_error_on_a_waited_for_event_invoke_is_sent_once(
    aws_faults, functions, lambda_emulator
):
    """The configuration read before a waited-for Event invoke uses botocore's retries; the
    invoke after it must not share that client: a retried 5xx could queue the function twice."""
    functions.create("queued")
    aws_faults.add_rule(when(server_error(), action=INVOKE))
    result = invoke("--function-name", "queued", "--invocation-type", "Event", "--json")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "ERROR"
    assert "may have reached Lambda" in row["error"]
    assert aws_faults.count(CONFIGURATION) == 1
    assert aws_faults.count(INVOKE) == 1


def test_a_dropped_connection_on_invoke_is_not_retried(aws_faults, functions, lambda_emulator):
    functions.create("dropped")
    aws_faults.add_rule(when(RESET, action=INVOKE, times=1))
    result = invoke("--function-name", "dropped", "--json")
    assert result.statuses == {"dropped": "ERROR"}
    assert "may have reached Lambda" in result.json["results"][0]["error"]
    assert aws_faults.count(INVOKE) == 1


def test_a_dry_run_may_be_repeated_after_a_server_error(
    aws_faults, functions, lambda_emulator, fast_polling
):
    functions.create("checked")
    aws_faults.add_rule(when(server_error(), action=INVOKE, times=1))
    result = invoke("--function-name", "checked", "--invocation-type", "DryRun", "--json")
    assert result.exit_code == 0, result.stdout
    assert aws_faults.count(INVOKE) == 2


def test_throttles_are_retried_with_backoff_and_invoke_once(
    aws_faults, functions, lambda_emulator, fast_polling
):
    functions.create("busy")
    aws_faults.add_rule(when(throttle("lambda"), action=INVOKE, times=2))
    result = invoke("--function-name", "busy", "--json")
    assert result.exit_code == 0, result.stdout
    assert result.statuses == {"busy": "SUCCEEDED"}
    assert "TooManyRequestsException: Rate exceeded.; retrying in" in result.stderr
    assert aws_faults.count(INVOKE) == 3
    assert aws_faults.count(INVOKE, forwarded_only=True) == 1
    assert len(lambda_emulator.invoked("busy")) == 1
    assert aws_faults.count(CONFIGURATION) == 0  # a synchronous invoke needs no configuration


def test_throttled_until_retries_run_out_is_throttled(
    aws_faults, functions, lambda_emulator, fast_polling
):
    functions.create("swamped", "calm")
    aws_faults.add_rule(
        lambda request: throttle("lambda") if "/swamped/invocations" in request.path else None
    )
    result = invoke("--function-name", "swamped,calm", "--json")
    assert result.exit_code == 1
    assert result.statuses == {"swamped": "THROTTLED", "calm": "SUCCEEDED"}
    row = result.json["results"][0]
    assert row["error"] == "function 'swamped': TooManyRequestsException: Rate exceeded."
    assert aws_faults.count("/swamped/invocations") == TRIGGER_ATTEMPTS
    assert lambda_emulator.invoked("swamped") == []


def test_access_denied_on_invoke_is_an_error_with_the_aws_code_and_message(
    aws_faults, functions, lambda_emulator
):
    functions.create("guarded")
    message = (
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
        "lambda:InvokeFunction on resource: guarded"
    )
    aws_faults.add_rule(when(aws_error("AccessDeniedException", message, 403), action=INVOKE))
    result = invoke("--function-name", "guarded", "--json")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "ERROR"
    assert row["error"] == f"function 'guarded': AccessDeniedException: {message}"
    assert row["aws_error_code"] == "AccessDeniedException"
    assert aws_faults.count(INVOKE) == 1


def test_invalid_credentials_give_every_target_an_error_row(aws_faults, functions):
    functions.create("one", "two")
    aws_faults.add_rule(
        when(
            aws_error(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
                403,
            )
        )
    )
    result = invoke("--function-name", "one,two,three", "--json")
    assert result.exit_code == 1
    assert result.statuses == {"one": "ERROR", "two": "ERROR", "three": "ERROR"}
    for row in result.json["results"]:
        assert "UnrecognizedClientException: The security token included" in row["error"]
    assert aws_faults.count(INVOKE) == 3  # final: each tried once, not retried


def test_no_permission_to_read_the_configuration_still_invokes(
    aws_faults, functions, lambda_emulator, fast_polling
):
    functions.create("least-privilege")
    denied = aws_error("AccessDeniedException", "not authorized: GetFunction", 403)
    aws_faults.add_rule(when(denied, action=CONFIGURATION))
    result = invoke("--function-name", "least-privilege", "--invocation-type", "Event", "--json")
    assert "cannot read the function's configuration (AccessDeniedException)" in result.stderr
    row = result.json["results"][0]
    assert row["log_group"] == "/aws/lambda/least-privilege"
    assert len(lambda_emulator.invoked("least-privilege")) == 1
    # Finished with nothing but a text REPORT line, and the runtime unknown: not a guess.
    assert result.exit_code == 1
    assert row["status"] == "STARTED"
    assert "its configuration was not read" in row["error"]


def test_no_answer_before_the_timeout_is_timed_out(aws_faults, functions, lambda_emulator):
    functions.create("stuck", Timeout=60)
    aws_faults.add_rule(when(Delay(3.0, forward=False), action=INVOKE))
    result = invoke("--function-name", "stuck", "--timeout-minutes", "0.01", "--json")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "TIMED_OUT"
    assert "no answer from the trigger call before the 0.01-minute timeout" in row["error"]
    assert aws_faults.count(INVOKE) == 1
