"""Reading an asynchronous invocation's outcome from the function's CloudWatch Logs.

Lambda has no status API for ordinary ``Event`` invocations. What it does write, for every
invocation, is in the function's log group:

* text format: ``START RequestId: <id> ...``, the function's own lines, ``END RequestId: <id>``
  and ``REPORT RequestId: <id> Duration: ...`` (``Status: timeout`` / ``Status: error`` and
  ``Error Type: Runtime.ExitError`` in newer runtimes when the invocation did not succeed: the
  platform's verdict, the only one for custom runtimes, which write no error line of their own);
* JSON format: ``platform.start`` and ``platform.report`` records whose ``record.requestId`` is
  the invocation's id, the report carrying ``status`` (success, failure, error, timeout).

Failures show up as ``<time> <id> Task timed out after 3.00 seconds``, ``RequestId: <id> Error:
Runtime exited ...``, Node's ``<time>\t<id>\tERROR\tInvoke Error \t{...}`` (all carrying the id),
or Python's ``[ERROR] ValueError: boom`` and Java's ``{"errorType": ...}``, which do not carry
the id: those are found by reading the invocation's own stream between its START and END lines
(an execution environment runs one invocation at a time, so those lines are its own).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_REPORT_STATUS = re.compile(r"\bStatus: (\w+)")
_REPORT_ERROR_TYPE = re.compile(r"\bError Type: (\S+)")
_TIMED_OUT = re.compile(r"(Task timed out after [\d.]+ seconds)")
_PYTHON_UNHANDLED = re.compile(r"^\[ERROR\] ([A-Za-z_][\w.]*)(?::\s?(.*))?$")
_BOUNDARY = re.compile(r"^(START|END|REPORT) RequestId: ([\w-]+)")


@dataclass(frozen=True)
class LineFact:
    """What one log line says about the invocation."""

    kind: str  # "start", "end", "report" or "failure"
    failure: str | None = None


def _json(message: str) -> dict[str, Any] | None:
    text = message.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _error_document(doc: dict[str, Any]) -> str | None:
    error_type = doc.get("errorType")
    error_message = doc.get("errorMessage")
    if error_type is None and error_message is None:
        return None
    return f"{error_type or 'Error'}: {error_message or ''}".rstrip(": ")


def _platform_fact(doc: dict[str, Any], request_id: str) -> LineFact | None:
    record = doc.get("record")
    if not isinstance(record, dict) or record.get("requestId") != request_id:
        return None
    kind = doc.get("type")
    if kind == "platform.start":
        return LineFact("start")
    if kind == "platform.report":
        status = str(record.get("status") or "success")
        if status != "success":
            error_type = record.get("errorType")
            detail = f" ({error_type})" if error_type else ""
            return LineFact("report", f"the invocation ended with status {status}{detail}")
        return LineFact("report")
    return None


def classify(message: str, request_id: str) -> LineFact | None:
    """A line found by searching the log group for the request id."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    if first.startswith(f"START RequestId: {request_id}"):
        return LineFact("start")
    if first.startswith(f"END RequestId: {request_id}"):
        return LineFact("end")
    if first.startswith(f"REPORT RequestId: {request_id}"):
        status = _REPORT_STATUS.search(first)
        if status and status.group(1).lower() != "success":
            error_type = _REPORT_ERROR_TYPE.search(first)
            detail = f" ({error_type.group(1)})" if error_type else ""
            return LineFact("report", f"the invocation ended with status {status.group(1)}{detail}")
        return LineFact("report")
    if request_id not in first:
        return None
    timed_out = _TIMED_OUT.search(first)
    if timed_out:
        return LineFact("failure", timed_out.group(1))
    runtime_error = f"RequestId: {request_id} Error: "
    if runtime_error in first:
        return LineFact("failure", first.split(runtime_error, 1)[1].strip())
    if first.startswith(f"RequestId: {request_id} "):
        # Lambda's own word on an invocation that did not complete, as custom runtimes get it
        # (after the REPORT line): "RequestId: <id> Process exited before completing request".
        return LineFact("failure", first.split(request_id, 1)[1].strip())
    if "\tERROR\tInvoke Error \t" in first:
        doc = _json(message.split("\tERROR\tInvoke Error \t", 1)[1])
        return LineFact("failure", (doc and _error_document(doc)) or "Invoke Error")
    doc = _json(message)
    if doc is not None:
        platform = _platform_fact(doc, request_id)
        if platform is not None:
            return platform
        if doc.get("requestId") == request_id and "stackTrace" in doc:
            failure = _error_document(doc)
            if failure:
                return LineFact("failure", failure)
    return None


def boundary(message: str) -> str | None:
    """The request id of a line that opens or closes an invocation (START, END, REPORT, or a
    JSON ``platform.start``/``platform.report`` record), else None."""
    match = _BOUNDARY.match(message.strip())
    if match:
        return match.group(2)
    doc = _json(message)
    record = doc.get("record") if doc is not None else None
    if (
        doc is not None
        and isinstance(record, dict)
        and str(doc.get("type")).startswith("platform.")
    ):
        request_id = record.get("requestId")
        return str(request_id) if request_id else None
    return None


def unhandled_error(message: str) -> str | None:
    """An uncaught error written by the runtime without the request id (Python, Java)."""
    text = message.strip()
    if not text:
        return None
    match = _PYTHON_UNHANDLED.match(text.splitlines()[0])
    if match:
        return f"{match.group(1)}: {match.group(2) or ''}".rstrip(": ")
    doc = _json(text)
    if doc is not None and "stackTrace" in doc:
        return _error_document(doc)
    return None
