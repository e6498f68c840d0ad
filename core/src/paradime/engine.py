"""Internal: the run engine's driver: workers, the event queue, signals, rate caps and the reporter.

Every decision about a run is the lifecycle's (:mod:`paradime.lifecycle`, pure); this module
carries its actions out. Its threads:

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
``1 + min(C, N) + poll_threads(R, C, N)`` threads for N targets at concurrency C and poll rate R
(:func:`capacity`, the one place that sets them and the rate caps up), and each client at most
as many connections as threads calling it.

Provider code never sleeps and never starts threads: it makes one call per method.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import os
import queue
import random
import signal
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from types import FrameType
from typing import Any, NamedTuple

from paradime import endings, lifecycle
from paradime.api import Runner, RunResult, TriggerCommand
from paradime.endings import Stop
from paradime.lifecycle import (
    NOT_FOUND_GRACE_S,
    TRIGGER_ATTEMPTS,
    TRIGGER_BACKOFF_S,
    TRIGGER_CALLS,
    At,
    Call,
    Finish,
    Lifecycle,
    Next,
    Phase,
    Report,
    Run,
    Send,
)
from paradime.output import Reporter
from paradime.polling import Clock, PollPolicy, RateLimiter, poll_threads
from paradime.workers import Workers

__all__ = [
    "CANCEL_GRACE_S",
    "DEADLINE_GRACE_S",
    "INTERRUPT_GRACE_S",
    "NOT_FOUND_GRACE_S",
    "TRIGGER_ATTEMPTS",
    "TRIGGER_BACKOFF_S",
    "Capacity",
    "Engine",
    "capacity",
]

# After an interrupt: how long to wait for calls already sent (triggers, so their run ids are
# known; status checks, so a run that ended is not stopped), and for stop requests.
INTERRUPT_GRACE_S = 10.0
CANCEL_GRACE_S = 60.0
# At the deadline, the same wait for trigger calls on the wire, past the deadline by at most this
# (the shortest poll interval): a call answered in it gives its run id (to report, and to stop
# with --cancel-on-exit) or its throttle, instead of "no answer".
DEADLINE_GRACE_S = 2.0


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Capacity:
    """The threads and rate caps of one command run, set up in one place (:func:`capacity`)."""

    trigger_threads: int
    poll_threads: int
    poll_rate: float
    limiter: RateLimiter  # the service's status checks (and a poll's further pages)
    start_key: str | None  # the limiter's key for starts, when the command caps them

    @property
    def threads(self) -> int:
        """Worker threads calling the provider's clients at most (its connection pool size)."""
        return self.trigger_threads + self.poll_threads


def capacity(
    command: TriggerCommand,
    targets: int,
    max_concurrency: int,
    poll_rate_per_s: float | None = None,
    limiter: RateLimiter | None = None,
) -> Capacity:
    """The worker pools' sizes and the configured rate caps for ``targets`` targets."""
    rate = poll_rate_per_s or command.poll_rate_per_s
    limiter = limiter or RateLimiter()
    limiter.configure(command.service, rate)
    start_key = None
    if command.start_rate_per_s:  # starts have their own bucket: another API, another quota
        start_key = f"{command.service}:start"
        limiter.configure(start_key, command.start_rate_per_s, command.start_burst)
    return Capacity(
        trigger_threads=max(1, min(max_concurrency, targets)),
        poll_threads=poll_threads(rate, max_concurrency, targets),
        poll_rate=rate,
        limiter=limiter,
        start_key=start_key,
    )


class _Event(NamedTuple):
    """A worker's answer: the call's outcome (a RunState, an exception, or ``_NOT_SENT``)."""

    call: Call
    run: Run
    generation: int
    outcome: Any


class _NotSent:
    """The outcome of a trigger job that found the engine stopping: its call was never sent."""


_NOT_SENT = _NotSent()
_SIGNAL_NAMES: dict[int, str] = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}
_EXIT_CODES: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}


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
        rng: random.Random | None = None,
        handle_signals: bool = True,
        poll_rate_per_s: float | None = None,
        calls: Capacity | None = None,
    ) -> None:
        self.command, self.runner, self.reporter = command, runner, reporter
        self.timeout_s, self.max_concurrency = timeout_s, max_concurrency
        self.calls = calls or capacity(command, len(targets), max_concurrency, poll_rate_per_s)
        self.clock = clock or Clock()
        self.handle_signals = handle_signals
        self.settings = lifecycle.Settings(
            command=command.name,
            can_cancel=command.can_cancel,
            wait=wait,
            cancel_on_exit=cancel_on_exit,
            deadline=self.clock.monotonic() + timeout_s,  # set again when run() starts
            poll_rate=self.calls.poll_rate,
            # A runner with look-ups of its own (plugin API 7.3) has them made as a separate
            # step before its start; one written against 7.x is sent its whole trigger.
            prepares=type(runner).prepare is not Runner.prepare,
            recovers=type(runner).recover is not Runner.recover,
            trigger_backoff_s=TRIGGER_BACKOFF_S,
        )
        self.policy = policy or PollPolicy()
        self.rng = rng or random.Random()
        self.life = Lifecycle(targets, self.settings, self.policy, self.rng)
        self.events: queue.Queue[_Event] = queue.Queue()
        self.schedule: list[tuple[float, int, At]] = []  # status checks
        self.retries: list[tuple[float, int, At]] = []  # trigger steps waiting for their retry
        self._seq = itertools.count()
        self.inflight = 0
        # Runs whose next trigger step may be sent now, in order; at most max_concurrency out.
        self._ready: deque[Run] = deque(self.life.runs)
        self._triggers_out = 0
        self._next_start_at = 0.0  # when the start rate cap has a token again
        self._next_poll_at = 0.0  # likewise for status checks
        self.signal_received: int | None = None
        self.exit_signal: int | None = None
        # Held by a worker while it decides to send a trigger, and by the main thread when it
        # stops sending: no call leaves after the stop.
        self._send_lock = threading.Lock()
        self._stopping = False
        self.start_mono = self.clock.monotonic()
        self.trigger_pool = Workers(self.calls.trigger_threads, "trigger")
        self.poll_pool = Workers(self.calls.poll_threads, "poll")

    # -- public -------------------------------------------------------------------------
    def run(self) -> list[RunResult]:
        self.start_mono = self.clock.monotonic()
        self.settings = self.life.settings = dataclasses.replace(
            self.settings, deadline=self.start_mono + self.timeout_s
        )
        previous = self._install_signal_handlers()
        try:
            self.reporter.live_progress()
            self._loop()
        finally:
            self._restore_signal_handlers(previous)
            self.trigger_pool.shutdown()
            self.poll_pool.shutdown()
        return [run.result for run in self.life.runs if run.result is not None]

    @property
    def deadline(self) -> float:
        return self.settings.deadline

    @property
    def exit_code_override(self) -> int | None:
        """130 after SIGINT, 143 after SIGTERM, 2 when a trigger refused the input as a usage
        error, else None (the results decide)."""
        if self.exit_signal is not None:
            return _EXIT_CODES.get(self.exit_signal)
        return 2 if self.life.usage_error else None

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
    def _loop(self) -> None:
        minutes = self.timeout_s / 60
        while self.life.unfinished:
            if self.signal_received is not None:
                self.exit_signal = self.signal_received
                self._wind_down(Stop(_SIGNAL_NAMES.get(self.exit_signal, "SIGINT"), minutes))
                return
            now = self.clock.monotonic()
            if now >= self.deadline:
                self._wind_down(Stop(None, minutes))
                return
            self._dispatch_due(now)
            self._dispatch_starts(now)
            self.reporter.maybe_still_running(self._running_runs, now - self.start_mono, now)
            timeout = min(self.deadline, self.reporter.next_progress_at)
            if self.schedule:
                timeout = min(timeout, max(self.schedule[0][0], self._next_poll_at))
            if self.retries:
                timeout = min(timeout, self.retries[0][0])
            if self._ready and self._triggers_out < self.max_concurrency:
                timeout = min(timeout, self._next_start_at)
            event = self.clock.wait(self.events, max(0.0, timeout - now), self.inflight > 0)
            if event is not None:
                self._handle(event)

    def _running_runs(self) -> list[tuple[str, float]]:
        now = self.clock.monotonic()
        return [
            (run.target, now - (run.started_mono or self.start_mono))
            for run in self.life.runs
            if run.phase in (Phase.RUNNING, Phase.POLLING) or run.on_wire
        ]

    def _apply(self, actions: list[lifecycle.Action]) -> None:
        """Carry out what the lifecycle decided."""
        for action in actions:
            if isinstance(action, Report):
                getattr(self.reporter, action.what)(*action.args, **action.kwargs)
            elif isinstance(action, Finish):
                self.reporter.finished(action.result)
            elif isinstance(action, Next):
                self._ready.appendleft(action.run)
            elif isinstance(action, At):
                heap = self.retries if action.call in TRIGGER_CALLS else self.schedule
                heapq.heappush(heap, (action.when, next(self._seq), action))
            elif isinstance(action, Send):  # pragma: no cover - sends come from _dispatch_*
                raise AssertionError(action)

    @staticmethod
    def _stale(due: At) -> bool:
        return due.run.phase is Phase.DONE or due.generation != due.run.generation

    def _dispatch_due(self, now: float) -> None:
        """Retries that came due join the starts (ahead of the rest); status checks that came
        due are sent while the rate cap has tokens, the earliest due first."""
        while self.retries and self.retries[0][0] <= now:
            _when, _seq, due = heapq.heappop(self.retries)
            if not self._stale(due):
                self._ready.appendleft(due.run)
        while self.schedule and self.schedule[0][0] <= now:
            due = self.schedule[0][2]
            if self._stale(due):
                heapq.heappop(self.schedule)
                continue
            wait_s = self.calls.limiter.acquire(self.command.service, now)
            if wait_s > 0:
                # The rest are due too and would be refused alike: they wait their turn.
                self._next_poll_at = now + wait_s
                return
            heapq.heappop(self.schedule)
            self._submit_poll(self.life.check(due.run))

    def _dispatch_starts(self, now: float) -> None:
        """Send trigger steps in order while fewer than max_concurrency are out and the start
        rate cap (when the command declares one) has tokens."""
        while self._ready and self._triggers_out < self.max_concurrency:
            run = self._ready[0]
            if run.phase is Phase.DONE:
                self._ready.popleft()
                continue
            starting = run.unknown is None and (
                run.prepared is not None or not self.settings.prepares
            )
            key = self.calls.start_key
            if starting and key is not None:
                wait_s = self.calls.limiter.acquire(key, now)
                if wait_s > 0:
                    self._next_start_at = now + wait_s
                    return
            self._ready.popleft()
            self._submit_trigger(self.life.next_step(run))

    # -- calls --------------------------------------------------------------------------
    def _submit_trigger(self, send: Send) -> None:
        """Hand one step of a run's trigger to a worker: the look-ups, the start, or the
        recovery look-up. Nothing is sent once a stop has come; the start is checked under the
        lock the stop takes, so no start leaves after it."""
        run, call, generation, prepared = send.run, send.call, send.generation, send.run.prepared
        self.inflight += 1
        self._triggers_out += 1

        def job() -> None:
            with self._send_lock:
                sent, first = self.life.gate(
                    run,
                    call,
                    stopping=self._stopping,
                    signalled=self.signal_received is not None,
                    now=self.clock.monotonic(),
                    wall=_utcnow(),
                )
            if not sent:
                self.events.put(_Event(call, run, generation, _NOT_SENT))
                return
            if first:
                self.reporter.triggering(run.target)
            try:
                outcome: Any
                if call is Call.PREPARE:
                    outcome = self.runner.prepare(run.target)
                elif call is Call.RECOVER:
                    assert prepared is not None
                    outcome = self.runner.recover(run.target, prepared)
                else:
                    assert prepared is not None
                    outcome = self.runner.start(run.target, prepared)
            except BaseException as exc:  # reported as a result, never as a traceback
                outcome = exc
            self.events.put(_Event(call, run, generation, outcome))

        self.trigger_pool.submit(job)

    def _submit_poll(self, send: Send) -> None:
        run, generation, state = send.run, send.generation, send.run.state
        self.inflight += 1

        def job() -> None:
            try:
                assert state is not None
                outcome: Any = self.runner.poll(run.target, state)
            except BaseException as exc:
                outcome = exc
            self.events.put(_Event(Call.POLL, run, generation, outcome))

        self.poll_pool.submit(job)

    def _handle(self, event: _Event) -> None:
        self.inflight -= 1
        if event.call in TRIGGER_CALLS:
            self._triggers_out -= 1
        if event.outcome is _NOT_SENT:
            self.life.not_sent(event.run, event.generation)
            return
        now, wall = self.clock.monotonic(), _utcnow()
        self._apply(
            self.life.answer(event.call, event.run, event.generation, event.outcome, now, wall)
        )

    # -- winding down (deadline, signal) -------------------------------------------------
    def _wind_down(self, stop: Stop) -> None:
        """Stop sending, use the answers of calls already on the wire during the grace window,
        then give every unfinished run its final row, stopping the remote ones if asked to."""
        if stop.signal_name is not None:
            self.reporter.interrupted(stop.signal_name)
            grace_until = self.clock.monotonic() + INTERRUPT_GRACE_S
        else:
            self.reporter.deadline(stop.minutes)
            grace_until = self.deadline + DEADLINE_GRACE_S
        with self._send_lock:
            self._stopping = self.life.stopping = True
        self._await_calls(grace_until)
        actions, to_cancel = self.life.wind_down(stop, _utcnow())
        self._apply(actions)
        if to_cancel:
            self._cancel_runs(to_cancel, stop)

    def _await_calls(self, limit: float) -> None:
        """Wait until ``limit`` (monotonic) for the answers of trigger calls on the wire (so a
        run that started is reported with its run id, not lost) and of status checks in flight
        (so a run that ended is reported as it ended, and not sent a stop request). Answers are
        handled as usual; the retries and polls they would schedule are never made."""
        runs = self.life.runs
        while any(
            r.phase is not Phase.DONE and (r.on_wire or r.phase is Phase.POLLING) for r in runs
        ):
            now = self.clock.monotonic()
            if now >= limit:
                break
            event = self.clock.wait(self.events, limit - now, True)
            if event is not None:
                self._handle(event)

    def _cancel_runs(self, runs: list[Run], stop: Stop) -> None:
        """Ask for every stop at once; each row says what the remote system answered, within
        CANCEL_GRACE_S in all."""
        answers: queue.Queue[tuple[Run, Any]] = queue.Queue()
        for run in runs:
            _status, reason = self.life.ending(run, stop, _utcnow())
            self.reporter.stopping(run.target)

            def job(run: Run = run, reason: str = reason) -> None:
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
            self._apply(self.life.stopped(run, stop, answer, _utcnow()))
        for run in runs:
            if run.index in waiting:
                self._apply(self.life.stopped(run, stop, endings.NO_ANSWER, _utcnow()))
