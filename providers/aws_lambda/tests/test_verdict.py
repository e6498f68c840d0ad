"""The Event verdict: Lambda's word first, then each runtime's own error record, in text and JSON
log format. Each fixture is the shape its source writes (docs/providers/aws-lambda.md, *How an
Event verdict is reached*, lists the sources with the commits read)."""

from __future__ import annotations

import json

import pytest

from paradime_aws_lambda.verdict import (
    FAILED,
    SUCCEEDED,
    UNKNOWN,
    PlatformStatus,
    decide,
    runtime_error,
)

RID = "6f2c1a9e-0b1d-4c55-9a0e-3d1f9b7c2e10"
TS = "2024-06-01T09:15:32.123Z"

# (runtime, log format, the record its runtime client writes for an uncaught error, its error)
UNCAUGHT = [
    # awslambdaric bootstrap.py log_error (text): "[ERROR] Type: message", lines joined by \r.
    (
        "python3.12", "text",
        "[ERROR] ValueError: boom\rTraceback (most recent call last):\r\u00a0 File \"/var/task/"
        'index.py", line 3, in handler',
        "ValueError: boom",
    ),
    # awslambdaric bootstrap.py log_error (JSON): the error document with timestamp, log_level.
    (
        "python3.12", "json",
        json.dumps({
            "timestamp": TS, "log_level": "ERROR", "errorMessage": "boom",
            "errorType": "ValueError", "requestId": RID, "stackTrace": ["  File ..."],
        }),
        "ValueError: boom",
    ),
    # nodejs RIC CallbackContext.js / LogPatch.js (text): "Invoke Error \t" then the error.
    (
        "nodejs20.x", "text",
        f'{TS}\t{RID}\tERROR\tInvoke Error \t{{"errorType":"TypeError","errorMessage":"x is '
        'undefined","stack":["TypeError: x is undefined","    at handler (/var/task/index.js)"]}',
        "TypeError: x is undefined",
    ),
    # nodejs RIC index.mjs: an exception thrown outside the handler's promise.
    (
        "nodejs20.x", "text",
        f'{TS}\t{RID}\tERROR\tUncaught Exception \t{{"errorType":"Error","errorMessage":"gone"}}',
        "Error: gone",
    ),
    # nodejs RIC LogPatch.js (JSON): console.error(error), the error serialised as "message".
    (
        "nodejs20.x", "json",
        json.dumps({
            "timestamp": TS, "level": "ERROR", "requestId": RID,
            "message": {"errorType": "TypeError", "errorMessage": "x is undefined",
                        "stackTrace": ["TypeError: x is undefined"]},
        }),
        "TypeError: x is undefined",
    ),
    # java RIC AWSLambda.java + UserFault.reportableError (text): "msg: class", stack trace.
    (
        "java21", "text",
        "boom: java.lang.IllegalStateException\njava.lang.IllegalStateException: boom\n"
        "\tat example.Handler.handleRequest(Handler.java:12)\n",
        "java.lang.IllegalStateException: boom",
    ),
    # Java's older runtimes (java8) and AWS's Java error-handling page: the bare error document.
    (
        "java8", "text",
        '{"errorMessage":"boom","errorType":"java.lang.RuntimeException","stackTrace":[]}',
        "java.lang.RuntimeException: boom",
    ),
    # aws-lambda-dotnet RuntimeSupport LambdaBootstrap.cs + DefaultLogMessageFormatter.cs (text).
    (
        "dotnet8", "text",
        f"{TS}\t{RID}\tfail\tSystem.InvalidOperationException: boom\n"
        "   at Example.Function.Handler(String input) in /src/Function.cs:line 12",
        "System.InvalidOperationException: boom",
    ),
    # aws-lambda-dotnet RuntimeSupport JsonLogMessageFormatter.cs (JSON): the exception alone.
    (
        "dotnet8", "json",
        json.dumps({
            "timestamp": TS, "level": "Error", "requestId": RID, "message": "",
            "errorType": "System.InvalidOperationException", "errorMessage": "boom",
            "stackTrace": ["at Example.Function.Handler(String input)"],
        }),
        "System.InvalidOperationException: boom",
    ),
    # aws-lambda-go lambda/invoke_loop.go reportFailure: log.Printf of the error document.
    (
        "provided.al2023", "text",
        '2024/06/01 09:15:32 {"errorMessage":"no such order","errorType":"errorString"}',
        "errorString: no such order",
    ),
    # ruby RIC aws_lambda_ric.rb + lambda_logger.rb: the marker line, then the document.
    (
        "ruby3.3", "text",
        'Error raised from handler method\n{\n  "errorMessage": "no implicit conversion",\n'
        '  "errorType": "Function<TypeError>",\n  "stackTrace": []\n}',
        "Function<TypeError>: no implicit conversion",
    ),
    # ...where Lambda cut the pretty-printed document into one event a line: the marker alone.
    ("ruby3.3", "text", "Error raised from handler method", "Error raised from handler method"),
]  # fmt: skip


@pytest.mark.parametrize(("runtime", "log_format", "record", "error"), UNCAUGHT)
def test_each_runtimes_own_error_record_is_recognised(runtime, log_format, record, error):
    assert runtime_error(record, RID) == error
    # With no status from Lambda (text format) the record decides...
    found = decide(platform_failure=None, platform=None, runtime_failure=error, runtime=runtime)
    assert (found.outcome, found.error) == (FAILED, error)
    # ...and with Lambda's failure status it gives the failure its words.
    failed = PlatformStatus("error", "Runtime.Unknown")
    found = decide(platform_failure=None, platform=failed, runtime_failure=error, runtime=runtime)
    assert (found.outcome, found.error) == (FAILED, error)


# Errors a function logs and handles: never a runtime's error record.
LOGGED = [
    # awslambdaric lambda_runtime_log_utils.py JsonFormatter: logger.exception in JSON format.
    json.dumps({
        "timestamp": TS, "level": "ERROR", "message": "retrying", "logger": "root",
        "stackTrace": ["  File ..."], "errorType": "TimeoutError", "errorMessage": "slow",
        "requestId": RID, "location": "/var/task/index.py:handler:9",
    }),
    # awslambdaric LambdaLoggerHandler (text): "[ERROR]\t<time>\t<id>\tmessage".
    f"[ERROR]\t{TS}\t{RID}\tretrying\rTraceback (most recent call last):",
    # nodejs RIC LogPatch.js formatJsonMessage: console.error("msg", err) in JSON format.
    json.dumps({
        "timestamp": TS, "level": "ERROR", "requestId": RID, "message": "retrying TypeError: x",
        "errorType": "TypeError", "errorMessage": "x", "stackTrace": ["TypeError: x"],
    }),
    # nodejs RIC (text): console.error("msg", err).
    f"{TS}\t{RID}\tERROR\tretrying TypeError: x\n    at handler (/var/task/index.js:3:9)",
    # aws-lambda-dotnet: context.Logger.LogError("...") with a message of its own.
    f"{TS}\t{RID}\tfail\tthe upstream answered 503, retrying",
    "plain output",
    "",
]  # fmt: skip


@pytest.mark.parametrize("line", LOGGED)
def test_an_error_the_function_only_logged_is_no_runtime_error_record(line):
    assert runtime_error(line, RID) is None


def test_a_record_of_another_invocation_is_not_this_ones():
    other = json.dumps(
        {"log_level": "ERROR", "errorType": "E", "errorMessage": "m", "requestId": "other",
         "stackTrace": []}
    )  # fmt: skip
    assert runtime_error(other, RID) is None


@pytest.mark.parametrize("runtime", ["python3.12", "nodejs20.x", "provided.al2023", None])
def test_lambdas_success_status_decides_whatever_the_function_logged(runtime):
    found = decide(
        platform_failure=None,
        platform=PlatformStatus("success"),
        runtime_failure="TimeoutError: slow",  # e.g. Node's console.error(err) in JSON format
        runtime=runtime,
    )
    assert (found.outcome, found.error) == (SUCCEEDED, None)


@pytest.mark.parametrize(
    ("platform", "platform_failure", "error"),
    [
        (PlatformStatus("timeout"), None, "the invocation ended with status timeout"),
        (
            PlatformStatus("error", "Runtime.ExitError"),
            None,
            "the invocation ended with status error (Runtime.ExitError)",
        ),
        (None, "Task timed out after 3.00 seconds", "Task timed out after 3.00 seconds"),
        (None, "Process exited before completing request", "Process exited before completing"),
    ],
)
def test_lambdas_own_failure_decides(platform, platform_failure, error):
    found = decide(
        platform_failure=platform_failure, platform=platform, runtime_failure=None, runtime=None
    )
    assert found.outcome == FAILED and found.error and found.error.startswith(error)


@pytest.mark.parametrize("runtime", ["python3.12", "nodejs22.x", "java21", "dotnet8", "ruby3.3"])
def test_a_managed_runtime_without_an_error_record_succeeded(runtime):
    found = decide(platform_failure=None, platform=None, runtime_failure=None, runtime=runtime)
    assert found.outcome == SUCCEEDED


@pytest.mark.parametrize(
    ("runtime", "named"),
    [
        ("provided.al2023", "runtime provided.al2023"),
        ("Image", "runtime Image"),
        (None, "its configuration was not read"),
    ],
)
def test_a_silent_custom_runtime_leaves_the_outcome_unknown(runtime, named):
    found = decide(platform_failure=None, platform=None, runtime_failure=None, runtime=runtime)
    assert found.outcome == UNKNOWN
    assert found.error and found.error.startswith("outcome unknown: the invocation finished")
    assert named in found.error and "log format to JSON" in found.error
