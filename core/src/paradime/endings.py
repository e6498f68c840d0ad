"""Internal: what a run's row says: states merged from answers, and the words of every ending.

Internal to core, pure (no clock, no I/O): the lifecycle (:mod:`paradime.lifecycle`) decides
when a run ends; this module words the row.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from paradime.api import Prepared, RunError, RunResult, RunState, RunStatus


class Run(Protocol):
    """What this module reads of a :class:`paradime.lifecycle.Run` (it imports nothing of
    the lifecycle, which imports it)."""

    @property
    def phase(self) -> Any: ...
    @property
    def state(self) -> RunState | None: ...
    @property
    def on_wire(self) -> bool: ...
    @property
    def sent(self) -> bool: ...
    @property
    def prepared(self) -> Prepared | None: ...
    @property
    def retry_error(self) -> RunError | None: ...
    @property
    def unknown(self) -> RunError | None: ...
    @property
    def poll_throttles(self) -> int: ...
    @property
    def poll_failures(self) -> int: ...
    @property
    def not_found(self) -> int: ...
    @property
    def last_seen(self) -> datetime | None: ...
    @property
    def started_at(self) -> datetime | None: ...


# The phases (values) of a run not yet started (lifecycle.NOT_STARTED).
_NOT_STARTED = ("waiting", "triggering")
# A stop request not answered within the driver's grace.
NO_ANSWER = object()
# A stop answer with one of these says the run had already ended on its own.
ENDED_ON_ITS_OWN = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT)


@dataclass(frozen=True)
class Stop:
    """Why the engine winds down: the deadline (``signal_name`` None) or a signal."""

    signal_name: str | None
    minutes: float

    @property
    def limit(self) -> str:
        return f"the {self.minutes:g}-minute timeout"


def poll_budget(waiting: int, rate: float, every_s: float) -> dict[str, Any]:
    """The figures of the line saying the poll rate cannot check every run every ``every_s``."""
    return {
        "waiting": waiting,
        "rate": rate,
        "keeps": int(rate * every_s),
        "every_s": max(every_s, waiting / rate),
        "interval_s": every_s,
    }


def describe(exc: BaseException) -> str:
    if isinstance(exc, RunError):
        return exc.message
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def retry_after(exc: BaseException) -> float:
    """The wait the remote system asked for (``RunError.retry_after_s``), else 0."""
    seconds = getattr(exc, "retry_after_s", None) if isinstance(exc, RunError) else None
    return max(0.0, float(seconds)) if seconds is not None else 0.0


def untracked(exc: BaseException, failures: int) -> RunError:
    """The error of a run given up after ``failures`` status checks in a row failed."""
    status = exc.status if isinstance(exc, RunError) else RunStatus.ERROR
    run_id = exc.run_id if isinstance(exc, RunError) else None
    return RunError(
        f"could not track the run: {failures} status checks in a row failed; last error: "
        f"{describe(exc)}",
        status=status,
        run_id=run_id,
    )


def with_identity(state: RunState, prepared: Prepared | None) -> RunState:
    """A run's state with what its look-ups chose before the start (name, token, console
    link, row details) wherever the state leaves them out."""
    if prepared is None:
        return state
    return dataclasses.replace(
        state,
        run_id=state.run_id or prepared.run_id,
        console_url=state.console_url or prepared.console_url,
        handle=state.handle if state.handle is not None else prepared.handle,
        details={**prepared.details, **state.details},
    )


def replace_status(state: RunState, status: RunStatus, error: str | None = None) -> RunState:
    """``state`` with a new status (and error, when given)."""
    return dataclasses.replace(
        state,
        status=status,
        error=error if error is not None else state.error,
        details=dict(state.details),
    )


def merge(previous: RunState, new: RunState) -> RunState:
    """A poll's answer over what was known: the fields it leaves empty keep their value."""
    return dataclasses.replace(
        new,
        run_id=new.run_id or previous.run_id,
        output=new.output if new.output is not None else previous.output,
        console_url=new.console_url or previous.console_url,
        handle=new.handle if new.handle is not None else previous.handle,
        details={**previous.details, **new.details},
    )


def error_state(previous: RunState, exc: BaseException) -> RunState:
    """The state of a run ended by ``exc``, over what was known of it."""
    if isinstance(exc, RunError):
        status, run_id, message, details = exc.status, exc.run_id, exc.message, exc.details
    else:
        status, run_id, message, details = RunStatus.ERROR, None, describe(exc), {}
    return RunState(
        status=status,
        run_id=run_id or previous.run_id,
        error=message,
        console_url=previous.console_url,
        details={**previous.details, **details},
    )


def result_row(
    target: str, state: RunState, started: datetime | None, finished: datetime, attached: bool
) -> RunResult:
    return RunResult(
        target=target,
        status=state.status,
        run_id=state.run_id,
        started_at=started,
        finished_at=finished,
        error=state.error,
        output=state.output,
        console_url=state.console_url,
        details=dict(state.details),
        attached=attached,
    )


@dataclass(frozen=True)
class Unfinished:
    """What the row of a run unfinished at a stop depends on."""

    on_wire: bool  # its start was sent and has not answered
    unknown: str | None  # the message of a start whose outcome is unknown, not yet looked up
    not_started: bool
    retry_error: RunError | None
    has_state: bool
    troubled: str  # "throttled" or "failing": what its status checks were since last seen
    quiet: bool  # its last status check answered
    last_seen: datetime


def stop_hint(command: str, can_cancel: bool) -> str:
    return "--cancel-on-exit stops it" if can_cancel else f"{command} cannot stop its runs"


def ending(
    run: Unfinished,
    signal_name: str | None,
    limit: str,
    stoppable: bool,
    command: str,
    can_cancel: bool,
) -> tuple[RunStatus, str]:
    """The status and reason of a run unfinished when a signal (``signal_name``) or the
    deadline (``limit``) stopped the command."""
    name, hint = signal_name, stop_hint(command, can_cancel)
    if run.on_wire:  # no answer in the grace window
        if name is not None:
            return (
                RunStatus.ERROR,
                f"interrupted by {name} while the trigger call was in flight; "
                "the run may have started",
            )
        return (
            RunStatus.TIMED_OUT,
            f"no answer from the trigger call before {limit}; the run may still complete",
        )
    if run.unknown is not None and run.not_started:
        cause = f"interrupted by {name}" if name is not None else f"stopped at {limit}"
        text = (
            f"{run.unknown}; the run may have started ({cause} before the look-up for it answered)"
        )
        return (RunStatus.STOPPED, text) if stoppable else (RunStatus.ERROR, f"{text}; {hint}")
    if run.not_started and run.retry_error is not None:  # every attempt so far failed
        return _retry_ending(run.retry_error, name, limit, stoppable, hint)
    if run.not_started or not run.has_state:
        if name is not None:
            return RunStatus.STOPPED, f"not triggered: interrupted by {name}"
        return RunStatus.STOPPED, f"not triggered before {limit}"
    if name is not None:
        if stoppable:
            return RunStatus.STOPPED, f"interrupted by {name}"
        return RunStatus.RUNNING, f"interrupted by {name}; still running remotely ({hint})"
    still = f"still running at {limit}"
    if not run.quiet:
        # The last answer is all that is known: the run may have ended since.
        seen = run.last_seen.astimezone().strftime("%H:%M:%S")
        still = f"last seen RUNNING at {seen}; status checks {run.troubled} since, until {limit}"
    if stoppable:
        return RunStatus.TIMED_OUT, still
    return RunStatus.TIMED_OUT, f"{still}; not stopped ({hint})"


def _retry_ending(
    error: RunError, name: str | None, limit: str, stoppable: bool, hint: str
) -> tuple[RunStatus, str]:
    """The ending of a run whose trigger waits for a retry."""
    if name is None:
        return error.status, f"{error.message}; not retried after {limit}"
    if error.run_id is None:  # nothing started (a throttle, say)
        return (
            RunStatus.STOPPED,
            f"not triggered: interrupted by {name} (last attempt: {error.message})",
        )
    waiting = (
        f"interrupted by {name} while waiting to retry a start that may have started "
        f"the run ({error.message})"
    )
    return (RunStatus.STOPPED, waiting) if stoppable else (RunStatus.ERROR, f"{waiting}; {hint}")


def stopped_state(state: RunState, status: RunStatus, reason: str, answer: Any) -> RunState:
    """The final state of a run asked to stop: ``answer`` is what ``cancel`` returned or
    raised, or :data:`NO_ANSWER`."""
    if isinstance(answer, RunState) and answer.status in ENDED_ON_ITS_OWN:
        # The run had ended before the stop request reached it: report how.
        ended = merge(state, answer)
        if ended.status is RunStatus.SUCCEEDED:
            ended = dataclasses.replace(ended, error=None)
        return ended
    if answer is NO_ANSWER:
        error = f"{reason}; no answer to the request to stop it"
    elif isinstance(answer, BaseException):
        error = f"{reason}; the request to stop it failed: {describe(answer)}"
    else:
        remote = answer.status.value if isinstance(answer, RunState) else "unknown"
        error = f"{reason}; stop requested (remote status: {remote})"
        if isinstance(answer, RunState) and answer.error:
            error += f": {answer.error}"
    return replace_status(state, status, error)


def known_state(run: Run, may_exist: bool) -> RunState | None:
    """What is known of a run whose start was sent but gave no state: the run id, handle and
    details a failed attempt named (a start waiting for its retry that may have started the
    run), and those its look-ups chose before the call (the id only when the run
    ``may_exist``: a start refused outright made nothing to name)."""
    if not run.sent:
        return None
    error = run.retry_error
    prepared = run.prepared or Prepared()
    run_id = error.run_id if error is not None else None
    handle = error.handle if error is not None else None
    if may_exist:
        run_id = run_id or prepared.run_id
        handle = handle if handle is not None else prepared.handle
    details = {**prepared.details, **(error.details if error is not None else {})}
    if run_id is None and not details:
        return None
    console_url = prepared.console_url if run_id else None
    return RunState(
        RunStatus.RUNNING, run_id=run_id, handle=handle, details=details, console_url=console_url
    )


def should_cancel(run: Run, stoppable: bool) -> bool:
    """Stop it remotely: asked to, the provider can, and the remote system may know the run
    (it started, or a start waiting for its retry names the run it may have started)."""
    if not stoppable or run.on_wire:
        return False
    if run.phase.value in _NOT_STARTED:
        if run.unknown is not None:
            known = known_state(run, may_exist=True)
            return known is not None and known.run_id is not None and known.handle is not None
        return run.retry_error is not None and run.retry_error.run_id is not None
    return run.state is not None and run.state.run_id is not None


def unfinished(run: Run, wall: datetime) -> Unfinished:
    """The facts of ``run`` its ending depends on."""
    return Unfinished(
        on_wire=run.on_wire,
        unknown=run.unknown.message if run.unknown is not None else None,
        not_started=run.phase.value in _NOT_STARTED,
        retry_error=run.retry_error,
        has_state=run.state is not None,
        troubled="throttled" if run.poll_throttles else "failing",
        quiet=not (run.poll_throttles or run.poll_failures or run.not_found),
        last_seen=run.last_seen or run.started_at or wall,
    )
