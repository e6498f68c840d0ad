"""Internal: the life of a run, decided without threads, clocks or I/O.

Internal to core (not part of the plugin API). :class:`Lifecycle` holds one record per target
and is told what happened (a trigger step's outcome, a status answer, a failure, a stop); each
call returns the actions that follow, which the driver (:mod:`paradime.engine`) carries out:

* :class:`Send`: hand this call to a worker now (look-up, start, recovery, status check);
* :class:`At`: make this call at time ``when`` (a status check's turn, a trigger step's retry);
* :class:`Next`: this run's next trigger step goes ahead of the runs not yet started;
* :class:`Report`: tell the user (a :class:`~paradime.output.Reporter` method and its arguments);
* :class:`Finish`: the run is over, with this result row.

Every time is passed in (``now`` monotonic, ``wall`` for the rows). A run moves WAITING ->
TRIGGERING -> RUNNING <-> POLLING -> DONE; a failed or unanswered trigger step goes back to
WAITING. Read top to bottom: states, actions, the gate before a start, each event, the wind-down.
"""

from __future__ import annotations

import dataclasses
import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from paradime import endings
from paradime.api import Prepared, RunError, RunResult, RunState, RunStatus, UsageError
from paradime.endings import Stop
from paradime.polling import PollPolicy

# Trigger retries of retryable errors (throttles): attempts and the first backoff.
TRIGGER_ATTEMPTS = 6
TRIGGER_BACKOFF_S = 1.0
# "No such run" from a status check of a run this command started (or adopted) may be a read
# lagging the start (eventual consistency): asked again, backing off, this long after the start.
NOT_FOUND_GRACE_S = 60.0


class Phase(enum.Enum):
    """Where a run is; only the lifecycle changes it (the gate marks a start on the wire)."""

    WAITING = "waiting"  # not sent: new, or waiting for the retry of its start
    TRIGGERING = "triggering"  # handed to a trigger worker (``on_wire`` once the call is sent)
    RUNNING = "running"  # started; its next status check is scheduled
    POLLING = "polling"  # a status check is in flight
    DONE = "done"


NOT_STARTED = (Phase.WAITING, Phase.TRIGGERING)


class Call(enum.Enum):
    PREPARE = "prepare"  # the trigger's read-only look-ups
    TRIGGER = "trigger"  # the one run-creating call (``Runner.start``)
    RECOVER = "recover"  # after a start whose outcome is unknown: look for its run
    POLL = "poll"


# Calls handed to trigger workers (ordered, under --max-concurrency).
TRIGGER_CALLS = (Call.PREPARE, Call.TRIGGER, Call.RECOVER)


@dataclass(eq=False)
class Run:
    index: int
    target: str
    state: RunState | None = None
    phase: Phase = Phase.WAITING
    started_at: datetime | None = None
    started_mono: float | None = None
    result: RunResult | None = None
    attempts: int = 0  # starts sent
    lookups: int = 0  # attempts at the look-ups
    retry_error: RunError | None = None  # why the trigger waits for a retry, if it does
    on_wire: bool = False  # a worker has sent this run's start and not yet answered
    poll_failures: int = 0
    poll_throttles: int = 0  # throttled status checks in a row: they back off, never give up
    generation: int = 0  # bumped when the run ends: answers and timers of before are stale
    last_message: str | None = None
    attached: bool = False  # the trigger found the run already there instead of starting one
    prepared: Prepared | None = None  # the look-ups' answer, kept from the first attempt on
    unknown: RunError | None = None  # a start whose outcome is unknown, until recovery says
    recover_failures: int = 0
    last_seen: datetime | None = None  # when a status check last answered
    not_found: int = 0  # status checks in a row that found no such run (a lagging read?)
    sent: bool = False  # a start call has left for this run (it may exist remotely)


# -- actions ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Send:
    """Hand ``call`` for ``run`` to a worker now."""

    call: Call
    run: Run
    generation: int


@dataclass(frozen=True)
class At:
    """Make ``call`` for ``run`` at ``when`` (stale if the run's generation moved on)."""

    when: float
    call: Call
    run: Run
    generation: int


@dataclass(frozen=True)
class Next:
    """``run``'s next trigger step goes ahead of the runs not yet started."""

    run: Run


@dataclass(frozen=True)
class Report:
    """A line for the user: ``Reporter.<what>(*args, **kwargs)``."""

    what: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finish:
    """``run`` is over; ``result`` is its row."""

    run: Run
    result: RunResult


Action = Send | At | Next | Report | Finish


def may_send(*, stopping: bool, signalled: bool, now: float, deadline: float) -> bool:
    """May a trigger step leave now? Not once the engine winds down, a signal came (flagged at
    once by its handler) or the deadline passed."""
    return not (stopping or signalled or now >= deadline)


@dataclass(frozen=True)
class Settings:
    """What a command's lifecycle needs to know of it."""

    command: str  # its name, for the rows' hints
    can_cancel: bool
    wait: bool
    cancel_on_exit: bool
    deadline: float  # monotonic
    poll_rate: float
    prepares: bool  # the runner has look-ups of its own (plugin API 7.3)
    recovers: bool  # the runner can look for the run of a start whose outcome is unknown
    trigger_backoff_s: float = TRIGGER_BACKOFF_S  # the first retry's wait


class Lifecycle:
    """Every decision about the runs of one command."""

    def __init__(
        self,
        targets: Sequence[str],
        settings: Settings,
        policy: PollPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.runs = [Run(i, t) for i, t in enumerate(targets)]
        self.settings = settings
        self.policy = policy or PollPolicy()
        self.rng = rng or random.Random()
        self.stopping = False  # no trigger step is sent any more: retries are not scheduled
        self.usage_error = False  # a trigger refused the input as a usage error: exit 2
        self.unfinished = len(self.runs)
        self._waiting = 0  # runs started and waited for (their end is polled)
        self._budget_said = False
        self._actions: list[Action] = []

    def _do(self, action: Action) -> None:
        self._actions.append(action)

    def _take(self) -> list[Action]:
        actions, self._actions = self._actions, []
        return actions

    # -- sending --------------------------------------------------------------------------
    def next_step(self, run: Run) -> Send:
        """A waiting run's next trigger step: recovery look-up, its own look-ups, or start."""
        if run.unknown is not None:
            call = Call.RECOVER
        elif run.prepared is None and self.settings.prepares:
            call, run.lookups = Call.PREPARE, run.lookups + 1
        else:
            run.prepared = run.prepared or Prepared()
            call, run.attempts = Call.TRIGGER, run.attempts + 1
        run.phase = Phase.TRIGGERING
        return Send(call, run, run.generation)

    def check(self, run: Run) -> Send:
        """A run's status check, come due."""
        run.phase = Phase.POLLING
        return Send(Call.POLL, run, run.generation)

    def gate(
        self, run: Run, call: Call, *, stopping: bool, signalled: bool, now: float, wall: datetime
    ) -> tuple[bool, bool]:
        """In the worker, under the lock a stop takes: (send it?, the run's first call?)."""
        if not may_send(
            stopping=stopping, signalled=signalled, now=now, deadline=self.settings.deadline
        ):
            return False, False
        if call is Call.TRIGGER:
            run.on_wire = run.sent = True
        first = run.started_at is None
        if first:
            run.started_at, run.started_mono = wall, now
        return True, first

    # -- answers --------------------------------------------------------------------------
    def answer(
        self, call: Call, run: Run, generation: int, outcome: Any, now: float, wall: datetime
    ) -> list[Action]:
        """A worker's answer: a RunState / Prepared / None, an exception, or ``None`` with
        ``sent`` False (see :meth:`not_sent`)."""
        if call is Call.TRIGGER:
            run.on_wire = False
        if run.phase is Phase.DONE or generation != run.generation:
            return []
        if call is Call.POLL:
            self._on_poll(run, outcome, now, wall)
        elif isinstance(outcome, UsageError):
            # Found only by asking the remote system (the idempotency key's run has another
            # input): this target's row says why, the others go on, the command exits 2.
            self.usage_error = True
            self._finish(run, RunState(RunStatus.ERROR, error=str(outcome)), wall)
        elif call is Call.PREPARE:
            self._on_prepare(run, outcome, now, wall)
        elif call is Call.RECOVER:
            self._on_recover(run, outcome, now, wall)
        elif isinstance(outcome, RunError) and outcome.outcome_unknown:
            self._start_unknown(run, outcome, wall)
        elif isinstance(outcome, BaseException):
            self._trigger_failed(run, outcome, now, wall)
        else:
            self._started(run, outcome, now, wall)
        return self._take()

    def not_sent(self, run: Run, generation: int) -> None:
        """A trigger step the gate held back (the stop came first)."""
        if run.phase is not Phase.DONE and generation == run.generation:
            run.phase = Phase.WAITING

    def _on_prepare(self, run: Run, outcome: Any, now: float, wall: datetime) -> None:
        if isinstance(outcome, BaseException):
            self._trigger_failed(run, outcome, now, wall, run.lookups)
            return
        run.prepared = outcome
        if outcome.found is not None:  # the run is already there: nothing to start
            self._started(run, outcome.found, now, wall)
            return
        run.phase = Phase.WAITING
        self._do(Next(run))  # its start goes next, ahead of runs not yet looked up

    def _start_unknown(self, run: Run, error: RunError, wall: datetime) -> None:
        """A start that may have made the run: look for it before anything else is sent."""
        if not self.settings.recovers:
            message = (
                f"{error.message}; the run may have started: {self.settings.command} sends no "
                "second start, as it cannot look for the run the first one may have made"
            )
            err = RunError(message, status=error.status, run_id=error.run_id, details=error.details)
            self._finish_with_error(run, err, wall)
            return
        run.unknown = run.retry_error = error
        run.phase = Phase.WAITING
        line = f"{error.message}: looking for the run it may have made before any retry"
        self._do(Report("message", (run.target, line)))
        self._do(Next(run))

    def _on_recover(self, run: Run, outcome: Any, now: float, wall: datetime) -> None:
        unknown = run.unknown
        assert unknown is not None
        if isinstance(outcome, RunState):
            run.unknown = run.retry_error = None
            line = outcome.message or "found the run the unanswered start had made: following it"
            self._do(Report("message", (run.target, line)))
            self._started(run, dataclasses.replace(outcome, message=None), now, wall)
            return
        if outcome is None:  # no run was made: the start may be sent again
            run.unknown = None
            message = f"{unknown.message} (no run was made)"
            retry = RunError(message, status=unknown.status, retryable=True)
            self._trigger_failed(run, retry, now, wall)
            return
        run.recover_failures += 1
        retryable = isinstance(outcome, RunError) and outcome.retryable
        delay = self._trigger_backoff(run.recover_failures, outcome)
        in_time = now + delay < self.settings.deadline
        if retryable and run.recover_failures < TRIGGER_ATTEMPTS and in_time:
            run.phase = Phase.WAITING
            what = (run.target, endings.describe(outcome), delay, run.recover_failures)
            self._do(Report("retrying", what))
            self._do(At(now + delay, Call.RECOVER, run, run.generation))
            return
        message = (
            f"{unknown.message}; the run may have started, and looking for it failed: "
            f"{endings.describe(outcome)}"
        )
        self._finish_with_error(run, RunError(message, status=RunStatus.ERROR), wall)

    def _trigger_backoff(self, failures: int, outcome: BaseException) -> float:
        delay = (
            self.settings.trigger_backoff_s * (2.0 ** (failures - 1)) * (0.5 + self.rng.random())
        )
        return max(delay, endings.retry_after(outcome))

    def _trigger_failed(
        self, run: Run, outcome: BaseException, now: float, wall: datetime, tries: int = 0
    ) -> None:
        """A look-up or start that failed after ``tries``: retried if it may be, else ended."""
        tries = tries or run.attempts
        if isinstance(outcome, RunError) and outcome.retryable and tries < TRIGGER_ATTEMPTS:
            delay = self._trigger_backoff(tries, outcome)
            in_time = now + delay < self.settings.deadline
            # A failed start that names the run it may have started waits for the deadline
            # like a running run (kept in its row, stopped with --cancel-on-exit); any other
            # (a throttle: nothing started) ends now if its retry would come too late.
            if in_time or outcome.run_id is not None:
                run.phase = Phase.WAITING
                run.retry_error = outcome
                if self.stopping or not in_time:
                    return  # no retry will be made
                self._do(Report("retrying", (run.target, outcome.message, delay, tries)))
                self._do(At(now + delay, Call.TRIGGER, run, run.generation))
                return
        self._finish_with_error(run, outcome, wall)

    def _started(self, run: Run, state: RunState, now: float, wall: datetime) -> None:
        """The trigger's answer (a start's, an adopted or found run's): follow or report it."""
        state = endings.with_identity(state, run.prepared)
        run.state = state
        run.retry_error = None
        run.attached = state.attached
        if state.status is not RunStatus.RUNNING:
            if state.message:  # a run that had ended before this attempt, say
                self._do(Report("message", (run.target, state.message)))
            self._finish(run, state, wall)
            return
        self._do(Report("triggered", (run.target, state)))
        if state.message:  # what the provider says of a run it joined or queued, say
            run.last_message = state.message
            self._do(Report("message", (run.target, state.message)))
        if not self.settings.wait:
            self._finish(run, endings.replace_status(state, RunStatus.STARTED), wall)
            return
        run.phase = Phase.RUNNING
        self._waiting += 1
        self._check_poll_budget()
        self._do(At(now + self.policy.first_delay(self.rng), Call.POLL, run, run.generation))

    def _on_poll(self, run: Run, outcome: Any, now: float, wall: datetime) -> None:
        assert run.state is not None
        if isinstance(outcome, RunError) and outcome.not_found:
            if self._lagging(run, outcome, now):
                return
            outcome = RunError(
                f"{outcome.message} (still not found {NOT_FOUND_GRACE_S:g} s after the start)",
                status=outcome.status,
                run_id=outcome.run_id,
                details=outcome.details,
            )
        if isinstance(outcome, BaseException):
            self._poll_failed(run, outcome, now, wall)
            return
        run.poll_failures = run.poll_throttles = run.not_found = 0
        run.last_seen = wall
        state = endings.merge(run.state, outcome)
        run.state = state
        if state.status.is_terminal:
            self._finish(run, state, wall)
            return
        if state.message and state.message != run.last_message:
            run.last_message = state.message
            self._do(Report("message", (run.target, state.message)))
        run.phase = Phase.RUNNING
        elapsed = now - (run.started_mono if run.started_mono is not None else now)
        self._do(At(now + self.policy.interval(elapsed), Call.POLL, run, run.generation))

    def _poll_failed(self, run: Run, outcome: BaseException, now: float, wall: datetime) -> None:
        final = isinstance(outcome, RunError) and not outcome.retryable
        # A throttle says the service is there and busy: the run goes on remotely, so it is
        # asked again, backing off, until the deadline rather than given up as untracked.
        throttled = (
            isinstance(outcome, RunError)
            and outcome.retryable
            and outcome.status is RunStatus.THROTTLED
        )
        if throttled:
            run.poll_throttles += 1
        else:
            run.poll_failures += 1
        if final or run.poll_failures >= self.policy.max_consecutive_failures:
            if not final:
                outcome = endings.untracked(outcome, run.poll_failures)
            self._finish_with_error(run, outcome, wall)
            return
        in_a_row = run.poll_throttles if throttled else run.poll_failures
        delay = max(self.policy.failure_backoff(in_a_row, self.rng), endings.retry_after(outcome))
        what = (run.target, endings.describe(outcome), delay, in_a_row)
        self._do(Report("poll_failed", what))
        run.phase = Phase.RUNNING
        self._do(At(now + delay, Call.POLL, run, run.generation))

    def _lagging(self, run: Run, error: RunError, now: float) -> bool:
        """A "no such run" answer within NOT_FOUND_GRACE_S of the start: a read that may lag
        the start (eventual consistency), asked again with backoff. True when it will be."""
        started = run.started_mono if run.started_mono is not None else now
        run.not_found += 1
        delay = self.policy.failure_backoff(run.not_found, self.rng)
        if now + delay - started > NOT_FOUND_GRACE_S:
            return False
        self._do(Report("poll_failed", (run.target, error.message, delay, run.not_found)))
        run.phase = Phase.RUNNING
        self._do(At(now + delay, Call.POLL, run, run.generation))
        return True

    def _check_poll_budget(self) -> None:
        """Say once when more runs wait than the poll rate can check every max_interval_s:
        each is then checked less often, and its end reported later than the schedule says."""
        if self._budget_said or self._waiting <= int(
            self.settings.poll_rate * self.policy.max_interval_s
        ):
            return
        self._budget_said = True
        # Those still to start will wait too: the figure is for all of them.
        waiting = self._waiting + sum(1 for run in self.runs if run.phase in NOT_STARTED)
        figures = endings.poll_budget(waiting, self.settings.poll_rate, self.policy.max_interval_s)
        self._do(Report("poll_budget", kwargs=figures))

    # -- endings --------------------------------------------------------------------------
    def _finish(self, run: Run, state: RunState, wall: datetime) -> None:
        if run.phase in (Phase.RUNNING, Phase.POLLING):
            self._waiting -= 1
        if run.phase is not Phase.DONE:
            self.unfinished -= 1
        run.phase = Phase.DONE
        run.generation += 1
        run.state = state
        run.result = endings.result_row(run.target, state, run.started_at, wall, run.attached)
        self._do(Finish(run, run.result))

    def _finish_with_error(self, run: Run, exc: BaseException, wall: datetime) -> None:
        """The row of a run ended by an error: the run id, console link and details known so
        far, with the error's own (its output and handle are not carried over). A start that
        may have made the run keeps the id its look-ups chose; any sent start, the details
        that name it (execution name, client token)."""
        may_exist = run.on_wire or run.unknown is not None
        if isinstance(exc, RunError):
            may_exist = may_exist or exc.outcome_unknown
        else:
            self._do(Report("unexpected", (run.target, exc)))
        previous = run.state or endings.known_state(run, may_exist) or RunState(RunStatus.ERROR)
        self._finish(run, endings.error_state(previous, exc), wall)

    def wind_down(self, stop: Stop, wall: datetime) -> tuple[list[Action], list[Run]]:
        """The final row of every unfinished run at ``stop``, and the runs to ask to stop
        first (their rows follow from :meth:`stopped`)."""
        to_cancel: list[Run] = []
        for run in [r for r in self.runs if r.phase is not Phase.DONE]:
            status, error = self.ending(run, stop, wall)
            may_exist = run.on_wire or run.unknown is not None
            base = run.state or endings.known_state(run, may_exist) or RunState(status=status)
            if endings.should_cancel(
                run, self.settings.cancel_on_exit and self.settings.can_cancel
            ):
                run.state = base
                to_cancel.append(run)
                continue
            self._finish(run, endings.replace_status(base, status, error), wall)
        return self._take(), to_cancel

    def ending(self, run: Run, stop: Stop, wall: datetime) -> tuple[RunStatus, str]:
        """The status and reason of a run unfinished at ``stop`` (for a run asked to stop, the
        reason ``cancel`` is given; the row adds what the remote system answered)."""
        facts = endings.unfinished(run, wall)
        settings = self.settings
        return endings.ending(
            facts, stop.signal_name, stop.limit, settings.cancel_on_exit and settings.can_cancel,
            settings.command, settings.can_cancel,
        )  # fmt: skip

    def stopped(self, run: Run, stop: Stop, answer: Any, wall: datetime) -> list[Action]:
        """The row of a run asked to stop: ``answer`` is what ``cancel`` returned or raised,
        or ``endings.NO_ANSWER`` when it did not answer in time."""
        status, reason = self.ending(run, stop, wall)
        assert run.state is not None
        self._finish(run, endings.stopped_state(run.state, status, reason, answer), wall)
        return self._take()
