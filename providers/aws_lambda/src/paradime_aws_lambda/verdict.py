"""How an asynchronous invocation ended, decided from its log events: the platform first.

Pure functions over log messages, no I/O. The order of evidence (docs/providers/aws-lambda.md,
*How an Event verdict is reached*, has the table and its sources):

1. **Lambda's own word.** A line Lambda writes with the request id saying the invocation did not
   complete (``Task timed out after ...``, ``RequestId: <id> Error: Runtime exited ...``); the
   JSON ``platform.report`` record's ``status`` (``success``, ``failure``, ``error``,
   ``timeout``: Lambda Telemetry API schema, ``Status``); the text ``REPORT`` line's ``Status:``
   and ``Error Type:`` fields, which Lambda writes only when the invocation did not succeed.
   A platform ``success`` decides even when the function logged an exception it handled.
2. **The runtime client's own error record**, when Lambda said nothing (text format without a
   ``Status:``): each managed runtime's client writes one for every error it reports to Lambda,
   in a shape taken from its source (see :func:`runtime_error`).
3. **Neither**: a managed runtime (whose client always writes its record) succeeded; any other
   runtime (``provided.*`` custom runtimes, container images, a runtime that could not be read)
   leaves the outcome unknown, and the verdict says so rather than guess.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

SUCCEEDED = "succeeded"
FAILED = "failed"
UNKNOWN = "unknown"

# Runtimes whose AWS runtime client logs every error it reports to Lambda (see runtime_error).
MANAGED_RUNTIMES = ("python", "nodejs", "java", "dotnet", "ruby")

# Python, text format (awslambdaric bootstrap.py, log_error): "[ERROR] Type: message", then the
# traceback, lines joined by "\r" in one event, no request id. A logged error is
# "[ERROR]\t<time>\t<id>\tmessage" (a tab, not a space, after the level).
_PYTHON_TEXT = re.compile(r"^\[ERROR\] ([A-Za-z_][\w.]*)(?::\s?(.*))?$")
# Node.js, text format (aws-lambda-nodejs-runtime-interface-client, CallbackContext.js,
# index.mjs, LogPatch.js): "<time>\t<id>\tERROR\tInvoke Error \t{...}" and the same with
# "Uncaught Exception" or "Unhandled Promise Rejection".
_NODE_TEXT = re.compile(
    r"\tERROR\t(?:Invoke Error|Uncaught Exception|Unhandled Promise Rejection) \t(\{.*)$", re.S
)
# .NET, text format (aws-lambda-dotnet, Amazon.Lambda.RuntimeSupport, LambdaBootstrap.cs
# WriteUnhandledExceptionToLog, DefaultLogMessageFormatter.cs): "<time>\t<id>\tfail\t" then the
# exception's ToString(), "Namespace.TypeException: message\n   at ...".
_DOTNET_TEXT = re.compile(r"\tfail\t([A-Za-z_][\w.`+]*(?:Exception|Error))(?:: (.*))?$")
# Go on provided.* (aws-lambda-go, lambda/invoke_loop.go reportFailure): the standard logger's
# "2024/06/01 09:15:32 " then the error document {"errorMessage":...,"errorType":...}.
_GO = re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? (\{.*\})\s*$", re.S)
# Java (aws-lambda-java-runtime-interface-client, AWSLambda.java and UserFault.reportableError):
# "<message>: <exception class>" then the stack trace, whose first line starts with the class.
_JAVA_FIRST = re.compile(r"^(.*): ([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+)$")
# Ruby (aws-lambda-ruby-runtime-interface-client, aws_lambda_ric.rb and lambda_logger.rb): one of
# these lines, then the error document pretty-printed.
_RUBY_MARKERS = (
    "Error raised from handler method",
    "Critical exception from handler",
    "Init error when loading handler",
)


@dataclass(frozen=True)
class Verdict:
    """The outcome: ``succeeded``, ``failed`` or ``unknown``, with the error or the reason."""

    outcome: str
    error: str | None = None


@dataclass(frozen=True)
class PlatformStatus:
    """Lambda's own status for an invocation (``success``, ``failure``, ``error``, ``timeout``)."""

    status: str
    error_type: str | None = None

    @property
    def message(self) -> str:
        detail = f" ({self.error_type})" if self.error_type else ""
        return f"the invocation ended with status {self.status}{detail}"


def as_json(message: str) -> dict[str, Any] | None:
    """The message as a JSON object, or None."""
    text = message.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def error_text(doc: dict[str, Any]) -> str | None:
    """``errorType: errorMessage`` of an error document, or None when it is not one."""
    error_type = doc.get("errorType")
    error_message = doc.get("errorMessage")
    if not error_type and not error_message:
        return None
    if isinstance(error_message, str) and error_message and not error_type:
        return error_message
    return f"{error_type or 'Error'}: {error_message or ''}".rstrip(": ")


def runtime_family(runtime: str | None) -> str | None:
    """The managed runtime family of a ``Runtime`` value (``python3.12`` -> ``python``), else
    None (``provided.al2023``, a container image, unknown)."""
    for family in MANAGED_RUNTIMES:
        if runtime and runtime.startswith(family):
            return family
    return None


def runtime_error(message: str, request_id: str) -> str | None:
    """The error a runtime client's own record of a failed invocation names, else None.

    Only the records a runtime client writes for an error it reports to Lambda, never a
    function's own logging: Python's ``logger.exception`` (``level`` and ``message`` keys) and
    Node's ``console.error("msg", err)`` (the error's keys beside a ``message`` string) are not
    matched. Node's ``console.error(err)`` in JSON format and .NET's JSON records are written the
    same way by a function and by its runtime: in JSON format the platform's ``status`` decides
    first, so these only give the failure its words.
    """
    text = message.strip()
    if not text:
        return None
    lines = text.splitlines()
    first = lines[0]
    doc = as_json(text)
    if doc is not None:
        return _json_record(doc, request_id)
    python = _PYTHON_TEXT.match(first)
    if python:
        return f"{python.group(1)}: {python.group(2) or ''}".rstrip(": ")
    node = _NODE_TEXT.search(text)
    if node:
        return error_text(as_json(node.group(1)) or {}) or "Invoke Error"
    dotnet = _DOTNET_TEXT.search(first)
    if dotnet:
        return f"{dotnet.group(1)}: {dotnet.group(2) or ''}".rstrip(": ")
    go = _GO.match(text)
    if go:
        return error_text(as_json(go.group(1)) or {})
    java = _JAVA_FIRST.match(first)
    if java and len(lines) > 1 and lines[1].startswith(java.group(2)):
        return lines[1].strip()
    for marker in _RUBY_MARKERS:
        if first.startswith(marker):
            rest = as_json("\n".join(lines[1:]))
            return (rest and error_text(rest)) or first
    return None


def _json_record(doc: dict[str, Any], request_id: str) -> str | None:
    owner = doc.get("requestId", doc.get("AWSRequestId"))
    if owner not in (None, "", request_id):
        return None  # another invocation's record
    if doc.get("log_level") == "ERROR" and "stackTrace" in doc:
        # Python, JSON format (bootstrap.py log_error): the error document with
        # "timestamp" and "log_level" added; logger.exception writes "level" instead.
        return error_text(doc)
    message = doc.get("message")
    level = doc.get("level")
    if level == "ERROR" and isinstance(message, dict) and "stackTrace" in message:
        # Node.js, JSON format (LogPatch.js): console.error(error) with the error as "message".
        return error_text(message)
    if level == "Error" and not message and "stackTrace" in doc:
        # .NET, JSON format (JsonLogMessageFormatter.cs): the exception, no message of its own.
        return error_text(doc)
    if level is None and "message" not in doc and "stackTrace" in doc:
        # A bare error document: Java's older runtimes, Ruby's when written in one event.
        return error_text(doc)
    return None


def decide(
    *,
    platform_failure: str | None,
    platform: PlatformStatus | None,
    runtime_failure: str | None,
    runtime: str | None,
) -> Verdict:
    """The verdict, Lambda's word first.

    :param platform_failure: a line Lambda wrote with the request id saying the invocation did
        not complete (timed out, runtime exited).
    :param platform: the ``platform.report`` status, or the text ``REPORT`` line's ``Status:``;
        None when Lambda gave none (a text ``REPORT`` without ``Status:``).
    :param runtime_failure: the error of the runtime client's own record, if one was found.
    :param runtime: the function's ``Runtime`` (``Image`` for a container image), None when
        its configuration could not be read.
    """
    if platform_failure:
        return Verdict(FAILED, platform_failure)
    if platform is not None:
        if platform.status == "success":
            return Verdict(SUCCEEDED)  # what the function logged does not overrule Lambda
        return Verdict(FAILED, runtime_failure or platform.message)
    if runtime_failure:
        return Verdict(FAILED, runtime_failure)
    if runtime_family(runtime):
        return Verdict(SUCCEEDED)
    which = (
        f"runtime {runtime}" if runtime else "function's runtime (its configuration was not read)"
    )
    return Verdict(
        UNKNOWN,
        "outcome unknown: the invocation finished, but Lambda's REPORT line gives no status and "
        f"the {which} wrote no error record paradime recognises. Set the function's log format "
        "to JSON (LoggingConfig) for Lambda's own verdict",
    )
