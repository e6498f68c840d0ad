"""The Lambda emulator for tests: moto's server, with its Lambda gaps closed in-process.

For this package's tests and for tests that cross packages (import the fixtures
``lambda_emulator`` and ``functions`` into a ``conftest.py``). Imported only by tests: it needs
pytest and moto (``paradime-aws-common[testing]``).

moto 5.2.5 without Docker echoes the payload and nothing more. The patches below (each small,
each undone after the test) make it answer as Lambda does where the CLI depends on it:

* invoke of a missing function: moto answers 200; Lambda answers 404 ResourceNotFoundException;
* invoke reads ``qualifier`` where botocore sends ``Qualifier``: moto invokes $LATEST instead;
* request ids: Lambda's are UUIDs, known to the function (its log lines carry them); moto makes
  one up after the function has run, so the patched invoke picks it first;
* FunctionError and LogResult: moto cannot return them; a function can be scripted to fail
  (Handled or Unhandled, with errorType/errorMessage) and every invocation writes Lambda's
  START/END/REPORT lines to the function's log group and returns their last 4 KB as LogResult;
* Event invocations: the "function" writes its log lines as Lambda does (success, a Python or
  Node error, a timeout, JSON-format records, or nothing at all);
* ListFunctions: moto ignores MaxItems/Marker; the patch pages with NextMarker;
* LoggingConfig: moto drops it; the patch keeps it and reports the log group as Lambda does;
* partial ARNs (``123456789012:function:name``): moto takes them for names.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest

ACCOUNT = "123456789012"
LOG_TAIL_BYTES = 4096


@dataclass
class Behaviour:
    """How one emulated function answers.

    :param function_error: ``Handled`` or ``Unhandled`` to fail a RequestResponse invocation.
    :param result: the answer's payload (bytes); default: the request payload echoed.
    :param lines: the function's own log lines.
    :param async_outcome: what an Event invocation writes to the log group: ``success``,
        ``python-error``, ``node-error``, ``timeout``, ``runtime-exit``, ``json-success``,
        ``json-timeout``, ``logged-error`` (an error logged by a function that succeeds),
        ``running`` (started, never ends) or ``none`` (no logs, so no log group); custom
        runtimes, which write no error line of their own: ``report-error`` (the REPORT line's
        ``Status: error``), ``exit-after-report`` (``RequestId: <id> Error: Runtime exited ...``
        after the REPORT line), ``process-exited`` (``RequestId: <id> Process exited before
        completing request`` after it); other runtimes' error records: ``go-error``
        (aws-lambda-go's ``log.Printf`` of the error document, no id), ``dotnet-error`` (.NET's
        ``<time>\t<id>\tfail\t<exception>``); JSON format with Lambda's ``platform.report``:
        ``json-python-error`` (Python's uncaught error record, status ``failure``),
        ``json-logged-exception`` (Python's ``logger.exception`` record, status ``success``).
    :param after_failed_invocation: an Event invocation's lines follow, in the same stream and
        the same millisecond, those of an earlier invocation that failed.
    """

    function_error: str | None = None
    error_type: str = "ValueError"
    error_message: str = "boom"
    result: bytes | None = None
    lines: list[str] = field(default_factory=list)
    async_outcome: str = "success"
    after_failed_invocation: bool = False


@dataclass
class Invocation:
    """One invocation as the emulated Lambda received it."""

    function: str
    qualifier: str | None
    invocation_type: str
    payload: bytes
    client_context: str | None
    log_type: str | None
    request_id: str


@dataclass
class LambdaEmulator:
    """Scripted function behaviours, and what Lambda received."""

    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    invocations: list[Invocation] = field(default_factory=list)
    list_requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def behave(self, function: str, **kwargs: Any) -> Behaviour:
        behaviour = Behaviour(**kwargs)
        self.behaviours[function] = behaviour
        return behaviour

    def invoked(self, function: str | None = None) -> list[Invocation]:
        with self.lock:
            return [i for i in self.invocations if function is None or i.function == function]


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def lambda_log_lines(request_id: str, behaviour: Behaviour, version: str) -> list[str]:
    """An invocation's log lines, as Lambda's Python and Node runtimes write them."""
    rid = request_id
    start = f"START RequestId: {rid} Version: {version}"
    end = f"END RequestId: {rid}"
    report = (
        f"REPORT RequestId: {rid}\tDuration: 12.34 ms\tBilled Duration: 13 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 40 MB"
    )
    own = [f"[INFO]\t{_now_iso()}\t{rid}\t{line}" for line in behaviour.lines]
    outcome = behaviour.async_outcome
    if outcome == "python-error":
        error = (
            f"[ERROR] {behaviour.error_type}: {behaviour.error_message}\n"
            "Traceback (most recent call last):\n"
            '  File "/var/task/index.py", line 3, in handler\n'
            f"    raise {behaviour.error_type}({behaviour.error_message!r})"
        )
        return [start, *own, error, end, report]
    if outcome == "node-error":
        doc = json.dumps(
            {
                "errorType": behaviour.error_type,
                "errorMessage": behaviour.error_message,
                "stack": [f"{behaviour.error_type}: {behaviour.error_message}"],
            }
        )
        return [start, *own, f"{_now_iso()}\t{rid}\tERROR\tInvoke Error \t{doc}", end, report]
    if outcome == "timeout":
        timed_out = f"{_now_iso()} {rid} Task timed out after 3.00 seconds"
        return [start, *own, timed_out, end, report + "\tStatus: timeout"]
    if outcome == "runtime-exit":
        exited = f"RequestId: {rid} Error: Runtime exited with error: exit status 1"
        return [start, *own, exited, "Runtime.ExitError", end, report]
    if outcome == "report-error":
        return [start, *own, end, report + "\tStatus: error\tError Type: Runtime.ExitError"]
    if outcome == "exit-after-report":
        exited = f"RequestId: {rid} Error: Runtime exited with error: exit status 2"
        return [start, *own, end, report, exited, "Runtime.ExitError"]
    if outcome == "process-exited":
        return [
            start,
            *own,
            end,
            report,
            f"RequestId: {rid} Process exited before completing request",
        ]
    if outcome == "running":
        return [start, *own]
    if outcome == "logged-error":
        logged = f"[ERROR]\t{_now_iso()}\t{rid}\tretrying the upstream call"
        return [start, *own, logged, end, report]
    if outcome == "go-error":
        doc = json.dumps({"errorMessage": behaviour.error_message, "errorType": "errorString"})
        stamp = datetime.now(timezone.utc).strftime("%Y/%m/%d %H:%M:%S")
        return [start, *own, f"{stamp} {doc}", end, report]
    if outcome == "dotnet-error":
        exception = f"System.{behaviour.error_type}: {behaviour.error_message}\n   at Handler()"
        return [start, *own, f"{_now_iso()}\t{rid}\tfail\t{exception}", end, report]
    if outcome.startswith("json-"):
        return _json_log_lines(rid, behaviour, version)
    return [start, *own, end, report]


def _json_log_lines(rid: str, behaviour: Behaviour, version: str) -> list[str]:
    """JSON log format: Lambda's platform records around the Python runtime's own."""
    outcome = behaviour.async_outcome
    status = {"json-timeout": "timeout", "json-python-error": "failure"}.get(outcome, "success")
    error = {
        "errorType": behaviour.error_type,
        "errorMessage": behaviour.error_message,
        "stackTrace": ['  File "/var/task/index.py", line 3, in handler'],
        "requestId": rid,
    }
    own: list[dict[str, Any]] = []
    if outcome == "json-python-error":
        own = [{"timestamp": _now_iso(), "log_level": "ERROR", **error}]
    if outcome == "json-logged-exception":
        logged = {"level": "ERROR", "message": "retrying", "logger": "root"}
        own = [{"timestamp": _now_iso(), **logged, **error}]
    report: dict[str, Any] = {"requestId": rid, "status": status}
    if status == "failure":
        report["errorType"] = behaviour.error_type
    records = [
        {
            "time": _now_iso(),
            "type": "platform.start",
            "record": {"requestId": rid, "version": version},
        },
        *own,
        {"time": _now_iso(), "type": "platform.report", "record": report},
    ]
    return [json.dumps(r) for r in records]


def paged_log_reads(logs: Any, empty_pages: int = 0, page_size: int = 1) -> Any:
    """A fault-proxy rule answering ``FilterLogEvents`` as a busy log group does: first
    ``empty_pages`` pages with no event but a ``nextToken``, then the emulator's own events,
    ``page_size`` a page. ``logs`` is a CloudWatch Logs client straight to the emulator."""
    from paradime.testing.proxy import ProxyRequest, Reply

    def rule(request: ProxyRequest) -> Reply | None:
        if request.action != "FilterLogEvents":
            return None
        query = json.loads(request.body or b"{}")
        token = query.pop("nextToken", None)
        position = int(token.rsplit("-", 1)[1]) if token else 0
        events = logs.filter_log_events(**query).get("events", [])
        first = max(0, position - empty_pages)
        page = events[first : first + page_size] if position >= empty_pages else []
        following = position + 1 if position < empty_pages else position + len(page)
        answer: dict[str, Any] = {"events": page, "searchedLogStreams": []}
        if following < empty_pages + len(events):
            answer["nextToken"] = f"page-{following}"
        headers = {"Content-Type": "application/x-amz-json-1.1"}
        return Reply(200, json.dumps(answer).encode(), headers)

    return rule


def _write_logs(fn: Any, group: str, lines: list[str]) -> None:
    from moto.core.utils import unix_time_millis

    backend = fn.logs_backend
    backend.ensure_log_group(group)
    date = datetime.now(timezone.utc)
    stream = f"{date:%Y/%m/%d}/[{fn.version}]{uuid.uuid4().hex}"
    backend.create_log_stream(group, stream)
    now = int(unix_time_millis())
    backend.put_log_events(group, stream, [{"timestamp": now, "message": m} for m in lines])


def _log_group(fn: Any) -> str:
    logging_config = getattr(fn, "_logging_config", None) or {}
    return str(logging_config.get("LogGroup") or f"/aws/lambda/{fn.function_name}")


# Per moto request thread: the request id picked for the response, the invoke's Qualifier.
_pending = threading.local()


@pytest.fixture
def lambda_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaEmulator]:
    """Patch moto's Lambda (see the module docstring) and return the scripting handle."""
    import moto.core.responses
    from moto.awslambda.models import LambdaFunction, LambdaStorage
    from moto.awslambda.responses import LambdaResponse
    from moto.awslambda_simple.models import LambdaSimpleBackend

    emulator = LambdaEmulator()
    original_invoke = LambdaSimpleBackend.invoke

    def invoke(
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        qualifier = qualifier or getattr(_pending, "qualifier", None)
        fn = self.get_function(function_name, qualifier)  # raises ResourceNotFoundException
        request_id = str(uuid.uuid4())
        _pending.request_id = request_id
        invocation_type = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        data = body if isinstance(body, bytes) else (body or "").encode()
        with emulator.lock:
            emulator.invocations.append(
                Invocation(
                    fn.function_name,
                    qualifier,
                    invocation_type,
                    data,
                    headers.get("X-Amz-Client-Context"),
                    headers.get("X-Amz-Log-Type"),
                    request_id,
                )
            )
        if invocation_type == "DryRun":
            return b""
        behaviour = emulator.behaviours.get(fn.function_name, Behaviour())
        version = "$LATEST" if fn.version in (None, "$LATEST") else str(fn.version)
        if invocation_type == "Event":
            if behaviour.async_outcome != "none":
                lines = lambda_log_lines(request_id, behaviour, version)
                if behaviour.after_failed_invocation:
                    earlier = Behaviour(async_outcome="python-error", error_message="earlier")
                    lines = lambda_log_lines(str(uuid.uuid4()), earlier, version) + lines
                _write_logs(fn, _log_group(fn), lines)
            return b""
        sync = Behaviour(
            lines=behaviour.lines,
            error_type=behaviour.error_type,
            error_message=behaviour.error_message,
            async_outcome="python-error" if behaviour.function_error else "success",
        )
        lines = lambda_log_lines(request_id, sync, version)
        _write_logs(fn, _log_group(fn), lines)
        log_text = "\n".join(lines) + "\n"
        tail = log_text.encode()[-LOG_TAIL_BYTES:]
        response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
        response_headers["x-amz-executed-version"] = version
        if behaviour.function_error:
            response_headers["x-amz-function-error"] = behaviour.function_error
            return json.dumps(
                {
                    "errorMessage": behaviour.error_message,
                    "errorType": behaviour.error_type,
                    "requestId": request_id,
                    "stackTrace": ['  File "/var/task/index.py", line 3, in handler\n'],
                }
            ).encode()
        if behaviour.result is not None:
            return behaviour.result
        result: Any = original_invoke(
            self, function_name, qualifier, body, headers, response_headers
        )
        return result if isinstance(result, bytes) else (result or b"")

    original_invoke_response = LambdaResponse.invoke

    def invoke_response(self: Any) -> Any:
        _pending.qualifier = self.querystring.get("Qualifier", [None])[0]
        try:
            return original_invoke_response(self)
        finally:
            _pending.qualifier = None

    responses: Any = moto.core.responses  # moto does not re-export the name for type checkers
    original_request_id = responses.gen_amzn_requestid_long

    def request_id(headerdict: dict[str, Any] | None = None) -> str:
        pending = getattr(_pending, "request_id", None)
        if pending is None:
            return str(original_request_id(headerdict))
        _pending.request_id = None
        if headerdict is not None:
            headerdict["x-amzn-requestid"] = pending
        return str(pending)

    def list_functions(self: Any) -> str:
        with emulator.lock:
            emulator.list_requests += 1
        limit = min(int(self.querystring.get("MaxItems", ["50"])[0]), 50)
        marker = self.querystring.get("Marker", [None])[0]
        functions = sorted(self.backend.list_functions(), key=lambda f: f.function_name)
        start = int(marker) if marker else 0
        page = functions[start : start + limit]
        result: dict[str, Any] = {"Functions": [fn.get_configuration() for fn in page]}
        if start + limit < len(functions):
            result["NextMarker"] = str(start + limit)
        return json.dumps(result)

    original_init = LambdaFunction.__init__
    original_configuration = LambdaFunction.get_configuration

    def init(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kw: Any) -> None:
        original_init(self, account_id, spec, *args, **kw)
        self._logging_config = spec.get("LoggingConfig")

    def get_configuration(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = dict(original_configuration(self, *args, **kwargs))
        given = getattr(self, "_logging_config", None) or {}
        config["LoggingConfig"] = {
            "LogFormat": given.get("LogFormat", "Text"),
            "LogGroup": _log_group(self),
        }
        return config

    original_lookup = LambdaStorage.get_function_by_name_or_arn_with_qualifier

    def lookup(self: Any, name_or_arn: str, qualifier: str | None = None) -> Any:
        parts = name_or_arn.split(":")
        if len(parts) >= 3 and parts[1] == "function" and parts[0].isdigit():
            name_or_arn = ":".join(parts[2:])
        return original_lookup(self, name_or_arn, qualifier)

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    monkeypatch.setattr(moto.core.responses, "gen_amzn_requestid_long", request_id)
    monkeypatch.setattr(LambdaResponse, "invoke", invoke_response)
    monkeypatch.setattr(LambdaResponse, "list_functions", list_functions)
    monkeypatch.setattr(LambdaFunction, "__init__", init)
    monkeypatch.setattr(LambdaFunction, "get_configuration", get_configuration)
    monkeypatch.setattr(LambdaStorage, "get_function_by_name_or_arn_with_qualifier", lookup)
    yield emulator
    _pending.request_id = None


# -- arranging functions -------------------------------------------------------------------
def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


CODE = _code()


@dataclass
class Functions:
    """Creates functions in the emulator through its API, as a user's deployment would."""

    aws: Any

    def role(self) -> str:
        iam = self.aws.client("iam")
        try:
            return str(iam.get_role(RoleName="paradime-test")["Role"]["Arn"])
        except iam.exceptions.NoSuchEntityException:
            return str(
                iam.create_role(RoleName="paradime-test", AssumeRolePolicyDocument="{}")["Role"][
                    "Arn"
                ]
            )

    def create(self, *names: str, region: str | None = None, **spec: Any) -> list[str]:
        client = self.aws.client("lambda", region)
        role = self.role()
        arns = []
        for name in names:
            request = {"Runtime": "python3.12", "Handler": "index.handler", **spec}
            created = client.create_function(
                FunctionName=name, Role=role, Code={"ZipFile": CODE}, **request
            )
            arns.append(str(created["FunctionArn"]))
        return arns


@pytest.fixture
def functions(aws: Any) -> Functions:
    return Functions(aws)
