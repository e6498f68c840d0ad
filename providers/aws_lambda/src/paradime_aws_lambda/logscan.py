"""Reading an asynchronous invocation's outcome from the function's CloudWatch Logs.

Lambda has no status API for ordinary ``Event`` invocations. What it does write, for every
invocation, is in the function's log group:

* text format: ``START RequestId: <id> ...``, the function's own lines, ``END RequestId: <id>``
  and ``REPORT RequestId: <id> Duration: ...`` (``Status: timeout`` / ``Status: error`` and
  ``Error Type: Runtime.ExitError`` in newer runtimes when the invocation did not succeed: the
  platform's verdict, the only one for custom runtimes, which write no error line of their own);
* JSON format: ``platform.start`` and ``platform.report`` records whose ``record.requestId`` is
  the invocation's id, the report carrying ``status`` (success, failure, error, timeout).

Lambda's own failure lines carry the id: ``<time> <id> Task timed out after 3.00 seconds``,
``RequestId: <id> Error: Runtime exited ...``. The runtimes' error records (module
:mod:`paradime_aws_lambda.verdict`) often do not, and are found by reading the invocation's own
stream between its START and REPORT lines (an execution environment runs one invocation at a
time, so those lines are its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from paradime_aws_lambda.verdict import PlatformStatus, as_json

_REPORT_STATUS = re.compile(r"\bStatus: (\w+)")
_REPORT_ERROR_TYPE = re.compile(r"\bError Type: (\S+)")
_TIMED_OUT = re.compile(r"(Task timed out after [\d.]+ seconds)")
_BOUNDARY = re.compile(r"^(START|END|REPORT) RequestId: ([\w-]+)")


@dataclass(frozen=True)
class LineFact:
    """What one line Lambda wrote says about the invocation."""

    kind: str  # "start", "end", "report" or "failure"
    failure: str | None = None  # Lambda's own line saying the invocation did not complete
    status: PlatformStatus | None = None  # a report's status, when Lambda gave one


def _platform_fact(doc: dict[str, Any], request_id: str) -> LineFact | None:
    record = doc.get("record")
    if not isinstance(record, dict) or record.get("requestId") != request_id:
        return None
    kind = doc.get("type")
    if kind == "platform.start":
        return LineFact("start")
    if kind == "platform.report":
        status = record.get("status")
        if not status:
            return LineFact("report")
        error_type = record.get("errorType")
        return LineFact(
            "report", status=PlatformStatus(str(status), error_type and str(error_type))
        )
    return None


def classify(message: str, request_id: str) -> LineFact | None:
    """A line Lambda itself wrote for the invocation (found by searching for the request id):
    its start, end and report, or a failure only the platform reports. The runtime's own error
    records are :func:`paradime_aws_lambda.verdict.runtime_error`'s."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    if first.startswith(f"START RequestId: {request_id}"):
        return LineFact("start")
    if first.startswith(f"END RequestId: {request_id}"):
        return LineFact("end")
    if first.startswith(f"REPORT RequestId: {request_id}"):
        status = _REPORT_STATUS.search(first)
        if status is None:
            return LineFact("report")
        error_type = _REPORT_ERROR_TYPE.search(first)
        return LineFact(
            "report", status=PlatformStatus(status.group(1), error_type and error_type.group(1))
        )
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
    doc = as_json(message)
    return _platform_fact(doc, request_id) if doc is not None else None


def boundary(message: str) -> str | None:
    """The request id of a line that opens or closes an invocation (START, END, REPORT, or a
    JSON ``platform.start``/``platform.report`` record), else None."""
    match = _BOUNDARY.match(message.strip())
    if match:
        return match.group(2)
    doc = as_json(message)
    record = doc.get("record") if doc is not None else None
    if (
        doc is not None
        and isinstance(record, dict)
        and str(doc.get("type")).startswith("platform.")
    ):
        request_id = record.get("requestId")
        return str(request_id) if request_id else None
    return None
