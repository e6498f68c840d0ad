"""The run engine: trigger every target, wait for the runs, and give each one a truthful result.

One engine serves every provider. Its threads:

* the main thread owns all state: it hands calls to the workers, reads their answers from one
  event queue, keeps the poll schedule (a heap of due times), enforces the deadline and reacts
  to signals. Signal handlers only set a flag, so nothing can deadlock inside a handler.
* up to ``max_concurrency`` daemon threads make trigger calls (a synchronous Lambda invoke
  can take 15 minutes; daemon threads never hold the process open past the deadline). The main
  thread hands out at most that many at once, and under the command's start rate cap when it
  declares one. A worker sends a trigger only after checking, under one lock, that no stop has
  come (signal, deadline): once the engine winds down, the calls already on the wire are the
  only ones there will be;
* a second pool makes poll and cancel calls, so slow triggers never delay the report of runs
  that already finished. Polls leave at most ``--poll-rate`` a second, so it needs only
  :func:`~paradime.polling.poll_threads` threads, however many runs there are.

Threads start when there is work for them: a run of synchronous invocations never starts a poll
thread, a run of one target one trigger thread. So a run has at most
``1 + min(C, N) + poll_threads(R, C, N)`` threads for N targets at concurrency C and poll rate R,
and each client at most as many connections as threads calling it.

Provider code never sleeps and never starts threads: it makes one call per method.
"""

from __future__ import annotations

import dataclasses
import enum
import heapq
import itertools
import os
import queue
import random
import signal
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from types import FrameType
from typing import Any, NamedTuple

from paradime.api import (
    Prepared,
    RunError,
    Runner,
    RunResult,
    RunState,
    RunStatus,
    TriggerCommand,
    UsageError,
)
from paradime.output import Reporter
from paradime.polling import Clock, PollPolicy, RateLimiter, poll_threads

# Trigger retries of retryable errors (throttles): attempts and the first backoff.
TRIGGER_ATTEMPTS = 6
TRIGGER_BACKOFF_S = 1.0
# After an interrupt: how long to wait for calls already sent (triggers, so their run ids are
# known; status checks, so a run that ended is not stopped), and for stop requests.
INTERRUPT_GRACE_S = 10.0
CANCEL_GRACE_S = 60.0
# At the deadline, the same wait for trigger calls on the wire, past the deadline by at most this
# (the shortest poll interval): a call answered in it gives its run id (to report, and to stop
# with --cancel-on-exit) or its throttle, instead of "no answer".
DEADLINE_GRACE_S = 2.0
# A status check that says "no such run" about a run this command started (or adopted) may be a
# read that lags the start (eventually consistent APIs): asked again, backing off, for this long
# after the start before the run is given up.
NOT_FOUND_GRACE_S = 60.0


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class _Phase(enum.Enum):
    """Where a run is; the main thread alone changes it."""

    WAITING = "waiting"  # not sent: new, or waiting for the retry of its start
    TRIGGERING = "triggering"  # handed to a trigger worker (``on_wire`` once the call is sent)
    RUNNING = "running"  # started; its next status check is scheduled
    POLLING = "polling"  # a status check is in flight
    DONE = "done"


_NOT_STARTED = (_Phase.WAITING, _Phase.TRIGGERING)


class _Call(enum.Enum):
    PREPARE = "prepare"  # the trigger's read-only look-ups
    TRIGGER = "trigger"  # the one run-creating call (``Runner.start``)
    RECOVER = "recover"  # after a start whose outcome is unknown: look for its run
    POLL = "poll"


# Calls handed to trigger workers (ordered, under --max-concurrency).
_TRIGGER_CALLS = (_Call.PREPARE, _Call.TRIGGER, _Call.RECOVER)


@dataclass
class _Run:
    index: int
    target: str
    state: RunState | None = None
    phase: _Phase = _Phase.WAITING
    started_at: datetime | None = None
    started_mono: float | None = None
    result: RunResult | None = None
    attempts: int = 0
    retry_error: RunError | None = None  # why the trigger waits for a retry, if it does
    on_wire: bool = False  # a worker has sent this run's trigger call and not yet answered
    poll_failures: int = 0
    poll_throttles: int = 0  # throttled status checks in a row: they back off, never give up
    generation: int = 0
    last_message: str | None = None
    attached: bool = False  # the trigger found the run already there instead of starting one
    prepared: Prepared | None = None  # the look-ups' answer, kept from the first attempt on
    unknown: RunError | None = None  # a start whose outcome is unknown, until recovery says
    recover_failures: int = 0
    lookups: int = 0  # attempts at the look-ups (``attempts`` counts starts)
    last_seen: datetime | None = None  # when a status check last answered
    not_found: int = 0  # status checks in a row that found no such run (a lagging read?)
    sent: bool = False  # a start call has left for this run (it may exist remotely)


class _Event(NamedTuple):
    """A worker's answer: the call's outcome (a RunState, an exception, or ``_NOT_SENT``)."""

    call: _Call
    run: _Run
    generation: int
    outcome: Any


class _Due(NamedTuple):
    """A scheduled call; the heap orders by time, then by ``seq`` (unique)."""

    when: float
    seq: int
    call: _Call
    run: _Run
    generation: int


@dataclass(frozen=True)
class _Stop:
    """Why the engine winds down: the deadline (``signal_name`` None) or a signal."""

    signal_name: str | None
    minutes: float

    @property
    def limit(self) -> str:
        return f"the {self.minutes:g}-minute timeout"


class _NotSent:
    """The outcome of a trigger job that found the engine stopping: its call was never sent."""


_NOT_SENT = _NotSent()
_NO_ANSWER = object()  # a stop request not answered within CANCEL_GRACE_S
# A stop answer with one of these says the run had already ended on its own.
_ENDED_ON_ITS_OWN = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT)
_SIGNAL_NAMES: dict[int, str] = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}
_EXIT_CODES: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}


class _Workers:
    """Daemon worker threads pulling jobs from a queue; a thread starts when a job would
    otherwise wait for one, up to ``size``."""

    def __init__(self, size: int, name: str) -> None:
        self.size = max(1, size)
        self.name = name
        self.jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self.threads: list[threading.Thread] = []
        self._idle = 0  # threads waiting for a job
        self._queued = 0  # jobs no thread has taken yet
        self._lock = threading.Lock()

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            with self._lock:
                self._idle -= 1
                if job is not None:
                    self._queued -= 1
            if job is None:
                return
            job()
            with self._lock:
                self._idle += 1

    def submit(self, job: Callable[[], None]) -> None:
        thread = None
        with self._lock:
            self._queued += 1
            if self._queued > self._idle and len(self.threads) < self.size:
                thread = threading.Thread(
                    target=self._work, name=f"{self.name}-{len(self.threads)}", daemon=True
                )
                self.threads.append(thread)
                self._idle += 1
        self.jobs.put(job)
        if thread is not None:
            thread.start()

    def shutdown(self) -> None:
        for _ in self.threads:
            self.jobs.put(None)


class Engine:
    """Runs one trigger command over its targets. Create one per command run."""

    def __init__(
        self,
        command: TriggerCommand,
        runner: Runner,
        targets: Sequence[str],
        *,
        wait: bool,
        timeout_s: float,
        max_concurrency: int,
        cancel_on_exit: bool,
        reporter: Reporter,
        clock: Clock | None = None,
        policy: PollPolicy | None = None,
        limiter: RateLimiter | None = None,
        rng: random.Random | None = None,
        handle_signals: bool = True,
        poll_rate_per_s: float | None = None,
    ) -> None:
        self.command = command
        self.runner = runner
        self.runs = [_Run(i, t) for i, t in enumerate(targets)]
        self.wait = wait
        self.timeout_s = timeout_s
        self.max_concurrency = max_concurrency
        self.cancel_on_exit = cancel_on_exit
        self.reporter = reporter
        self.clock = clock or Clock()
        self.policy = policy or PollPolicy()
        self.limiter = limiter or RateLimiter()
        self.poll_rate = poll_rate_per_s or command.poll_rate_per_s
        self.limiter.configure(command.service, self.poll_rate)
        # Starts have their own bucket: another API, another quota.
        self._start_key: str | None = None
        if command.start_rate_per_s:
            self._start_key = f"{command.service}:start"
            self.limiter.configure(self._start_key, command.start_rate_per_s, command.start_burst)
        # A runner with look-ups of its own (plugin API 8) has them made as a separate step
        # before its start; one written against 7.x is sent its whole trigger as the start.
        self._prepares = type(runner).prepare is not Runner.prepare
        self._recovers = type(runner).recover is not Runner.recover
        self.rng = rng or random.Random()
        self.handle_signals = handle_signals
        self.events: queue.Queue[_Event] = queue.Queue()
        self.schedule: list[_Due] = []  # status checks
        self.retries: list[_Due] = []  # starts waiting for their retry
        self._seq = itertools.count()
        self.inflight = 0
        # Runs whose start may be sent now, in order; at most max_concurrency are out at once.
        self._ready: deque[_Run] = deque(self.runs)
        self._triggers_out = 0
        self._next_start_at = 0.0  # when the start rate cap has a token again
        self._next_poll_at = 0.0  # likewise for status checks
        self._unfinished_count = len(self.runs)
        self._waiting_count = 0  # runs started and waited for (their end is polled)
        self._poll_budget_said = False
        self.signal_received: int | None = None
        self.exit_signal: int | None = None
        # Held by a worker while it decides to send a trigger, and by the main thread when it
        # stops sending: no call leaves after the stop.
        self._send_lock = threading.Lock()
        self._stopping = False
        # Set again when run() starts: the deadline counts from then.
        self.start_mono = self.clock.monotonic()
        self.deadline = self.start_mono + timeout_s
        self.trigger_pool = _Workers(min(max_concurrency, len(self.runs)), "trigger")
        self.poll_pool = _Workers(
            poll_threads(self.poll_rate, max_concurrency, len(self.runs)), "poll"
        )
        # A trigger refused the input as a usage error (a different input under the
        # idempotency key): the command exits 2.
        self.usage_error = False

    # -- public -------------------------------------------------------------------------
    def run(self) -> list[RunResult]:
        self.start_mono = self.clock.monotonic()
        self.deadline = self.start_mono + self.timeout_s
        previous = self._install_signal_handlers()
        try:
            self.reporter.live_progress()
            self._loop()
        finally:
            self._restore_signal_handlers(previous)
            self.trigger_pool.shutdown()
            self.poll_pool.shutdown()
        return [run.result for run in self.runs if run.result is not None]

    @property
    def exit_code_override(self) -> int | None:
        """130 after SIGINT, 143 after SIGTERM, 2 when a trigger refused the input as a usage
        error, else None (the results decide)."""
        if self.exit_signal is not None:
            return _EXIT_CODES.get(self.exit_signal)
        return 2 if self.usage_error else None

    # -- signals ------------------------------------------------------------------------
    def _install_signal_handlers(self) -> dict[int, Any]:
        previous: dict[int, Any] = {}
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return previous
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, self._on_signal)
        return previous

    def _restore_signal_handlers(self, previous: dict[int, Any]) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.signal_received is not None:
            # A second interrupt: the user wants out now.
            os._exit(_EXIT_CODES.get(signum, 130))
        self.signal_received = signum

    # -- main loop ----------------------------------------------------------------------
    def _unfinished(self) -> list[_Run]:
        return [run for run in self.runs if run.phase is not _Phase.DONE]

    def _loop(self) -> None:
        minutes = self.timeout_s / 60
        while self._unfinished_count:
            if self.signal_received is not None:
                self.exit_signal = self.signal_received
                self._wind_down(_Stop(_SIGNAL_NAMES.get(self.exit_signal, "SIGINT"), minutes))
                return
            now = self.clock.monotonic()
            if now >= self.deadline:
                self._wind_down(_Stop(None, minutes))
                return
            self._dispatch_due(now)
            self._dispatch_starts(now)
            self.reporter.maybe_still_running(self._running_runs, now - self.start_mono, now)
            timeout = min(self.deadline, self.reporter.next_progress_at)
            if self.schedule:
                timeout = min(timeout, max(self.schedule[0].when, self._next_poll_at))
            if self.retries:
                timeout = min(timeout, self.retries[0].when)
            if self._ready and self._triggers_out < self.max_concurrency:
                timeout = min(timeout, self._next_start_at)
            event = self.clock.wait(self.events, max(0.0, timeout - now), self.inflight > 0)
            if event is not None:
                self._handle(event)

    def _running_runs(self) -> list[tuple[str, float]]:
        now = self.clock.monotonic()
        return [
            (run.target, now - (run.started_mono or self.start_mono))
            for run in self.runs
            if run.phase in (_Phase.RUNNING, _Phase.POLLING) or run.on_wire
        ]

    def _schedule(self, when: float, call: _Call, run: _Run) -> None:
        heap = self.retries if call in _TRIGGER_CALLS else self.schedule
        heapq.heappush(heap, _Due(when, next(self._seq), call, run, run.generation))

    def _dispatch_due(self, now: float) -> None:
        """Retries that came due join the starts (ahead of the rest); status checks that came
        due are sent while the rate cap has tokens, the earliest due first."""
        while self.retries and self.retries[0].when <= now:
            due = heapq.heappop(self.retries)
            if due.run.phase is not _Phase.DONE and due.generation == due.run.generation:
                self._ready.appendleft(due.run)
        while self.schedule and self.schedule[0].when <= now:
            due = self.schedule[0]
            if due.run.phase is _Phase.DONE or due.generation != due.run.generation:
                heapq.heappop(self.schedule)
                continue
            wait_s = self.limiter.acquire(self.command.service, now)
            if wait_s > 0:
                # The rest are due too and would be refused alike: they wait their turn.
                self._next_poll_at = now + wait_s
                return
            heapq.heappop(self.schedule)
            self._submit_poll(due.run)

    def _dispatch_starts(self, now: float) -> None:
        """Send starts in order while fewer than max_concurrency are out and the start rate cap
        (when the command declares one) has tokens."""
        while self._ready and self._triggers_out < self.max_concurrency:
            run = self._ready[0]
            if run.phase is _Phase.DONE:
                self._ready.popleft()
                continue
            call = self._next_trigger_call(run)
            if call is _Call.TRIGGER and self._start_key is not None:
                wait_s = self.limiter.acquire(self._start_key, now)
                if wait_s > 0:
                    self._next_start_at = now + wait_s
                    return
            self._ready.popleft()
            self._submit_trigger(run, call)

    def _next_trigger_call(self, run: _Run) -> _Call:
        """What a run waiting to start needs next: the look-up for the run an unanswered start
        may have made, its own look-ups, or its start."""
        if run.unknown is not None:
            return _Call.RECOVER
        if run.prepared is None:
            if self._prepares:
                return _Call.PREPARE
            run.prepared = Prepared()
        return _Call.TRIGGER

    # -- calls --------------------------------------------------------------------------
    def _submit_trigger(self, run: _Run, call: _Call) -> None:
        """Hand one step of a run's trigger to a worker: the look-ups, the start, or the
        recovery look-up. Nothing is sent once a stop has come; the start is checked under the
        lock the stop takes, so no start leaves after it."""
        run.phase = _Phase.TRIGGERING
        if call is _Call.TRIGGER:
            run.attempts += 1
        elif call is _Call.PREPARE:
            run.lookups += 1
        self.inflight += 1
        self._triggers_out += 1
        generation = run.generation
        prepared = run.prepared

        def job() -> None:
            with self._send_lock:
                if self._stop_sending():
                    self.events.put(_Event(call, run, generation, _NOT_SENT))
                    return
                if call is _Call.TRIGGER:
                    run.on_wire = run.sent = True
                first = run.started_at is None
                if first:
                    run.started_at = _utcnow()
                    run.started_mono = self.clock.monotonic()
            if first:
                self.reporter.triggering(run.target)
            try:
                outcome: Any
                if call is _Call.PREPARE:
                    outcome = self.runner.prepare(run.target)
                elif call is _Call.RECOVER:
                    assert prepared is not None
                    outcome = self.runner.recover(run.target, prepared)
                else:
                    assert prepared is not None
                    outcome = self.runner.start(run.target, prepared)
            except BaseException as exc:  # reported as a result, never as a traceback
                outcome = exc
            self.events.put(_Event(call, run, generation, outcome))

        self.trigger_pool.submit(job)

    def _stop_sending(self) -> bool:
        """True once no trigger may leave: a signal came (its handler sets the flag at once),
        the deadline passed, or the engine is winding down. Called under ``_send_lock``."""
        return (
            self._stopping
            or self.signal_received is not None
            or self.clock.monotonic() >= self.deadline
        )

    def _submit_poll(self, run: _Run) -> None:
        run.phase = _Phase.POLLING
        self.inflight += 1
        state = run.state
        generation = run.generation

        def job() -> None:
            try:
                assert state is not None
                outcome: Any = self.runner.poll(run.target, state)
            except BaseException as exc:
                outcome = exc
            self.events.put(_Event(_Call.POLL, run, generation, outcome))

        self.poll_pool.submit(job)

    # -- events -------------------------------------------------------------------------
    def _handle(self, event: _Event) -> None:
        run = event.run
        self.inflight -= 1
        if event.call in _TRIGGER_CALLS:
            self._triggers_out -= 1
        if event.call is _Call.TRIGGER:
            run.on_wire = False
        if run.phase is _Phase.DONE or event.generation != run.generation:
            return
        now = self.clock.monotonic()
        outcome = event.outcome
        if event.call is _Call.POLL:
            self._on_poll(run, outcome, now)
            return
        if outcome is _NOT_SENT:
            run.phase = _Phase.WAITING  # never sent: the stop came first
            return
        if isinstance(outcome, UsageError):
            # Found only by asking the remote system (the idempotency key's run has another
            # input): this target's row says why, the others go on, the command exits 2.
            self.usage_error = True
            self._finish(run, RunState(RunStatus.ERROR, error=str(outcome)))
            return
        if event.call is _Call.PREPARE:
            self._on_prepare(run, outcome, now)
        elif event.call is _Call.RECOVER:
            self._on_recover(run, outcome, now)
        else:
            self._on_trigger(run, outcome, now)

    def _on_prepare(self, run: _Run, outcome: Any, now: float) -> None:
        if isinstance(outcome, BaseException):
            self._trigger_failed(run, outcome, now, run.lookups)
            return
        prepared: Prepared = outcome
        run.prepared = prepared
        if prepared.found is not None:  # the run is already there: nothing to start
            self._started(run, prepared.found, now)
            return
        run.phase = _Phase.WAITING
        self._ready.appendleft(run)  # its start goes next, ahead of runs not yet looked up

    def _on_trigger(self, run: _Run, outcome: Any, now: float) -> None:
        if isinstance(outcome, RunError) and outcome.outcome_unknown:
            self._start_unknown(run, outcome)
        elif isinstance(outcome, BaseException):
            self._trigger_failed(run, outcome, now, run.attempts)
        else:
            self._started(run, outcome, now)

    def _start_unknown(self, run: _Run, error: RunError) -> None:
        """A start that may have made the run: look for it before anything else is sent."""
        if not self._recovers:
            self._finish_with_error(
                run,
                RunError(
                    f"{error.message}; the run may have started: {self.command.name} sends no "
                    "second start, as it cannot look for the run the first one may have made",
                    status=error.status,
                    run_id=error.run_id,
                    details=error.details,
                ),
            )
            return
        run.unknown = run.retry_error = error
        run.phase = _Phase.WAITING
        self.reporter.message(
            run.target, f"{error.message}: looking for the run it may have made before any retry"
        )
        self._ready.appendleft(run)

    def _on_recover(self, run: _Run, outcome: Any, now: float) -> None:
        unknown = run.unknown
        assert unknown is not None
        if isinstance(outcome, RunState):
            run.unknown = run.retry_error = None
            self.reporter.message(
                run.target,
                outcome.message or "found the run the unanswered start had made: following it",
            )
            self._started(run, dataclasses.replace(outcome, message=None), now)
            return
        if outcome is None:  # no run was made: the start may be sent again
            run.unknown = None
            retry = RunError(
                f"{unknown.message} (no run was made)", status=unknown.status, retryable=True
            )
            self._trigger_failed(run, retry, now, run.attempts)
            return
        run.recover_failures += 1
        retryable = isinstance(outcome, RunError) and outcome.retryable
        delay = TRIGGER_BACKOFF_S * (2 ** (run.recover_failures - 1)) * (0.5 + self.rng.random())
        delay = max(delay, _retry_after(outcome))
        if retryable and run.recover_failures < TRIGGER_ATTEMPTS and now + delay < self.deadline:
            run.phase = _Phase.WAITING
            self.reporter.retrying(run.target, _describe(outcome), delay, run.recover_failures)
            self._schedule(now + delay, _Call.RECOVER, run)
            return
        self._finish_with_error(
            run,
            RunError(
                f"{unknown.message}; the run may have started, and looking for it failed: "
                f"{_describe(outcome)}",
                status=RunStatus.ERROR,
            ),
        )

    def _trigger_failed(self, run: _Run, outcome: BaseException, now: float, attempts: int) -> None:
        """A look-up or start that failed after ``attempts`` attempts: retried when it may
        be, else the row's error."""
        if isinstance(outcome, RunError) and outcome.retryable and attempts < TRIGGER_ATTEMPTS:
            delay = TRIGGER_BACKOFF_S * (2 ** (attempts - 1)) * (0.5 + self.rng.random())
            delay = max(delay, _retry_after(outcome))
            in_time = now + delay < self.deadline
            # A failed start that names the run it may have started waits for the deadline
            # like a running run (kept in its row, stopped with --cancel-on-exit); any other
            # (a throttle: nothing started) ends now if its retry would come too late.
            if in_time or outcome.run_id is not None:
                run.phase = _Phase.WAITING
                run.retry_error = outcome
                if self._stopping or not in_time:
                    return  # no retry will be made
                self.reporter.retrying(run.target, outcome.message, delay, attempts)
                self._schedule(now + delay, _Call.TRIGGER, run)
                return
        self._finish_with_error(run, outcome)

    def _started(self, run: _Run, state: RunState, now: float) -> None:
        """The trigger's answer (a start's, an adopted or found run's): follow or report it."""
        state = _with_identity(state, run.prepared)
        run.state = state
        run.retry_error = None
        run.attached = state.attached
        if state.status is RunStatus.RUNNING:
            self.reporter.triggered(run.target, state)
            if state.message:  # what the provider says of a run it joined or queued, say
                run.last_message = state.message
                self.reporter.message(run.target, state.message)
            if not self.wait:
                self._finish(run, _replace_status(state, RunStatus.STARTED))
                return
            run.phase = _Phase.RUNNING
            self._waiting_count += 1
            self._check_poll_budget()
            self._schedule(now + self.policy.first_delay(self.rng), _Call.POLL, run)
            return
        if state.message:  # a run that had ended before this attempt, say
            self.reporter.message(run.target, state.message)
        self._finish(run, state)

    def _on_poll(self, run: _Run, outcome: Any, now: float) -> None:
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
                    outcome = _wrap_poll_failure(outcome, run.poll_failures)
                self._finish_with_error(run, outcome)
                return
            in_a_row = run.poll_throttles if throttled else run.poll_failures
            delay = max(self.policy.failure_backoff(in_a_row, self.rng), _retry_after(outcome))
            self.reporter.poll_failed(run.target, _describe(outcome), delay, in_a_row)
            run.phase = _Phase.RUNNING
            self._schedule(now + delay, _Call.POLL, run)
            return
        run.poll_failures = run.poll_throttles = run.not_found = 0
        run.last_seen = _utcnow()
        state = _merge(run.state, outcome)
        run.state = state
        if state.status.is_terminal:
            self._finish(run, state)
            return
        if state.message and state.message != run.last_message:
            run.last_message = state.message
            self.reporter.message(run.target, state.message)
        run.phase = _Phase.RUNNING
        elapsed = now - (run.started_mono or self.start_mono)
        self._schedule(now + self.policy.interval(elapsed), _Call.POLL, run)

    def _lagging(self, run: _Run, error: RunError, now: float) -> bool:
        """A "no such run" answer within NOT_FOUND_GRACE_S of the start: a read that may lag
        the start (eventual consistency), asked again with backoff. True when it will be."""
        started = run.started_mono if run.started_mono is not None else self.start_mono
        run.not_found += 1
        delay = self.policy.failure_backoff(run.not_found, self.rng)
        if now + delay - started > NOT_FOUND_GRACE_S:
            return False
        self.reporter.poll_failed(run.target, error.message, delay, run.not_found)
        run.phase = _Phase.RUNNING
        self._schedule(now + delay, _Call.POLL, run)
        return True

    # -- endings ------------------------------------------------------------------------
    def _check_poll_budget(self) -> None:
        """Say once when more runs wait than the poll rate can check every max_interval_s:
        each is then checked less often, and its end reported later than the schedule says."""
        keeps = int(self.poll_rate * self.policy.max_interval_s)
        if self._poll_budget_said or self._waiting_count <= keeps:
            return
        self._poll_budget_said = True
        # Those still to start will wait too: the figure is for all of them.
        waiting = self._waiting_count + sum(1 for run in self.runs if run.phase in _NOT_STARTED)
        self.reporter.poll_budget(
            waiting=waiting,
            rate=self.poll_rate,
            keeps=keeps,
            every_s=max(self.policy.max_interval_s, waiting / self.poll_rate),
            interval_s=self.policy.max_interval_s,
        )

    def _finish(self, run: _Run, state: RunState) -> None:
        if run.phase in (_Phase.RUNNING, _Phase.POLLING):
            self._waiting_count -= 1
        if run.phase is not _Phase.DONE:
            self._unfinished_count -= 1
        run.phase = _Phase.DONE
        run.generation += 1
        run.state = state
        run.result = RunResult(
            target=run.target,
            status=state.status,
            run_id=state.run_id,
            started_at=run.started_at,
            finished_at=_utcnow(),
            error=state.error,
            output=state.output,
            console_url=state.console_url,
            details=dict(state.details),
            attached=run.attached,
        )
        self.reporter.finished(run.result)

    def _finish_with_error(self, run: _Run, exc: BaseException) -> None:
        """The row of a run ended by an error: the run id, console link and details known so
        far, with the error's own (its output and handle are not carried over). A start that
        may have made the run keeps the id its look-ups chose; any sent start, the details
        that name it (execution name, client token)."""
        may_exist = run.on_wire or run.unknown is not None
        if isinstance(exc, RunError):
            may_exist = may_exist or exc.outcome_unknown
        previous = run.state or self._known_state(run, may_exist) or RunState(RunStatus.ERROR)
        if isinstance(exc, RunError):
            status, run_id, message, details = exc.status, exc.run_id, exc.message, exc.details
        else:
            self.reporter.unexpected(run.target, exc)
            status, run_id, message, details = RunStatus.ERROR, None, _describe(exc), {}
        state = RunState(
            status=status,
            run_id=run_id or previous.run_id,
            error=message,
            console_url=previous.console_url,
            details={**previous.details, **details},
        )
        self._finish(run, state)

    # -- winding down (deadline, signal) -------------------------------------------------
    def _wind_down(self, stop: _Stop) -> None:
        """Stop sending, use the answers of calls already on the wire during the grace window,
        then give every unfinished run its final row, stopping the remote ones if asked to."""
        if stop.signal_name is not None:
            self.reporter.interrupted(stop.signal_name)
            grace_until = self.clock.monotonic() + INTERRUPT_GRACE_S
        else:
            self.reporter.deadline(stop.minutes)
            grace_until = self.deadline + DEADLINE_GRACE_S
        with self._send_lock:
            self._stopping = True
        self._await_calls(grace_until)
        to_cancel: list[_Run] = []
        for run in self._unfinished():
            status, error = self._ending(run, stop)
            may_exist = run.on_wire or run.unknown is not None
            base = run.state or self._known_state(run, may_exist) or RunState(status=status)
            if self._should_cancel(run):
                run.state = base
                to_cancel.append(run)
                continue
            self._finish(run, _replace_status(base, status, error))
        if to_cancel:
            self._cancel_runs(to_cancel, stop)

    def _await_calls(self, limit: float) -> None:
        """Wait until ``limit`` (monotonic) for the answers of trigger calls on the wire (so a
        run that started is reported with its run id, not lost) and of status checks in flight
        (so a run that ended is reported as it ended, and not sent a stop request). Answers are
        handled as usual; the retries and polls they would schedule are never made."""
        while any(run.on_wire or run.phase is _Phase.POLLING for run in self._unfinished()):
            now = self.clock.monotonic()
            if now >= limit:
                break
            event = self.clock.wait(self.events, limit - now, True)
            if event is not None:
                self._handle(event)

    def _ending(self, run: _Run, stop: _Stop) -> tuple[RunStatus, str]:
        """The status and reason of a run unfinished at ``stop`` (for a run asked to stop, the
        reason ``cancel`` is given; the row adds what the remote system answered)."""
        name, limit = stop.signal_name, stop.limit
        stoppable = self.cancel_on_exit and self.command.can_cancel
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
        if run.unknown is not None and run.phase in _NOT_STARTED:
            cause = f"interrupted by {name}" if name is not None else f"stopped at {limit}"
            text = (
                f"{run.unknown.message}; the run may have started ({cause} before the look-up "
                "for it answered)"
            )
            if stoppable:
                return RunStatus.STOPPED, text
            return RunStatus.ERROR, f"{text}; {self._stop_hint}"
        error = run.retry_error
        if run.phase in _NOT_STARTED and error is not None:  # every attempt so far failed
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
            if stoppable:
                return RunStatus.STOPPED, waiting
            return RunStatus.ERROR, f"{waiting}; {self._stop_hint}"
        if run.phase in _NOT_STARTED or run.state is None:
            if name is not None:
                return RunStatus.STOPPED, f"not triggered: interrupted by {name}"
            return RunStatus.STOPPED, f"not triggered before {limit}"
        if name is not None:
            if stoppable:
                return RunStatus.STOPPED, f"interrupted by {name}"
            return (
                RunStatus.RUNNING,
                f"interrupted by {name}; still running remotely ({self._stop_hint})",
            )
        still = f"still running at {limit}"
        if run.poll_throttles or run.poll_failures or run.not_found:
            # The last answer is all that is known: the run may have ended since.
            seen = (run.last_seen or run.started_at or _utcnow()).astimezone().strftime("%H:%M:%S")
            what = "throttled" if run.poll_throttles else "failing"
            still = f"last seen RUNNING at {seen}; status checks {what} since, until {limit}"
        if stoppable:
            return RunStatus.TIMED_OUT, still
        return RunStatus.TIMED_OUT, f"{still}; not stopped ({self._stop_hint})"

    @property
    def _stop_hint(self) -> str:
        if self.command.can_cancel:
            return "--cancel-on-exit stops it"
        return f"{self.command.name} cannot stop its runs"

    @staticmethod
    def _known_state(run: _Run, may_exist: bool) -> RunState | None:
        """What is known of a run whose start was sent but gave no state: the run id, handle
        and details a failed attempt named (a start waiting for its retry that may have
        started the run), and those its look-ups chose before the call (the id only when the
        run ``may_exist``: a start refused outright made nothing to name)."""
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
            RunStatus.RUNNING,
            run_id=run_id,
            handle=handle,
            details=details,
            console_url=console_url,
        )

    def _should_cancel(self, run: _Run) -> bool:
        """Stop it remotely: asked to, the provider can, and the remote system may know the run
        (it started, or a start waiting for its retry names the run it may have started)."""
        if not (self.cancel_on_exit and self.command.can_cancel) or run.on_wire:
            return False
        if run.phase in _NOT_STARTED:
            if run.unknown is not None:
                known = self._known_state(run, may_exist=True)
                return known is not None and known.run_id is not None and known.handle is not None
            return run.retry_error is not None and run.retry_error.run_id is not None
        return run.state is not None and run.state.run_id is not None

    def _cancel_runs(self, runs: list[_Run], stop: _Stop) -> None:
        """Ask for every stop at once; each row says what the remote system answered, within
        CANCEL_GRACE_S in all."""
        answers: queue.Queue[tuple[_Run, Any]] = queue.Queue()
        for run in runs:
            _status, reason = self._ending(run, stop)
            self.reporter.stopping(run.target)

            def job(run: _Run = run, reason: str = reason) -> None:
                try:
                    assert run.state is not None
                    answers.put((run, self.runner.cancel(run.target, run.state, reason)))
                except BaseException as exc:
                    answers.put((run, exc))

            self.poll_pool.submit(job)
        waiting = {run.index for run in runs}
        limit = self.clock.monotonic() + CANCEL_GRACE_S
        while waiting and self.clock.monotonic() < limit:
            try:
                run, answer = answers.get(timeout=0.2)
            except queue.Empty:
                continue
            waiting.discard(run.index)
            self._finish_stopped(run, stop, answer)
        for run in runs:
            if run.index in waiting:
                self._finish_stopped(run, stop, _NO_ANSWER)

    def _finish_stopped(self, run: _Run, stop: _Stop, answer: Any) -> None:
        """The row of a run asked to stop: ``answer`` is what ``cancel`` returned or raised,
        or ``_NO_ANSWER`` when it did not answer in time."""
        status, reason = self._ending(run, stop)
        assert run.state is not None
        if isinstance(answer, RunState) and answer.status in _ENDED_ON_ITS_OWN:
            # The run had ended before the stop request reached it: report how.
            ended = _merge(run.state, answer)
            if ended.status is RunStatus.SUCCEEDED:
                ended = dataclasses.replace(ended, error=None)
            self._finish(run, ended)
            return
        if answer is _NO_ANSWER:
            error = f"{reason}; no answer to the request to stop it"
        elif isinstance(answer, BaseException):
            error = f"{reason}; the request to stop it failed: {_describe(answer)}"
        else:
            remote = answer.status.value if isinstance(answer, RunState) else "unknown"
            error = f"{reason}; stop requested (remote status: {remote})"
            if isinstance(answer, RunState) and answer.error:
                error += f": {answer.error}"
        self._finish(run, _replace_status(run.state, status, error))


def _with_identity(state: RunState, prepared: Prepared | None) -> RunState:
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


def _replace_status(state: RunState, status: RunStatus, error: str | None = None) -> RunState:
    """``state`` with a new status (and error, when given)."""
    return dataclasses.replace(
        state,
        status=status,
        error=error if error is not None else state.error,
        details=dict(state.details),
    )


def _merge(previous: RunState, new: RunState) -> RunState:
    """A poll's answer over what was known: the fields it leaves empty keep their value."""
    return dataclasses.replace(
        new,
        run_id=new.run_id or previous.run_id,
        output=new.output if new.output is not None else previous.output,
        console_url=new.console_url or previous.console_url,
        handle=new.handle if new.handle is not None else previous.handle,
        details={**previous.details, **new.details},
    )


def _retry_after(exc: BaseException) -> float:
    """The wait the remote system asked for (``RunError.retry_after_s``), else 0."""
    seconds = getattr(exc, "retry_after_s", None) if isinstance(exc, RunError) else None
    return max(0.0, float(seconds)) if seconds is not None else 0.0


def _describe(exc: BaseException) -> str:
    if isinstance(exc, RunError):
        return exc.message
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _wrap_poll_failure(exc: BaseException, failures: int) -> RunError:
    status = exc.status if isinstance(exc, RunError) else RunStatus.ERROR
    run_id = exc.run_id if isinstance(exc, RunError) else None
    return RunError(
        f"could not track the run: {failures} status checks in a row failed; last error: "
        f"{_describe(exc)}",
        status=status,
        run_id=run_id,
    )
