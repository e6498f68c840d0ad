"""Starting, tracking and stopping Step Functions executions; listing state machines.

Imported only when a command runs (it imports botocore). Each runner method makes the calls of
one step and returns: core's engine owns retries of throttles, the poll schedule and deadlines.

* STANDARD machines: ``StartExecution`` with a name chosen once per target, so a repeated start
  (botocore's retries, core's throttle retries) gives back the same execution instead of a
  second one; then ``DescribeExecution`` until the execution ends.
* EXPRESS machines cannot be described: with ``--wait-for-completion`` the start is
  ``StartSyncExecution`` (the answer carries the outcome), without it ``StartExecution``, reported
  ``STARTED``. Neither is idempotent, so neither is repeated after a fault that may have reached
  Step Functions.
* The type comes from ``DescribeStateMachine``, which the documented permissions do not include.
  When it is denied, the machine is started with ``StartExecution`` (sent once, as the type is
  unknown) and the execution ARN tells the type: an EXPRESS one, which cannot be described, is
  reported ``STARTED`` with the reason its outcome is unknown.
* Under an idempotency key the execution name is derived from the key and the machine
  (:func:`paradime.api.idempotency_token`), and the execution of that name is looked up with
  ``DescribeExecution`` before any start: running, it is attached to and polled; ended, its
  outcome is reported; with another input, the command stops with a usage error. Step Functions
  does not deduplicate EXPRESS starts, so a key is refused for an EXPRESS machine.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from paradime.api import (
    Lister,
    OptionSource,
    Page,
    Prepared,
    RunContext,
    RunError,
    Runner,
    RunState,
    RunStatus,
    UsageError,
    idempotency_token,
)
from paradime_aws_common.errors import (
    AWS_ERRORS,
    CLOCK_SKEW,
    DENIED_CODES,
    error_code,
    to_run_error,
)
from paradime_aws_common.session import AwsSession, console_url
from paradime_aws_stepfunctions.inputs import NAME_MAX, MachineRef, machine_ref, read_input_file

# The boto3 client name of Step Functions.
BOTO_CLIENT = "stepfunctions"
# ListStateMachines page size: AWS's maximum, so a large account costs few requests.
LIST_PAGE_SIZE = 1000
# An EXPRESS execution runs at most 5 minutes, so a synchronous start answers within that.
SYNC_READ_TIMEOUT_S = 330.0
# When DescribeExecution has no error or cause (a state machine level timeout, a stop), the
# newest few history events carry them.
HISTORY_EVENTS = 5
# What StopExecution records as the execution's error; the cause says why.
CANCEL_ERROR = "paradime.Cancelled"
CAUSE_LIMIT = 32768
# StopExecution's errors from the execution's KMS key (its API reference): the stop is sent again
# without error and cause, which need the key.
KMS_ERRORS = frozenset(
    {"KmsAccessDeniedException", "KmsInvalidStateException", "KmsThrottlingException"}
)
# DescribeExecution's ExecutionStatus, every value its API reference lists. A status missing
# here (Step Functions added PENDING_REDRIVE with redrive in 2023) is followed as RUNNING, its
# name in the progress line, until it ends or the deadline does (docs/decisions.md).
STATUSES = {
    "RUNNING": RunStatus.RUNNING,
    "PENDING_REDRIVE": RunStatus.RUNNING,
    "SUCCEEDED": RunStatus.SUCCEEDED,
    "FAILED": RunStatus.FAILED,
    "TIMED_OUT": RunStatus.TIMED_OUT,
    "ABORTED": RunStatus.STOPPED,
}
_UNEXPLAINED = {
    "FAILED": "execution failed",
    "TIMED_OUT": "execution timed out",
    "ABORTED": "execution was aborted",
}
_EXECUTION_ARN = re.compile(r"arn:[\w-]+:states:[\w-]+:\d{12}:execution:[^'\"\s]+")


@dataclass(frozen=True)
class _Start:
    """What a start needs, from the look-ups (``Prepared.data``)."""

    ref: MachineRef
    region: str
    machine_type: str | None  # None: DescribeStateMachine refused; the start's answer tells
    request: dict[str, Any]
    first_at: datetime  # when the name was chosen, before the first attempt


@dataclass(frozen=True)
class Execution:
    """The runner's handle of one execution: where it lives and how to track it."""

    region: str
    machine_type: str
    name: str


def generate_execution_name(now: datetime) -> str:
    """``paradime-<UTC time>-<random>``: readable, sortable, unique without coordination."""
    return f"paradime-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def iter_state_machines(client: Any) -> Iterator[dict[str, Any]]:
    """Every state machine of the client's region, page after page."""
    token: str | None = None
    while True:
        request: dict[str, Any] = {"maxResults": LIST_PAGE_SIZE}
        if token:
            request["nextToken"] = token
        page = client.list_state_machines(**request)
        yield from page.get("stateMachines", [])
        token = page.get("nextToken")
        if not token:
            return


def _parse_output(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _same_json(a: str | None, b: str) -> bool:
    try:
        return bool(json.loads(a or "{}") == json.loads(b))
    except ValueError:
        return a == b


def _clock(value: Any) -> str:
    """A start or stop date as the user reads it (UTC, to the second)."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value or "an unknown time")


def _execution_arn(ref: MachineRef, region: str, name: str) -> str:
    """The ARN of the STANDARD execution ``name`` of the state machine ``ref`` names."""
    assert ref.arn is not None
    return f"arn:{ref.arn.partition}:states:{region}:{ref.arn.account}:execution:{ref.name}:{name}"


def _existing_arn(exc: BaseException) -> str | None:
    """The execution ARN an ExecutionAlreadyExists message names."""
    match = _EXECUTION_ARN.search(str(exc))
    return match.group() if match else None


def _failure_text(status: str, error: str | None, cause: str | None) -> str:
    if error and cause:
        return f"{error}: {cause}"
    if error or cause:
        return str(error or cause)
    return f"{_UNEXPLAINED.get(status, status)} (Step Functions recorded no error or cause)"


class StateMachineRunner(Runner):
    """Starts, polls and stops the executions of one command run."""

    def __init__(self, params: Mapping[str, Any], context: RunContext) -> None:
        # The options are checked together before the session is built.
        if params.get("input") is not None and params.get("input_file") is not None:
            raise UsageError("give the execution input with --input or --input-file, not both")
        input_text = params.get("input")
        if params.get("input_file") is not None:
            try:
                input_text = read_input_file(params["input_file"])
            except UsageError as exc:
                raise UsageError(f"invalid value for '--input-file': {exc}") from None
        if params.get("execution_name") is not None:
            context.decline_idempotency_key(
                "--execution-name names the executions itself; give one or the other"
            )
        self.key = context.idempotency_key
        self.key_typed = context.option_source("idempotency_key") is OptionSource.COMMAND_LINE
        self.session = AwsSession(params, context)
        self.command = context.command
        self.wait = context.wait
        self.logger = context.logger
        self.input_text = input_text
        self.execution_name: str | None = params.get("execution_name")
        self._lock = threading.Lock()
        # Per target: its execution name and when it was chosen (before the first attempt).
        self._names: dict[str, tuple[str, datetime]] = {}
        self._types: dict[str, str] = {}
        self._describe_denied = False
        self._by_name: dict[str, dict[str, str]] = {}
        self._listing: dict[str, threading.Lock] = {}
        self._claimed: dict[str, str] = {}
        self._attempts: dict[str, int] = {}
        self._express_key_warned = False

    # -- trigger: look-ups, start, recovery --------------------------------------------
    def prepare(self, target: str) -> Prepared:
        """Resolve the machine, learn its type, choose the execution name (and, under the
        idempotency key, find the execution the key's name already has)."""
        ref = self._resolve(target)
        assert ref.arn is not None
        region = ref.arn.region
        machine_type = self._machine_type(ref, region)
        keyed = self.key is not None and self._honour_key(ref, machine_type)
        name, first_at = self._name_for(target, ref if keyed else None)
        request: dict[str, Any] = {"stateMachineArn": ref.given, "name": name}
        if self.input_text is not None:
            request["input"] = self.input_text
        start = _Start(ref, region, machine_type, request, first_at)
        prepared = Prepared(details=self._details(request, machine_type or "unknown"), data=start)
        if machine_type == "STANDARD":  # its execution's ARN follows from the name
            prepared.run_id = _execution_arn(ref, region, name)
            prepared.handle = Execution(region, "STANDARD", name)
        if keyed:
            found = self._describe_named(ref, region, name)
            if found is not None:
                prepared.found = self._found(target, region, request, found, attached=True)
        return prepared

    def start(self, target: str, prepared: Prepared) -> RunState:
        start: _Start = prepared.data
        ref, region, request = start.ref, start.region, start.request
        if start.machine_type is None:
            return self._start_untyped(target, ref, region, request)
        if start.machine_type == "EXPRESS":
            if self.wait:
                return self._start_sync(region, request)
            return self._start_express(target, region, request)
        return self._start_standard(target, ref, region, request, start.first_at)

    def recover(self, target: str, prepared: Prepared) -> RunState | None:
        """The execution an unanswered STANDARD start may have made, by its name: adopted
        when it is ours (its input, started since our first attempt); ``None`` when there is
        none. A read right after the start may lag, so "none" is not the last word: the next
        start sends the same name, and Step Functions answers a repeated name with the
        execution it already has (running) or ExecutionAlreadyExists (ended), never a second
        one."""
        start: _Start = prepared.data
        name = start.request["name"]
        found = self._describe_named(start.ref, start.region, name)
        if found is None and start.machine_type is None:
            # Its type is unknown (DescribeStateMachine refused): an EXPRESS execution cannot
            # be described, so "not found" does not say that nothing was made.
            raise RunError(
                f"no STANDARD execution named {name} was found, and an EXPRESS one cannot be "
                "looked up (the machine's type is unknown without states:DescribeStateMachine):"
                " not started again",
                details={"execution_name": name},
            )
        if found is None:
            return None
        if not self._ours(found, start):
            raise self._name_taken(name, str(found.get("executionArn")))
        state = self._found(target, start.region, start.request, found, attached=False)
        state.message = (
            f"an earlier attempt of this start had reached Step Functions: execution {name} "
            f"found ({found.get('status')}), followed"
        )
        return state

    # -- the idempotency key ------------------------------------------------------------
    def _honour_key(self, ref: MachineRef, machine_type: str | None) -> bool:
        """Whether this machine's start can honour the key: not an EXPRESS one, whose starts
        Step Functions does not deduplicate (each start of a name runs anew). An unknown type
        (DescribeStateMachine refused) is tried: only a STANDARD execution can be found."""
        if machine_type != "EXPRESS":
            return True
        why = (
            f"state machine '{ref.name}' is EXPRESS, and Step Functions does not deduplicate "
            "EXPRESS starts: a repeat under the same name runs it again"
        )
        if self.key_typed:
            # A row, not a usage error: the other targets may have started already, and exit 2
            # promises that nothing was.
            raise RunError(
                f"--idempotency-key cannot be honoured: {why}; not started (the other targets "
                "run under the key)",
                details={"state_machine_type": "EXPRESS"},
            )
        with self._lock:
            first, self._express_key_warned = not self._express_key_warned, True
        if first:
            self.logger.warning(
                f"PARADIME_IDEMPOTENCY_KEY is set, but {why}; its EXPRESS machines start without it"
            )
        return False

    def _describe_named(self, ref: MachineRef, region: str, name: str) -> dict[str, Any] | None:
        """The execution of this name, if one exists (``ExecutionDoesNotExist``: ``None``)."""
        arn = _execution_arn(ref, region, name)
        try:
            return dict(
                self.session.client(BOTO_CLIENT, region).describe_execution(executionArn=arn)
            )
        except ClientError as exc:
            if error_code(exc) == "ExecutionDoesNotExist":
                return None
            raise to_run_error(exc, subject="DescribeExecution") from None
        except AWS_ERRORS as exc:  # a fault on the way
            raise to_run_error(exc, subject="DescribeExecution") from None

    def _found(
        self,
        target: str,
        region: str,
        request: dict[str, Any],
        existing: Mapping[str, Any],
        *,
        attached: bool,
    ) -> RunState:
        """The execution the key's name already has: attached to while it runs, reported once
        it has ended, never started again; another input is a usage error."""
        arn = str(existing["executionArn"])
        name = request["name"]
        if not _same_json(existing.get("input"), request.get("input", "{}")):
            raise UsageError(
                f"idempotency key '{self.key}' already started execution {arn} with a different "
                "input; a new key starts a new execution"
            )
        state = self._running(target, existing, region, "STANDARD", request)
        state.attached = attached
        started = _clock(existing.get("startDate"))
        outcome = self._outcome(existing, arn, region, history=True)
        if outcome.status is RunStatus.RUNNING:
            if attached:
                state.message = (
                    f"attached to execution {name}, started {started} by an earlier attempt "
                    "under the idempotency key"
                )
            return state
        ended = _clock(existing.get("stopDate"))
        outcome.run_id, outcome.console_url, outcome.handle = arn, state.console_url, state.handle
        outcome.details = {**state.details, **outcome.details}
        outcome.attached = attached
        outcome.message = (
            f"execution {name} had ended ({existing.get('status')} at {ended}) before this "
            "attempt: reported, not started again (a new key starts a new execution)"
        )
        return outcome

    def _resolve(self, target: str) -> MachineRef:
        """The target as an ARN; a plain name is looked up in the command's region."""
        ref = machine_ref(target)
        if ref.arn is not None:
            return ref
        region = self.session.region
        arn = self._machines_named(region).get(ref.name)
        if arn is None:
            raise RunError(
                f"state machine '{ref.name}' does not exist in {region} (no state machine of "
                "that name; give its ARN for another region)",
                details={"aws_error_code": "StateMachineDoesNotExist"},
            )
        self.logger.debug("state machine name resolved", target=target, arn=arn)
        return machine_ref(arn)

    def _machines_named(self, region: str) -> dict[str, str]:
        """Name to ARN of every state machine in ``region``, listed once per command run."""
        with self._lock:
            known = self._by_name.get(region)
            listing = self._listing.setdefault(region, threading.Lock())
        if known is not None:
            return known
        with listing:  # one thread lists, the others wait for its answer
            with self._lock:
                known = self._by_name.get(region)
            if known is not None:
                return known
            client = self.session.client(BOTO_CLIENT, region)
            try:
                found = {m["name"]: m["stateMachineArn"] for m in iter_state_machines(client)}
            except AWS_ERRORS as exc:
                raise to_run_error(exc, subject="ListStateMachines") from None
            with self._lock:
                self._by_name[region] = found
            return found

    def _machine_type(self, ref: MachineRef, region: str) -> str | None:
        """STANDARD or EXPRESS; versions and aliases have their machine's type. ``None`` when
        DescribeStateMachine is denied: the start's answer tells the type then."""
        base = ref.base_arn
        assert base is not None
        with self._lock:
            known = self._types.get(base)
            denied = self._describe_denied
        if known is not None or denied:
            return known
        try:
            answer = self.session.client(BOTO_CLIENT, region).describe_state_machine(
                stateMachineArn=base
            )
        except AWS_ERRORS as exc:
            if error_code(exc) not in DENIED_CODES:
                raise to_run_error(exc, subject="DescribeStateMachine") from None
            # Not among the documented permissions: an optimisation, not a requirement. Not
            # asked again once refused, so that a policy without it costs a refused call or two.
            with self._lock:
                first, self._describe_denied = not self._describe_denied, True
            if first:
                self.logger.info(
                    f"DescribeStateMachine is not allowed ({error_code(exc)}): each machine's "
                    "type is learned from its start's answer"
                )
            return None
        machine_type = str(answer.get("type") or "STANDARD")
        with self._lock:
            self._types[base] = machine_type
        return machine_type

    def _name_for(self, target: str, keyed: MachineRef | None = None) -> tuple[str, datetime]:
        """The target's execution name, chosen once: every retry of its start sends it again.
        Under the idempotency key (``keyed``: the machine), the key's name for the machine."""
        with self._lock:
            entry = self._names.get(target)
            if entry is None:
                now = datetime.now(timezone.utc)
                name = self.execution_name or generate_execution_name(now)
                if keyed is not None and self.key is not None:
                    name = idempotency_token(
                        self.key, keyed.given, max_length=NAME_MAX, label=keyed.name
                    )
                entry = (name, now)
                self._names[target] = entry
        return entry

    def _start_standard(
        self,
        target: str,
        ref: MachineRef,
        region: str,
        request: dict[str, Any],
        first_at: datetime,
    ) -> RunState:
        # Core decides every retry of a start: botocore's own would outlive a stop.
        client = self.session.client(BOTO_CLIENT, region, max_attempts=1)
        with self._lock:
            self._attempts[target] = attempt = self._attempts.get(target, 0) + 1
        try:
            answer = client.start_execution(**request)
        except ClientError as exc:
            retried = attempt > 1
            if error_code(exc) == "ExecutionAlreadyExists" and self.key is not None:
                # Another attempt under the key started it since the look-up (or our own
                # earlier try, whose answer was lost): the same look-up decides.
                found = self._describe_named(ref, region, request["name"])
                if found is not None:
                    return self._found(target, region, request, found, attached=not retried)
            if error_code(exc) == "ExecutionAlreadyExists" and retried:
                return self._adopt(target, ref, region, request, first_at, exc)
            if error_code(exc) == "ExecutionAlreadyExists":
                raise self._name_taken(request["name"], _existing_arn(exc)) from None
            # The name makes a repeated start harmless, so faults that may have reached Step
            # Functions are retried too.
            raise self._start_fault(exc, ref, region, request) from None
        except AWS_ERRORS as exc:  # a fault on the way
            raise self._start_fault(exc, ref, region, request) from None
        return self._running(target, answer, region, "STANDARD", request)

    def _start_fault(
        self, exc: Exception, ref: MachineRef, region: str, request: Mapping[str, Any]
    ) -> RunError:
        """A failed STANDARD start. A fault that may have reached Step Functions is an unknown
        outcome naming the execution it may have started (its ARN follows from the name): core
        looks for it (``recover``) before sending the same name again; if it never can, the row
        keeps it and --cancel-on-exit stops it."""
        error = to_run_error(exc, subject="StartExecution", start=True)
        if error.outcome_unknown:
            name = request["name"]
            error.run_id = _execution_arn(ref, region, name)
            error.handle = Execution(region, "STANDARD", name)
            error.details.update(self._details(request, "STANDARD"))
        return error

    def _adopt(
        self,
        target: str,
        ref: MachineRef,
        region: str,
        request: dict[str, Any],
        first_at: datetime,
        exc: ClientError,
    ) -> RunState:
        """ExecutionAlreadyExists after a repeated start: our own earlier attempt, which reached
        Step Functions and has ended since, or another execution of that name."""
        name = request["name"]
        arn = _existing_arn(exc) or _execution_arn(ref, region, name)
        try:
            existing = self.session.client(BOTO_CLIENT, region).describe_execution(executionArn=arn)
        except AWS_ERRORS as describe_exc:
            raise to_run_error(describe_exc, subject="DescribeExecution") from None
        if not self._ours(existing, _Start(ref, region, "STANDARD", request, first_at)):
            raise self._name_taken(name, arn)
        self.logger.info(
            "an earlier attempt of this start had reached Step Functions: tracking its execution",
            target=target,
            run_id=arn,
        )
        return self._running(target, existing, region, "STANDARD", request)

    @staticmethod
    def _ours(existing: Mapping[str, Any], start: _Start) -> bool:
        """Whether an execution of our name is one of our attempts: our input, started no
        earlier than the name was chosen, less the clock skew AWS itself tolerates
        (``CLOCK_SKEW``)."""
        started = existing.get("startDate")
        return _same_json(existing.get("input"), start.request.get("input", "{}")) and (
            isinstance(started, datetime) and started >= start.first_at - CLOCK_SKEW
        )

    @staticmethod
    def _name_taken(name: str, arn: str | None) -> RunError:
        where = f" ({arn})" if arn else ""
        return RunError(
            f"an execution named '{name}' already exists for this state machine{where}; names "
            "are unique per state machine for 90 days: choose another --execution-name",
            details={"aws_error_code": "ExecutionAlreadyExists"},
        )

    def _start_express(self, target: str, region: str, request: dict[str, Any]) -> RunState:
        # Not idempotent for EXPRESS machines: botocore must not repeat it after a fault.
        client = self.session.client(BOTO_CLIENT, region, max_attempts=1)
        try:
            answer = client.start_execution(**request)
        except AWS_ERRORS as exc:
            raise to_run_error(exc, subject="StartExecution", idempotent=False) from None
        return self._running(target, answer, region, "EXPRESS", request)

    def _start_untyped(
        self, target: str, ref: MachineRef, region: str, request: dict[str, Any]
    ) -> RunState:
        """Start a machine of unknown type; its execution ARN tells the type (``:express:``).

        Sent once, like an EXPRESS start (not idempotent). An EXPRESS execution cannot be
        described, so when waiting was asked for, its row says it started and why its outcome
        is unknown."""
        client = self.session.client(BOTO_CLIENT, region, max_attempts=1)
        try:
            answer = client.start_execution(**request)
        except AWS_ERRORS as exc:
            if error_code(exc) == "ExecutionAlreadyExists" and self.key is not None:
                # Started under the key's name since the look-up: another attempt's.
                found = self._describe_named(ref, region, request["name"])
                if found is not None:
                    return self._found(target, region, request, found, attached=True)
            if error_code(exc) == "ExecutionAlreadyExists":
                raise self._name_taken(request["name"], _existing_arn(exc)) from None
            # Sent and unanswered: a STANDARD execution can be looked for by its name
            # (``recover``); an EXPRESS one cannot, and is then never started again.
            raise to_run_error(exc, subject="StartExecution", start=True) from None
        arn = str(answer["executionArn"])
        machine_type = "EXPRESS" if ":express:" in arn else "STANDARD"
        assert ref.base_arn is not None
        with self._lock:
            self._types.setdefault(ref.base_arn, machine_type)
        state = self._running(target, answer, region, machine_type, request)
        if machine_type == "EXPRESS" and self.key is not None:
            self.logger.warning(
                f"state machine '{ref.name}' is EXPRESS, learned only from its start (no "
                "DescribeStateMachine): Step Functions does not deduplicate EXPRESS starts, so "
                "the idempotency key could not be honoured for it; a retry starts it again",
                target=target,
            )
        if machine_type == "STANDARD" or not self.wait:
            return state
        state.status = RunStatus.STARTED
        state.handle = None
        state.error = (
            "completion not tracked: an EXPRESS execution cannot be described, and "
            "DescribeStateMachine was denied, so the machine was started with StartExecution "
            "instead of being waited for with StartSyncExecution; waiting for an EXPRESS "
            "machine needs states:DescribeStateMachine and states:StartSyncExecution"
        )
        return state

    def _start_sync(self, region: str, request: dict[str, Any]) -> RunState:
        client = self.session.client(
            BOTO_CLIENT, region, read_timeout=SYNC_READ_TIMEOUT_S, max_attempts=1
        )
        try:
            answer = client.start_sync_execution(**request)
        except AWS_ERRORS as exc:
            raise to_run_error(exc, subject="StartSyncExecution", idempotent=False) from None
        arn = answer["executionArn"]
        state = self._outcome(answer, arn, region, history=False)
        state.run_id = arn
        state.console_url = self._console(arn, region, "EXPRESS", answer.get("startDate"))
        state.details.update(self._details(request, "EXPRESS"))
        return state

    def _running(
        self,
        target: str,
        answer: Mapping[str, Any],
        region: str,
        machine_type: str,
        request: Mapping[str, Any],
    ) -> RunState:
        arn = str(answer["executionArn"])
        with self._lock:
            owner = self._claimed.setdefault(arn, target)
        if owner != target:
            raise RunError(
                f"'{owner}' and '{target}' are the same state machine, and --execution-name "
                f"gives both one execution ({arn}), reported for '{owner}'",
                run_id=arn,
            )
        return RunState(
            RunStatus.RUNNING,
            run_id=arn,
            console_url=self._console(arn, region, machine_type, answer.get("startDate")),
            handle=Execution(region, machine_type, request["name"]),
            details=self._details(request, machine_type),
        )

    def _details(self, request: Mapping[str, Any], machine_type: str) -> dict[str, Any]:
        return {
            "execution_name": request["name"],
            "state_machine_arn": request["stateMachineArn"],
            "state_machine_type": machine_type,
        }

    @staticmethod
    def _console(arn: str, region: str, machine_type: str, started: Any) -> str | None:
        if machine_type == "EXPRESS" and isinstance(started, datetime):
            millis = int(started.timestamp() * 1000)
            return console_url(
                region, "states", f"#/express-executions/details/{arn}?startDate={millis}"
            )
        return console_url(region, "states", f"#/v2/executions/details/{arn}")

    # -- poll ---------------------------------------------------------------------------
    def poll(self, target: str, state: RunState) -> RunState:
        handle: Execution = state.handle
        arn = str(state.run_id)
        try:
            answer = self.session.client(BOTO_CLIENT, handle.region).describe_execution(
                executionArn=arn
            )
        except AWS_ERRORS as exc:
            error = to_run_error(exc, subject="DescribeExecution", run_id=arn)
            # DescribeExecution is eventually consistent: right after the start it may not
            # know the execution yet (core asks again for a while).
            error.not_found = error_code(exc) == "ExecutionDoesNotExist"
            raise error from None
        return self._outcome(answer, arn, handle.region, history=True)

    def _outcome(
        self, answer: Mapping[str, Any], arn: str, region: str, *, history: bool
    ) -> RunState:
        """A RunState from a DescribeExecution or StartSyncExecution answer."""
        status = str(answer.get("status"))
        final = STATUSES.get(status)
        if final is None:
            return RunState(
                RunStatus.RUNNING,
                message=f"status {status!r} unknown to paradime: checked again until it ends",
                details={"execution_status": status},
            )
        if final is RunStatus.RUNNING:
            return RunState(RunStatus.RUNNING)
        details: dict[str, Any] = {"execution_status": status}
        if final is RunStatus.SUCCEEDED:
            return RunState(final, output=_parse_output(answer.get("output")), details=details)
        error, cause = answer.get("error"), answer.get("cause")
        if history and not error and not cause:
            error, cause = self._cause_from_history(arn, region)
        details.update(execution_error=error, execution_cause=cause)
        return RunState(final, error=_failure_text(status, error, cause), details=details)

    def _cause_from_history(self, arn: str, region: str) -> tuple[str | None, str | None]:
        """The error and cause of the newest history event that has one."""
        try:
            events = (
                self.session.client(BOTO_CLIENT, region)
                .get_execution_history(
                    executionArn=arn, reverseOrder=True, maxResults=HISTORY_EVENTS
                )
                .get("events", [])
            )
        except AWS_ERRORS as exc:  # the status is known; only its explanation is missing
            self.logger.debug("could not read the execution history", run_id=arn, error=str(exc))
            return None, None
        for event in events:
            for key, value in event.items():
                explained = isinstance(value, dict) and (value.get("error") or value.get("cause"))
                if key.endswith("EventDetails") and explained:
                    return value.get("error") or None, value.get("cause") or None
        return None, None

    # -- cancel -------------------------------------------------------------------------
    def cancel(self, target: str, state: RunState, reason: str) -> RunState | None:
        handle: Execution | None = state.handle
        if handle is None or handle.machine_type == "EXPRESS":
            raise RunError("EXPRESS executions cannot be stopped by StopExecution")
        arn = str(state.run_id)
        cause = f"stopped by paradime {self.command}: {reason}"[:CAUSE_LIMIT]
        client = self.session.client(BOTO_CLIENT, handle.region)
        try:
            client.stop_execution(executionArn=arn, error=CANCEL_ERROR, cause=cause)
        except ClientError as exc:
            if error_code(exc) not in KMS_ERRORS:
                raise to_run_error(exc, subject="StopExecution", run_id=arn) from None
            # Step Functions encrypts error and cause with the execution's KMS key; a stop
            # carrying neither needs no KMS permission (StopExecution's API reference).
            try:
                client.stop_execution(executionArn=arn)
            except AWS_ERRORS as again:
                raise to_run_error(again, subject="StopExecution", run_id=arn) from None
            refused = to_run_error(exc, subject="StopExecution").message
            return RunState(
                RunStatus.STOPPED,
                run_id=arn,
                error=f"sent without error and cause, which the execution's KMS key refused to "
                f"encrypt ({refused}): its history records no reason",
            )
        except AWS_ERRORS as exc:  # a fault on the way
            raise to_run_error(exc, subject="StopExecution", run_id=arn) from None
        return RunState(RunStatus.STOPPED, run_id=arn)


class StateMachineLister(Lister):
    """Every state machine of the command's region."""

    def __init__(self, params: Mapping[str, Any], context: RunContext) -> None:
        self.session = AwsSession(params, context)

    def page(self, token: Any) -> Page:
        """One ListStateMachines page (core reads them all)."""
        request: dict[str, Any] = {"maxResults": LIST_PAGE_SIZE}
        if token:
            request["nextToken"] = token
        try:
            page = self.session.client(BOTO_CLIENT).list_state_machines(**request)
        except AWS_ERRORS as exc:
            raise to_run_error(exc, subject="ListStateMachines") from None
        rows = []
        for machine in page.get("stateMachines", []):
            created = machine.get("creationDate")
            rows.append(
                {
                    "name": machine.get("name"),
                    "type": machine.get("type"),
                    "arn": machine.get("stateMachineArn"),
                    "creation_date": created.isoformat()
                    if isinstance(created, datetime)
                    else created,
                }
            )
        return Page(rows, next=page.get("nextToken") or None)


# The runner's earlier name, for code written against it.
StepFunctionsRunner = StateMachineRunner
