"""The Lambda operations: invoke functions, follow asynchronous invocations, list functions.

Imported only when a command runs (it pulls in botocore through :mod:`paradime_aws_common`).

No duplicate invocations: an ``Invoke`` is sent with botocore's retries off and a read timeout
longer than any function may run (Lambda's 15-minute maximum plus a margin), because botocore's
default 60 s timeout plus its retries would invoke a long-running function again. The function's
configuration is not read first: that would double the calls per target, and Lambda's
control-plane quota (far below its invoke quota) would throttle large fan-outs; the command's
deadline still bounds the wait. Only an Event invocation that is waited for reads it, for the
log group to follow, and any waited-for invocation when ``--timeout-minutes`` is shorter than
Lambda's 15-minute limit, to warn when the function may outlast the wait. Only a throttle
(Lambda refused the call) is retried, by core, with backoff; a 5xx, a dropped connection or a
read timeout may have reached Lambda, so the run ends ``ERROR`` with a message saying so and the
request id when one is known.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from paradime.api import (
    Lister,
    Page,
    Prepared,
    RunContext,
    RunError,
    Runner,
    RunState,
    RunStatus,
    UsageError,
)
from paradime_aws_common.errors import error_code, http_status, is_transient, to_run_error
from paradime_aws_common.session import READ_TIMEOUT_S, AwsSession, console_url
from paradime_aws_lambda import logscan, verdict
from paradime_aws_lambda.inputs import Payload, check_payload_size
from paradime_aws_lambda.targets import FunctionRef, parse_function

# Lambda stops a function after at most 15 minutes; a synchronous answer may also wait for a
# cold start and the network, hence the margin on top of the function's configured timeout.
MAX_FUNCTION_TIMEOUT_S = 900
READ_TIMEOUT_MARGIN_S = 30.0
# A function's log group appears when it first runs, within seconds of a first invocation: until
# this long after an Event invocation a missing group means "not run yet", after it "no logs to
# follow" (a function that logs nowhere, or elsewhere), said without a minute's wait.
LOG_GROUP_GRACE_S = 15.0
# Log events are searched from a little before the invocation, for clock skew.
LOG_SEARCH_SKEW_MS = 60_000
LIST_PAGE_SIZE = 50
# A busy log group may answer empty pages with a nextToken: one poll follows this many pages at
# most (each beyond the first drawn from the command's rate cap), the next poll goes on.
MAX_PAGES_PER_POLL = 5
# REPORT follows END; should it never come, END decides after this long.
REPORT_WAIT_S = 60.0
# Lambda writes some verdicts just after the REPORT line ("RequestId: <id> Error: ...").
TRAILING_LINES_MS = 1000
_DENIED = ("AccessDeniedException", "AccessDenied")


@dataclass(frozen=True)
class InvokeSettings:
    """The invocation's options, checked before any AWS call."""

    invocation_type: str
    payload: Payload | None
    qualifier: str | None
    client_context: str | None
    log_tail: bool

    @classmethod
    def from_params(cls, params: Mapping[str, Any], context: RunContext) -> InvokeSettings:
        payload = params.get("payload")
        payload_file = params.get("payload_file")
        if payload is not None and payload_file is not None:
            raise UsageError("--payload and --payload-file cannot be used together; give one")
        invocation_type = params.get("invocation_type") or "RequestResponse"
        chosen: Payload | None = payload if payload is not None else payload_file
        check_payload_size(chosen, invocation_type)
        settings = cls(
            invocation_type=invocation_type,
            payload=chosen,
            qualifier=params.get("qualifier"),
            client_context=params.get("client_context"),
            log_tail=(params.get("log_type") or "None") == "Tail",
        )
        return settings

    def warn(self, context: RunContext) -> None:
        """Say which given options Lambda ignores for this invocation type."""
        sync = self.invocation_type == "RequestResponse"
        if self.log_tail and not sync:
            context.logger.warning(
                f"--log-type Tail has no effect on {self.invocation_type} invocations: "
                "Lambda returns logs only to RequestResponse invocations"
            )
        if self.client_context and not sync:
            context.logger.warning(
                f"--client-context is not passed to {self.invocation_type} invocations: "
                "Lambda gives it to synchronous invocations only"
            )
        if sync and not context.wait:
            context.logger.info(
                "RequestResponse invocations answer when the function has finished; "
                "use --invocation-type Event not to wait for the function"
            )


def _decode_payload(data: bytes) -> Any:
    """The function's answer: JSON when it is JSON, else text."""
    if not data:
        return None
    text = data.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested beyond what Python parses
        return text


def _function_error(function_error: str, output: Any) -> str:
    if isinstance(output, dict) and ("errorType" in output or "errorMessage" in output):
        error_type = output.get("errorType") or "Error"
        message = output.get("errorMessage")
        text = f"{error_type}: {message}" if message else str(error_type)
    elif output is None:
        text = "the function returned no error document"
    else:
        text = output if isinstance(output, str) else json.dumps(output)
    return f"{text} (function error: {function_error})"


def _decode_log(log_result: str) -> str:
    try:
        return base64.b64decode(log_result).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return log_result


def _function_console_url(region: str, name: str, qualifier: str | None) -> str | None:
    fragment = f"#/functions/{name}"
    if qualifier and qualifier != "$LATEST":
        kind = "versions" if qualifier.isdigit() else "aliases"
        fragment += f"/{kind}/{qualifier}"
    return console_url(region, "lambda", fragment)


@dataclass
class EventTrace:
    """The run handle of a followed Event invocation: where its log lines are, and what the
    reads so far found. Each poll works on a copy (``dataclasses.replace``)."""

    request_id: str
    region: str
    log_group: str
    invoked_at: float  # epoch seconds
    since_ms: int  # the search starts here, a little before the invocation
    phase: str = "search"  # search: lines with the request id; inspect: its own stream
    next_token: str | None = None
    # (log stream, timestamp in ms) of the START, END and REPORT lines once seen
    start: tuple[str, int] | None = None
    end: tuple[str, int] | None = None
    end_seen_at: float = field(default=0.0)
    report: tuple[str, int] | None = None
    failure: str | None = None  # Lambda's own line with the request id saying it failed
    platform: verdict.PlatformStatus | None = None  # the report's status, when Lambda gave one
    runtime: str | None = None  # the function's Runtime ("Image"), None when not read
    runtime_failure: str | None = None  # a runtime's error record carrying the request id
    # inspect phase: the stream and time window read, an error line without the request id
    # that may be this invocation's, and whether its REPORT line was passed
    stream: str = ""
    start_ms: int = 0
    end_ms: int = 0
    candidate: str | None = None
    reported: bool = False


@dataclass(frozen=True)
class _Invoke:
    """What an invocation needs, from ``prepare`` (``Prepared.data``)."""

    ref: FunctionRef
    region: str
    qualifier: str | None
    request: dict[str, Any]
    config: Mapping[str, Any] | None


class FunctionRunner(Runner):
    """``aws-lambda-invoke``: one invocation per target."""

    def __init__(self, params: Mapping[str, Any], context: RunContext) -> None:
        self.settings = InvokeSettings.from_params(params, context)
        self.context = context
        self.logger = context.logger
        self.session = AwsSession(params, context)
        # Once every usage check has passed: a usage error is the only line a user sees.
        self.settings.warn(context)
        self._configs: dict[tuple[str, str, str | None], dict[str, Any]] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    # -- trigger ------------------------------------------------------------------------
    def prepare(self, target: str) -> Prepared:
        """The configuration reads an invocation needs first (the log group an Event wait
        follows, the timeout warning), and the request: never made once a stop has come."""
        ref = parse_function(target)
        region = ref.region or self.session.region
        # A target's own ":alias" wins over --qualifier, which is for targets naming none.
        qualifier = ref.qualifier or self.settings.qualifier
        invocation_type = self.settings.invocation_type
        follow_logs = invocation_type == "Event" and self.context.wait
        config = self._configuration(target, ref, region, qualifier) if follow_logs else None
        waits = follow_logs or invocation_type == "RequestResponse"
        if waits and self.context.timeout_s < MAX_FUNCTION_TIMEOUT_S:
            # Only a wait shorter than Lambda's longest run can end first: then (and only then)
            # a synchronous invoke costs one configuration read per function, for the warning.
            config = config or self._configuration(target, ref, region, qualifier, needed=False)
            self._warn_if_longer(target, config)
        request: dict[str, Any] = {"FunctionName": ref.function_name}
        request["InvocationType"] = invocation_type
        if qualifier:
            request["Qualifier"] = qualifier
        if self.settings.payload is not None:
            request["Payload"] = self.settings.payload.data
        if invocation_type == "RequestResponse":
            if self.settings.log_tail:
                request["LogType"] = "Tail"
            if self.settings.client_context:
                request["ClientContext"] = self.settings.client_context
        return Prepared(data=_Invoke(ref, region, qualifier, request, config))

    def start(self, target: str, prepared: Prepared) -> RunState:
        """The invocation, sent once: Lambda cannot recognise a repeated invoke, so one that
        may have reached it is never sent again (botocore's retries are off for it too)."""
        invoke: _Invoke = prepared.data
        ref, region, qualifier, request, config = (
            invoke.ref,
            invoke.region,
            invoke.qualifier,
            invoke.request,
            invoke.config,
        )
        invocation_type = request["InvocationType"]
        read_timeout = MAX_FUNCTION_TIMEOUT_S + READ_TIMEOUT_MARGIN_S
        client = self.session.client(
            "lambda",
            region,
            read_timeout=read_timeout if invocation_type == "RequestResponse" else READ_TIMEOUT_S,
            max_attempts=1,
        )
        try:
            response = client.invoke(**request)
        except Exception as exc:
            raise self._invoke_error(target, exc) from None
        request_id = response.get("ResponseMetadata", {}).get("RequestId")
        try:
            body = response["Payload"].read() if response.get("Payload") is not None else b""
        except Exception as exc:
            raise self._invoke_error(target, exc, request_id) from None
        url = _function_console_url(region, ref.name, qualifier)
        details: dict[str, Any] = {"invocation_type": invocation_type}
        if config and config.get("FunctionArn"):
            details["function_arn"] = config["FunctionArn"]
        if invocation_type == "DryRun":
            # Lambda validated the parameters and permissions; the function did not run.
            return RunState(
                RunStatus.SUCCEEDED, run_id=request_id, console_url=url, details=details
            )
        if invocation_type == "Event" and not request_id:
            return RunState(
                RunStatus.STARTED,
                console_url=url,
                error="invoked, but Lambda's answer carried no request id to follow it by",
                details=details,
            )
        if invocation_type == "Event":
            log_group = self._log_group(ref, config)
            details["log_group"] = log_group
            now = time.time()
            handle = EventTrace(
                request_id=request_id,
                region=region,
                log_group=log_group,
                invoked_at=now,
                since_ms=int(now * 1000) - LOG_SEARCH_SKEW_MS,
                runtime=self._runtime(config),
            )
            return RunState(
                RunStatus.RUNNING,
                run_id=request_id,
                console_url=url,
                message="queued by Lambda",
                handle=handle,
                details=details,
            )
        return self._sync_result(target, response, body, request_id, url, details)

    def _sync_result(
        self,
        target: str,
        response: Mapping[str, Any],
        body: bytes,
        request_id: str | None,
        url: str | None,
        details: dict[str, Any],
    ) -> RunState:
        output = _decode_payload(body)
        if response.get("ExecutedVersion"):
            details["executed_version"] = response["ExecutedVersion"]
        if response.get("LogResult"):
            tail = _decode_log(response["LogResult"])
            details["log_tail"] = tail
            indented = "\n".join(f"    {line}" for line in tail.rstrip("\n").splitlines())
            self.logger.info(f"function log (last 4 KB):\n{indented}", target=target, emoji="📜")
        function_error = response.get("FunctionError")
        if function_error:
            details["function_error"] = function_error
            return RunState(
                RunStatus.FAILED,
                run_id=request_id,
                error=_function_error(function_error, output),
                output=output,
                console_url=url,
                details=details,
            )
        return RunState(
            RunStatus.SUCCEEDED, run_id=request_id, output=output, console_url=url, details=details
        )

    def _configuration(
        self,
        target: str,
        ref: FunctionRef,
        region: str,
        qualifier: str | None,
        *,
        needed: bool = True,
    ) -> dict[str, Any] | None:
        """The function's configuration (for its log group, its timeout), read once per target.

        ``None`` when the caller may invoke but not read configurations (a common least-privilege
        policy): the default log group is followed then. With ``needed=False`` (only for a
        warning) any failure is ``None``: the invocation goes ahead.
        """
        key = (region, ref.function_name, qualifier)
        with self._lock:
            cached = self._configs.get(key)
        if cached is not None:
            return cached
        request: dict[str, Any] = {"FunctionName": ref.function_name}
        if qualifier:
            request["Qualifier"] = qualifier
        client = self.session.client("lambda", region)
        try:
            # GetFunction is the read the usual Lambda policies grant (lambda:GetFunction);
            # a policy granting only lambda:GetFunctionConfiguration is served by that instead.
            try:
                config: dict[str, Any] = client.get_function(**request).get("Configuration") or {}
            except Exception as exc:
                if error_code(exc) not in _DENIED:
                    raise
                config = client.get_function_configuration(**request)
        except Exception as exc:
            if not needed:
                self.logger.debug("configuration not read", target=target, error=str(exc))
                return None
            if error_code(exc) in _DENIED:
                self.logger.warning(
                    "cannot read the function's configuration "
                    f"({error_code(exc)}); following the default log group",
                    target=target,
                )
                return None
            raise to_run_error(exc, subject=f"function '{target}'") from None
        with self._lock:
            self._configs[key] = config
        return config

    def _warn_if_longer(self, target: str, config: Mapping[str, Any] | None) -> None:
        """Say so when the function may run longer than the command waits."""
        function_timeout = (config or {}).get("Timeout")
        if not isinstance(function_timeout, int) or function_timeout <= self.context.timeout_s:
            return
        with self._lock:
            if target in self._warned:  # once, whatever the retries of its trigger
                return
            self._warned.add(target)
        self.logger.warning(
            f"the function's timeout ({function_timeout} s) is longer than --timeout-minutes "
            f"({self.context.timeout_s / 60:g} min): the wait may end first, and the run be "
            "TIMED_OUT while the function goes on",
            target=target,
        )

    @staticmethod
    def _runtime(config: Mapping[str, Any] | None) -> str | None:
        if not config:
            return None
        return str(config.get("Runtime") or config.get("PackageType") or "") or None

    @staticmethod
    def _log_group(ref: FunctionRef, config: Mapping[str, Any] | None) -> str:
        logging_config = (config or {}).get("LoggingConfig") or {}
        name = (config or {}).get("FunctionName") or ref.name
        return str(logging_config.get("LogGroup") or f"/aws/lambda/{name}")

    def _invoke_error(
        self, target: str, exc: BaseException, request_id: str | None = None
    ) -> RunError:
        dry_run = self.settings.invocation_type == "DryRun"
        # A DryRun runs nothing, so it may be repeated; an invocation may not.
        error = to_run_error(
            exc, subject=f"function '{target}'", idempotent=dry_run, run_id=request_id
        )
        # Retryable: throttled, or never sent (no connection was made); Lambda did not act.
        if error.retryable or dry_run or not is_transient(exc):
            return error
        if http_status(exc) == 502:
            # Lambda's 502 errors (ENI limits, KMS, EFS, runtime setup) precede the function.
            return error
        rid = request_id or error.details.get("aws_request_id")
        where = f" (request id {rid})" if rid else ""
        return RunError(
            f"{error.message}. The invocation may have reached Lambda{where}: the run may have "
            "started, so it was not retried (a retry could run the function twice). Check the "
            "function's logs.",
            status=RunStatus.ERROR,
            retryable=False,
            run_id=rid,
            details=error.details,
        )

    # -- poll (Event invocations) -------------------------------------------------------
    def poll(self, target: str, state: RunState) -> RunState:
        """Read the next pages of the invocation's log lines: a busy log group answers pages
        that are empty yet carry a ``nextToken``, so one poll follows up to
        ``MAX_PAGES_PER_POLL`` of them, each further page drawn from the command's rate cap."""
        handle: EventTrace = dataclasses.replace(state.handle)
        for page_number in range(MAX_PAGES_PER_POLL):
            if page_number and not self.context.take_poll_request():
                break
            try:
                page = self.session.client("logs", handle.region).filter_log_events(
                    **self._log_request(handle)
                )
            except Exception as exc:
                return self._untracked(target, handle, exc)
            handle.next_token = page.get("nextToken")
            events = sorted(page.get("events", []), key=lambda e: e.get("timestamp", 0))
            if handle.phase == "search":
                outcome = self._search(handle, events)
                searched_all = handle.phase == "search" and not handle.next_token
            else:
                outcome = self._inspect(handle, events)
                searched_all = False
            if outcome is not None:
                return outcome
            if searched_all:
                break  # every line so far is read: the next poll searches again
        return RunState(RunStatus.RUNNING, message=self._progress(handle), handle=handle)

    @staticmethod
    def _log_request(handle: EventTrace) -> dict[str, Any]:
        request: dict[str, Any] = {"logGroupName": handle.log_group}
        if handle.phase == "search":
            request["filterPattern"] = f'"{handle.request_id}"'
            request["startTime"] = handle.since_ms
        else:
            request["logStreamNames"] = [handle.stream]
            request["startTime"] = handle.start_ms
            request["endTime"] = handle.end_ms + 1
        if handle.next_token:
            request["nextToken"] = handle.next_token
        return request

    @staticmethod
    def _progress(handle: EventTrace) -> str:
        if handle.phase == "inspect":
            return "finished; reading its log"
        return "running" if handle.start else "queued by Lambda; not started yet"

    def _search(self, handle: EventTrace, events: list[Mapping[str, Any]]) -> RunState | None:
        """Lines carrying the request id. The REPORT line (``platform.report``) ends the search:
        it is written after END and carries the platform's verdict."""
        for event in events:
            message = str(event.get("message", ""))
            fact = logscan.classify(message, handle.request_id)
            if fact is None:
                error = verdict.runtime_error(message, handle.request_id)
                handle.runtime_failure = handle.runtime_failure or error
                continue
            where = (str(event.get("logStreamName", "")), int(event.get("timestamp", 0)))
            if fact.kind == "start" and handle.start is None:
                handle.start = where
            elif fact.kind == "end" and handle.end is None:
                handle.end, handle.end_seen_at = where, time.time()
            elif fact.kind == "report" and handle.report is None:
                handle.report, handle.platform = where, fact.status
            if fact.failure and not handle.failure:
                handle.failure = fact.failure
        # No REPORT line yet: wait for it, or past REPORT_WAIT_S after END, go by END.
        waiting = handle.end is None or time.time() - handle.end_seen_at < REPORT_WAIT_S
        if handle.report is None and waiting:
            return None
        stream, end_ms = handle.report or handle.end or ("", 0)
        if handle.failure or handle.platform is not None:
            handle.stream = stream
            return self._concluded(handle)  # Lambda said how it ended
        # Finished, and Lambda gave no status: the runtime's own error records mostly carry no
        # id, so read this invocation's lines (its stream, from its START to a little after its
        # REPORT) next.
        start_stream, start_ms = handle.start or (stream, handle.since_ms)
        handle.phase = "inspect"
        handle.stream = start_stream or stream
        handle.start_ms, handle.end_ms = start_ms, end_ms + TRAILING_LINES_MS
        handle.next_token = handle.candidate = None
        handle.reported = False
        return None

    def _inspect(self, handle: EventTrace, events: list[Mapping[str, Any]]) -> RunState | None:
        """The invocation's own stream from its START: a runtime's error record written between
        START and REPORT (most carry no request id), or Lambda's line with the id (before or
        just after the REPORT) saying it failed."""
        request_id = handle.request_id
        for event in events:
            message = str(event.get("message", ""))
            owner = logscan.boundary(message)
            if owner is not None and owner != request_id:
                if handle.reported:
                    return self._concluded(handle)  # the next invocation starts: ours is read
                # Another invocation starts or ends here: error lines before it were its own.
                handle.candidate = None
                continue
            fact = logscan.classify(message, request_id)
            if fact is not None:
                if fact.failure and not handle.failure:
                    handle.failure = fact.failure
                if fact.kind == "start":
                    handle.candidate = None
                elif fact.kind == "report":
                    handle.reported = True
                continue
            failure = verdict.runtime_error(message, request_id)
            if failure and not handle.reported and not handle.candidate:
                handle.candidate = failure
        if handle.next_token:
            return None
        return self._concluded(handle)

    @staticmethod
    def _concluded(handle: EventTrace) -> RunState:
        found = verdict.decide(
            platform_failure=handle.failure,
            platform=handle.platform,
            runtime_failure=handle.runtime_failure or handle.candidate,
            runtime=handle.runtime,
        )
        status = {
            verdict.SUCCEEDED: RunStatus.SUCCEEDED,
            verdict.FAILED: RunStatus.FAILED,
            # Finished, outcome unknown: STARTED (exit 1 when waited for), as for logs that
            # cannot be read, rather than a guessed SUCCEEDED.
            verdict.UNKNOWN: RunStatus.STARTED,
        }[found.outcome]
        return RunState(
            status,
            error=found.error,
            handle=handle,
            details={"log_group": handle.log_group, "log_stream": handle.stream},
        )

    def _untracked(self, target: str, handle: EventTrace, exc: BaseException) -> RunState:
        """A log read failed: wait, retry, or end as STARTED saying completion is unknown."""
        code = error_code(exc)
        group = handle.log_group
        if code == "ResourceNotFoundException":
            if time.time() - handle.invoked_at < LOG_GROUP_GRACE_S:
                return RunState(
                    RunStatus.RUNNING,
                    message=f"queued by Lambda; log group {group} does not exist yet (waiting "
                    f"up to {LOG_GROUP_GRACE_S:g} s for the function's first run to create it)",
                    handle=handle,
                )
            reason = (
                f"log group {group} does not exist {LOG_GROUP_GRACE_S:g} s after the invocation "
                "(the function writes no logs, writes them elsewhere, or has not started)"
            )
        else:
            error = to_run_error(exc, subject="FilterLogEvents", idempotent=True)
            if error.retryable:
                raise error
            if code in _DENIED:
                reason = f"reading log group {group} was denied ({error.message})"
            else:
                reason = f"cannot read log group {group} ({error.message})"
        return RunState(
            RunStatus.STARTED,
            error=(
                f"completion not tracked: {reason}. Following an Event invocation needs "
                "logs:FilterLogEvents on the function's log group; Lambda has no other status "
                "for Event invocations"
            ),
            handle=handle,
            details={"log_group": group},
        )

    def close(self) -> None:
        """Nothing to release: clients close with the process."""


class FunctionLister(Lister):
    """``aws-lambda-list-functions``: every function of the region, all pages."""

    def __init__(self, params: Mapping[str, Any], context: RunContext) -> None:
        self.session = AwsSession(params, context)
        self.name_contains = (params.get("name_contains") or "").lower()

    def page(self, token: Any) -> Page:
        """One ListFunctions page (core reads them all, and sorts the rows by name)."""
        request: dict[str, Any] = {"MaxItems": LIST_PAGE_SIZE}
        if token:
            request["Marker"] = token
        try:
            page: dict[str, Any] = self.session.client("lambda").list_functions(**request)
        except Exception as exc:
            raise to_run_error(exc, subject="ListFunctions") from None
        rows = []
        for function in page.get("Functions", []):
            name = str(function.get("FunctionName", ""))
            if self.name_contains and self.name_contains not in name.lower():
                continue
            rows.append(
                {
                    "name": name,
                    "runtime": function.get("Runtime") or function.get("PackageType"),
                    "memory_mb": function.get("MemorySize"),
                    "timeout_s": function.get("Timeout"),
                    "last_modified": function.get("LastModified"),
                    "arn": function.get("FunctionArn"),
                }
            )
        return Page(rows, next=page.get("NextMarker") or None)


# The earlier names, for code written against them.
LambdaRunner = FunctionRunner
LambdaLister = FunctionLister
