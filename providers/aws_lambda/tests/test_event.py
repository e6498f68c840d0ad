"""Event invocations: STARTED without waiting, followed through CloudWatch Logs with waiting.

The emulated functions write their log lines in Lambda's formats (see conftest.py); what the CLI
reports is read from the emulator's CloudWatch Logs over HTTP.
"""

from __future__ import annotations

import pytest

from paradime.testing import CliResult, run_cli
from paradime_aws_common.testing import aws_error, throttle, when
from paradime_aws_lambda.testing import paged_log_reads

FILTER = "FilterLogEvents"


def invoke_event(*args: str) -> CliResult:
    return run_cli(["run", "aws-lambda-invoke", "--invocation-type", "Event", *args])


def test_event_without_waiting_is_started_with_the_request_id(functions, lambda_emulator):
    functions.create("fire")
    result = invoke_event(
        "--function-name", "fire", "--payload", '{"k": 1}', "--no-wait-for-completion", "--json"
    )
    assert result.exit_code == 0, result.stdout
    row = result.json["results"][0]
    assert row["status"] == "STARTED"
    (seen,) = lambda_emulator.invoked("fire")
    assert seen.invocation_type == "Event"
    assert seen.payload == b'{"k": 1}'
    assert row["run_id"] == seen.request_id
    assert row["log_group"] == "/aws/lambda/fire"


def test_event_waited_for_succeeds_when_its_end_and_report_lines_appear(
    functions, lambda_emulator, fast_polling
):
    functions.create("nightly")
    lambda_emulator.behave("nightly", lines=["processed 1200 records"])
    result = invoke_event("--function-name", "nightly", "--json")
    assert result.exit_code == 0, result.stdout
    row = result.json["results"][0]
    assert row["status"] == "SUCCEEDED"
    assert row["run_id"] == lambda_emulator.invoked("nightly")[0].request_id
    assert row["log_group"] == "/aws/lambda/nightly"
    assert "[$LATEST]" in row["log_stream"]


@pytest.mark.parametrize(
    ("outcome", "error"),
    [
        ("python-error", "ValueError: boom"),
        ("node-error", "ValueError: boom"),
        ("timeout", "Task timed out after 3.00 seconds"),
        ("runtime-exit", "Runtime exited with error: exit status 1"),
        ("json-timeout", "the invocation ended with status timeout"),
    ],
)
def test_event_waited_for_fails_on_the_functions_error_lines(
    functions, lambda_emulator, fast_polling, outcome, error
):
    functions.create("flaky", "steady")
    lambda_emulator.behave("flaky", async_outcome=outcome)
    result = invoke_event("--function-name", "flaky,steady", "--json")
    assert result.exit_code == 1
    assert result.statuses == {"flaky": "FAILED", "steady": "SUCCEEDED"}
    assert result.json["results"][0]["error"] == error


@pytest.mark.parametrize("outcome", ["json-success", "logged-error"])
def test_event_waited_for_succeeds_in_json_format_and_despite_logged_errors(
    functions, lambda_emulator, fast_polling, outcome
):
    functions.create("fine")
    lambda_emulator.behave("fine", async_outcome=outcome)
    result = invoke_event("--function-name", "fine", "--json")
    assert result.exit_code == 0, result.stdout
    assert result.statuses == {"fine": "SUCCEEDED"}


# -- the verdict: Lambda's word first, then each runtime's own error record ----------------------
@pytest.mark.parametrize(
    ("runtime", "outcome", "error"),
    [
        ("provided.al2023", "go-error", "errorString: boom"),
        ("dotnet8", "dotnet-error", "System.ValueError: boom"),
        ("python3.12", "json-python-error", "ValueError: boom"),
    ],
)
def test_event_fails_on_each_runtimes_own_error_record(
    functions, lambda_emulator, fast_polling, runtime, outcome, error
):
    """Go on provided.* writes its error document with no request id, .NET its exception on a
    ``fail`` line: both are failures Lambda retries. In JSON format Lambda's failure status
    decides and the runtime's record gives the words."""
    functions.create("worker", Runtime=runtime)
    lambda_emulator.behave("worker", async_outcome=outcome)
    result = invoke_event("--function-name", "worker", "--json")
    assert result.exit_code == 1, result.stdout
    [row] = result.json["results"]
    assert (row["status"], row["error"]) == ("FAILED", error)


def test_an_exception_logged_and_handled_is_no_failure_when_lambda_says_success(
    functions, lambda_emulator, fast_polling
):
    """Python's logger.exception in JSON format puts requestId, errorType and stackTrace at the
    top level; Lambda's platform.report says success, and that decides."""
    functions.create("careful", LoggingConfig={"LogFormat": "JSON"})
    lambda_emulator.behave("careful", async_outcome="json-logged-exception")
    result = invoke_event("--function-name", "careful", "--json")
    assert result.exit_code == 0, result.stdout
    assert result.statuses == {"careful": "SUCCEEDED"}


def test_a_silent_custom_runtime_ends_saying_the_outcome_is_unknown(
    functions, lambda_emulator, fast_polling
):
    """A custom runtime that writes nothing recognisable, in text format where the REPORT line
    of a success carries no status: not a guessed SUCCEEDED."""
    functions.create("rusty", Runtime="provided.al2023")
    result = invoke_event("--function-name", "rusty", "--json")
    assert result.exit_code == 1, result.stdout
    [row] = result.json["results"]
    assert row["status"] == "STARTED"
    assert row["run_id"] == lambda_emulator.invoked("rusty")[0].request_id
    assert row["error"].startswith(
        "outcome unknown: the invocation finished, but Lambda's REPORT line gives no status and "
        "the runtime provided.al2023 wrote no error record paradime recognises"
    )
    assert "[rusty] Started; outcome unknown" in result.stderr


def test_an_earlier_invocations_error_in_the_same_stream_is_not_this_ones(
    functions, lambda_emulator, fast_polling
):
    functions.create("reused")
    lambda_emulator.behave("reused", after_failed_invocation=True)
    result = invoke_event("--function-name", "reused", "--json")
    assert result.exit_code == 0, result.stdout
    assert result.statuses == {"reused": "SUCCEEDED"}


def test_a_custom_log_group_is_followed(functions, lambda_emulator, fast_polling):
    functions.create("custom", LoggingConfig={"LogFormat": "Text", "LogGroup": "/team/jobs"})
    lambda_emulator.behave("custom", async_outcome="python-error")
    result = invoke_event("--function-name", "custom", "--json")
    row = result.json["results"][0]
    assert row["status"] == "FAILED"
    assert row["log_group"] == "/team/jobs"


def test_a_log_group_that_appears_late_is_waited_for(
    aws_faults, functions, lambda_emulator, fast_polling
):
    functions.create("cold")
    missing = aws_error("ResourceNotFoundException", "The specified log group does not exist.", 400)
    aws_faults.add_rule(when(missing, action=FILTER, times=2))
    result = invoke_event("--function-name", "cold", "--json")
    assert result.exit_code == 0, result.stdout
    assert result.statuses == {"cold": "SUCCEEDED"}
    assert "log group /aws/lambda/cold does not exist yet" in result.stderr
    assert aws_faults.count(FILTER) >= 3


def test_no_log_group_ends_started_saying_completion_is_unknown(
    functions, lambda_emulator, fast_polling, monkeypatch
):
    monkeypatch.setattr("paradime_aws_lambda.runner.LOG_GROUP_GRACE_S", 0.0)
    functions.create("silent")
    lambda_emulator.behave("silent", async_outcome="none")
    result = invoke_event("--function-name", "silent", "--json")
    assert result.exit_code == 1  # waiting was asked for, and success is unknown
    row = result.json["results"][0]
    assert row["status"] == "STARTED"
    assert row["run_id"] == lambda_emulator.invoked("silent")[0].request_id
    assert row["error"].startswith(
        "completion not tracked: log group /aws/lambda/silent does not exist 0 s after the "
        "invocation"
    )
    assert "needs logs:FilterLogEvents on the function's log group" in row["error"]
    # The console says so too, not "not waiting for completion": waiting was asked for.
    assert "⚠️ [silent] Started; completion not tracked: log group" in result.stderr
    assert "not waiting for completion" not in result.stderr


def test_logs_we_may_not_read_end_started_saying_why(
    aws_faults, functions, lambda_emulator, fast_polling
):
    functions.create("private")
    denied = aws_error("AccessDeniedException", "not authorized to perform: logs:Filter", 400)
    aws_faults.add_rule(when(denied, action=FILTER))
    result = invoke_event("--function-name", "private", "--json")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "STARTED"
    assert row["error"].startswith(
        "completion not tracked: reading log group /aws/lambda/private was denied "
        "(FilterLogEvents: AccessDeniedException: not authorized to perform: logs:Filter)"
    )
    assert "needs logs:FilterLogEvents" in row["error"]
    assert aws_faults.count(FILTER) == 1  # concluded at the first refusal
    assert "⚠️ [private] Started; completion not tracked: reading log group" in result.stderr


def test_throttled_log_reads_are_retried(aws_faults, functions, lambda_emulator, fast_polling):
    functions.create("popular")
    aws_faults.add_rule(when(throttle("logs"), action=FILTER, times=2))
    result = invoke_event("--function-name", "popular", "--json")
    assert result.exit_code == 0, result.stdout
    assert len(lambda_emulator.invoked("popular")) == 1


def test_an_invocation_still_running_at_the_timeout_is_timed_out(
    functions, lambda_emulator, fast_polling
):
    functions.create("endless")
    lambda_emulator.behave("endless", async_outcome="running")
    result = invoke_event("--function-name", "endless", "--timeout-minutes", "0.05", "--json")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "TIMED_OUT"
    assert row["run_id"] == lambda_emulator.invoked("endless")[0].request_id
    assert "still running at the 0.05-minute timeout" in row["error"]
    assert "cannot stop its runs" in row["error"]
    assert "--cancel-on-exit" not in row["error"]


# -- custom runtimes, busy log groups, the FilterLogEvents quota ---------------------------------
@pytest.mark.parametrize(
    ("outcome", "error"),
    [
        ("report-error", "the invocation ended with status error (Runtime.ExitError)"),
        ("exit-after-report", "Runtime exited with error: exit status 2"),
        ("process-exited", "Process exited before completing request"),
    ],
)
def test_a_failure_only_the_platform_reports_is_failed_whatever_the_pages(
    aws, aws_faults, functions, lambda_emulator, fast_polling, outcome, error
):
    """Custom runtimes write no error line of their own: Lambda's REPORT line (or its line just
    after) is the only word on the outcome, and it may come on a later page than END."""
    functions.create("custom", Runtime="provided.al2023")
    lambda_emulator.behave("custom", async_outcome=outcome)
    aws_faults.add_rule(paged_log_reads(aws.client("logs"), page_size=1))
    result = invoke_event("--function-name", "custom", "--json")
    assert result.exit_code == 1, result.stdout
    row = result.json["results"][0]
    assert row["status"] == "FAILED"
    assert error in row["error"]


def test_the_end_of_an_invocation_is_found_past_empty_pages_of_a_busy_log_group(
    aws, aws_faults, functions, lambda_emulator
):
    """FilterLogEvents may answer empty pages with a nextToken while it searches a busy group:
    on the production poll schedule (a poll every 2 s at first), 8 empty pages before the
    invocation's 3 lines are read within a 12 s wait."""
    functions.create("busy")
    aws_faults.add_rule(paged_log_reads(aws.client("logs"), empty_pages=8))
    result = invoke_event("--function-name", "busy", "--timeout-minutes", "0.2", "--json")
    assert result.exit_code == 0, result.stdout
    assert result.statuses == {"busy": "SUCCEEDED"}
    assert aws_faults.count(FILTER) >= 11  # every page was read, none skipped


def test_log_reads_keep_to_the_filterlogevents_quota(aws_faults, functions, lambda_emulator):
    """FilterLogEvents allows 5 requests/s per account and region: 24 invocations followed at
    once, on the production schedule, never ask for more (a burst of 5 aside)."""
    names = [f"job{i:02d}" for i in range(24)]
    functions.create(*names)
    for name in names:
        lambda_emulator.behave(name, async_outcome="running")
    result = invoke_event("--function-name", ",".join(names), "--timeout-minutes", "0.1")
    assert result.exit_code == 1
    reads = [r.at for r in aws_faults.requests if r.action == FILTER]
    span = reads[-1] - reads[0]
    assert len(reads) > 10 and span > 2
    # A bucket of 5 a second with a burst of 5 grants at most 5 + 5 * T in any T seconds; the
    # proxy sees requests a little after they were granted, so a loaded machine can squeeze the
    # span it measures: half a second of room for that.
    assert len(reads) <= 5 * (span + 0.5) + 5 + 1, (len(reads), span)
