"""The run engine: trigger every target, wait for the runs, and give each one a truthful result.

One engine serves every provider. Its threads:

* the main thread owns all state: it hands calls to the workers, reads their answers from one
  event queue, keeps the poll schedule (a heap of due times), enforces the deadline and reacts
  to signals. Signal handlers only set a flag, so nothing can deadlock inside a handler.
* a pool of ``max_concurrency`` daemon threads makes trigger calls (a synchronous Lambda invoke
  can take 15 minutes; daemon threads never hold the process open past the deadline);
* a second pool of the same size makes poll and cancel calls, so slow triggers never delay the
  report of runs that already finished.

Provider code never sleeps and never starts threads: it makes one call per method.
"""

from __future__ import annotations

import heapq
import itertools
import os
import queue
import random
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from types import FrameType
from typing import Any

from paradime.api import (
    RunError,
    Runner,
    RunResult,
    RunState,
    RunStatus,
    TriggerCommand,
    UsageError,
)
from paradime.output import Reporter
from paradime.polling import Clock, PollPolicy, RateLimiter

# Trigger retries of retryable errors (throttles): attempts and the first backoff.
TRIGGER_ATTEMPTS = 6
TRIGGER_BACKOFF_S = 1.0
# After an interrupt: how long to wait for trigger calls already sent, so their run ids are
# known, and for stop requests.
INTERRUPT_GRACE_S = 10.0
CANCEL_GRACE_S = 60.0
# At the deadline, the same wait for trigger calls on the wire, past the deadline by at most this
# (the shortest poll interval): a call answered in it gives its run id (to report, and to stop
# with --cancel-on-exit) or its throttle, instead of "no answer".
DEADLINE_GRACE_S = 2.0


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class _Run:
    index: int
    target: str
    state: RunState | None = None
    phase: str = "pending"  # pending, triggering, running, polling, done
    started_at: datetime | None = None
    started_mono: float | None = None
    result: RunResult | None = None
    attempts: int = 0
    retry_error: RunError | None = None  # why the trigger waits for a retry, if it does
    poll_failures: int = 0
    cancelled: bool = False
    generation: int = 0
    last_message: str | None = None
    attached: bool = False  # the trigger found the run already there instead of starting one


class _Workers:
    """Daemon worker threads pulling jobs from a queue."""

    def __init__(self, size: int, name: str) -> None:
        self.jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self.threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(max(1, size))
        ]
        for thread in self.threads:
            thread.start()

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            job()

    def submit(self, job: Callable[[], None]) -> None:
        self.jobs.put(job)

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
        self.limiter.configure(command.service, command.poll_rate_per_s)
        self.rng = rng or random.Random()
        self.handle_signals = handle_signals
        self.events: queue.Queue[tuple[str, _Run, int, Any]] = queue.Queue()
        self.schedule: list[tuple[float, int, str, _Run, int]] = []
        self._seq = itertools.count()
        self.inflight = 0
        self.signal_received: int | None = None
        self.exit_signal: int | None = None
        # A trigger refused the input as a usage error (a different input under the
        # idempotency key): the command exits 2.
        self.usage_error = False

    # -- public -------------------------------------------------------------------------
    def run(self) -> list[RunResult]:
        start = self.clock.monotonic()
        self.deadline = start + self.timeout_s
        self.start_mono = start
        self.trigger_pool = _Workers(min(self.max_concurrency, len(self.runs)), "trigger")
        self.poll_pool = _Workers(min(self.max_concurrency, len(self.runs)), "poll")
        previous = self._install_signal_handlers()
        try:
            self.reporter.live_progress()
            for run in self.runs:
                self._submit_trigger(run)
            self._loop()
        finally:
            self._restore_signal_handlers(previous)
            self.trigger_pool.shutdown()
            self.poll_pool.shutdown()
        return [run.result for run in self.runs if run.result is not None]

    @property
    def exit_code_override(self) -> int | None:
        if self.exit_signal == signal.SIGINT:
            return 130
        if self.exit_signal == signal.SIGTERM:
            return 143
        if self.usage_error:
            return 2
        return None

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
            os._exit(130 if signum == signal.SIGINT else 143)
        self.signal_received = signum

    # -- main loop ----------------------------------------------------------------------
    def _pending(self) -> list[_Run]:
        return [run for run in self.runs if run.phase != "done"]

    def _loop(self) -> None:
        while self._pending():
            if self.signal_received is not None:
                self._on_interrupt(self.signal_received)
                return
            now = self.clock.monotonic()
            if now >= self.deadline:
                self._on_deadline()
                return
            self._dispatch_due(now)
            self.reporter.maybe_still_running(self._running_runs, now - self.start_mono, now)
            timeout = self.deadline - now
            if self.schedule:
                timeout = min(timeout, max(0.0, self.schedule[0][0] - now))
            timeout = min(timeout, self.reporter.next_progress_at - now)
            event = self.clock.wait(self.events, max(0.0, timeout), self.inflight > 0)
            if event is not None:
                self._handle(event)

    def _running_runs(self) -> list[tuple[str, float]]:
        now = self.clock.monotonic()
        return [
            (run.target, now - (run.started_mono or self.start_mono))
            for run in self.runs
            if run.phase in ("running", "polling", "triggering")
        ]

    def _schedule(self, when: float, kind: str, run: _Run) -> None:
        heapq.heappush(self.schedule, (when, next(self._seq), kind, run, run.generation))

    def _dispatch_due(self, now: float) -> None:
        while self.schedule and self.schedule[0][0] <= now:
            _when, _, kind, run, generation = heapq.heappop(self.schedule)
            if run.phase == "done" or generation != run.generation:
                continue
            if kind == "trigger":
                self._submit_trigger(run)
                continue
            wait_s = self.limiter.acquire(self.command.service, now)
            if wait_s > 0:
                self._schedule(now + wait_s, kind, run)
                continue
            self._submit_poll(run)

    # -- calls --------------------------------------------------------------------------
    def _submit_trigger(self, run: _Run) -> None:
        run.phase = "triggering"
        run.attempts += 1
        self.inflight += 1
        generation = run.generation

        def job() -> None:
            if run.cancelled:
                self.events.put(("trigger", run, generation, _Skipped()))
                return
            if run.started_at is None:
                run.started_at = _utcnow()
                run.started_mono = self.clock.monotonic()
                self.reporter.triggering(run.target)
            try:
                outcome: Any = self.runner.trigger(run.target)
            except BaseException as exc:  # reported as a result, never as a traceback
                outcome = exc
            self.events.put(("trigger", run, generation, outcome))

        self.trigger_pool.submit(job)

    def _submit_poll(self, run: _Run) -> None:
        run.phase = "polling"
        self.inflight += 1
        state = run.state
        generation = run.generation

        def job() -> None:
            try:
                assert state is not None
                outcome: Any = self.runner.poll(run.target, state)
            except BaseException as exc:
                outcome = exc
            self.events.put(("poll", run, generation, outcome))

        self.poll_pool.submit(job)

    # -- events -------------------------------------------------------------------------
    def _handle(self, event: tuple[str, _Run, int, Any]) -> None:
        kind, run, generation, outcome = event
        self.inflight -= 1
        if run.phase == "done" or generation != run.generation:
            return
        now = self.clock.monotonic()
        if kind == "trigger":
            self._on_trigger(run, outcome, now)
        else:
            self._on_poll(run, outcome, now)

    def _on_trigger(self, run: _Run, outcome: Any, now: float) -> None:
        if isinstance(outcome, _Skipped):
            return
        if isinstance(outcome, UsageError):
            # Found only by asking the remote system (the idempotency key's run has another
            # input): this target's row says why, the others go on, the command exits 2.
            self.usage_error = True
            self._finish(run, RunState(RunStatus.ERROR, error=str(outcome)))
            return
        if isinstance(outcome, BaseException):
            if (
                isinstance(outcome, RunError)
                and outcome.retryable
                and run.attempts < TRIGGER_ATTEMPTS
            ):
                delay = TRIGGER_BACKOFF_S * (2 ** (run.attempts - 1)) * (0.5 + self.rng.random())
                delay = max(delay, _retry_after(outcome))
                if now + delay < self.deadline:
                    run.phase = "pending"
                    run.retry_error = outcome
                    self.reporter.retrying(run.target, outcome.message, delay, run.attempts)
                    self._schedule(now + delay, "trigger", run)
                    return
            self._finish_with_error(run, outcome)
            return
        state: RunState = outcome
        run.state = state
        run.attached = state.attached
        if state.status is RunStatus.RUNNING:
            self.reporter.triggered(run.target, state)
            if state.message:  # what the provider says of a run it joined or queued, say
                run.last_message = state.message
                self.reporter.message(run.target, state.message)
            if not self.wait:
                self._finish(run, _replace_status(state, RunStatus.STARTED))
                return
            run.phase = "running"
            self._schedule(now + self.policy.first_delay(self.rng), "poll", run)
            return
        if state.message:  # a run that had ended before this attempt, say
            self.reporter.message(run.target, state.message)
        self._finish(run, state)

    def _on_poll(self, run: _Run, outcome: Any, now: float) -> None:
        assert run.state is not None
        if isinstance(outcome, BaseException):
            final = isinstance(outcome, RunError) and not outcome.retryable
            run.poll_failures += 1
            if final or run.poll_failures >= self.policy.max_consecutive_failures:
                if not final:
                    outcome = _wrap_poll_failure(outcome, run.poll_failures)
                self._finish_with_error(run, outcome)
                return
            delay = max(
                self.policy.failure_backoff(run.poll_failures, self.rng), _retry_after(outcome)
            )
            self.reporter.poll_failed(run.target, _describe(outcome), delay, run.poll_failures)
            run.phase = "running"
            self._schedule(now + delay, "poll", run)
            return
        run.poll_failures = 0
        state = _merge(run.state, outcome)
        run.state = state
        if state.status.is_terminal:
            self._finish(run, state)
            return
        if state.message and state.message != run.last_message:
            run.last_message = state.message
            self.reporter.message(run.target, state.message)
        run.phase = "running"
        elapsed = now - (run.started_mono or self.start_mono)
        self._schedule(now + self.policy.interval(elapsed), "poll", run)

    # -- endings ------------------------------------------------------------------------
    def _finish(self, run: _Run, state: RunState) -> None:
        run.phase = "done"
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
        if isinstance(exc, RunError):
            previous = run.state or RunState(status=RunStatus.ERROR)
            state = RunState(
                status=exc.status,
                run_id=exc.run_id or previous.run_id,
                error=exc.message,
                console_url=previous.console_url,
                details={**previous.details, **exc.details},
            )
        else:
            previous = run.state or RunState(status=RunStatus.ERROR)
            state = RunState(
                status=RunStatus.ERROR,
                run_id=previous.run_id,
                error=_describe(exc),
                console_url=previous.console_url,
                details=dict(previous.details),
            )
            self.reporter.unexpected(run.target, exc)
        self._finish(run, state)

    def _end_unfinished(self, status_for: Callable[[_Run], tuple[RunStatus, str]]) -> None:
        """Give every unfinished run its final row; stop the remote ones if asked to."""
        to_cancel: list[_Run] = []
        for run in self._pending():
            run.cancelled = True
            started = run.state is not None and run.state.run_id is not None
            if (
                started
                and run.phase != "pending"
                and self.cancel_on_exit
                and self.command.can_cancel
            ):
                to_cancel.append(run)
                continue
            status, error = status_for(run)
            base = run.state or RunState(status=status)
            self._finish(run, _replace_status(base, status, error))
        if to_cancel:
            self._cancel_runs(to_cancel, status_for)

    def _cancel_runs(
        self, runs: list[_Run], status_for: Callable[[_Run], tuple[RunStatus, str]]
    ) -> None:
        answers: queue.Queue[tuple[_Run, Any]] = queue.Queue()
        for run in runs:
            status, reason = status_for(run)
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
            status, reason = status_for(run)
            assert run.state is not None
            if isinstance(answer, BaseException):
                error = f"{reason}; the request to stop it failed: {_describe(answer)}"
            else:
                remote = answer.status.value if isinstance(answer, RunState) else "unknown"
                error = f"{reason}; stop requested (remote status: {remote})"
                if isinstance(answer, RunState) and answer.error:
                    error += f": {answer.error}"
            self._finish(run, _replace_status(run.state, status, error))
        for run in runs:
            if run.index in waiting:
                status, reason = status_for(run)
                assert run.state is not None
                error = f"{reason}; no answer to the request to stop it"
                self._finish(run, _replace_status(run.state, status, error))

    @property
    def _stop_hint(self) -> str:
        if self.command.can_cancel:
            return "--cancel-on-exit stops it"
        return f"{self.command.name} cannot stop its runs"

    def _on_deadline(self) -> None:
        minutes = self.timeout_s / 60
        self.reporter.deadline(minutes)
        for run in self.runs:
            if run.phase == "pending":
                run.cancelled = True
        self._await_triggers(self.deadline + DEADLINE_GRACE_S)

        def status_for(run: _Run) -> tuple[RunStatus, str]:
            limit = f"the {minutes:g}-minute timeout"
            if run.phase == "pending" and run.retry_error is not None:
                # Every attempt so far was refused (a throttle): nothing can still start.
                error = run.retry_error
                return error.status, f"{error.message}; not retried after {limit}"
            if run.phase == "pending" and run.started_at is None:
                return RunStatus.TIMED_OUT, f"not triggered before {limit}"
            if run.phase == "triggering" or run.state is None:
                return (
                    RunStatus.TIMED_OUT,
                    f"no answer from the trigger call before {limit}; the run may still complete",
                )
            if self.cancel_on_exit and self.command.can_cancel:
                return RunStatus.TIMED_OUT, f"still running at {limit}"
            return (
                RunStatus.TIMED_OUT,
                f"still running at {limit}; not stopped ({self._stop_hint})",
            )

        self._end_unfinished(status_for)

    def _await_triggers(self, limit: float) -> None:
        """Trigger calls already on the wire: wait for their answers until ``limit`` (monotonic),
        so that a run that started is reported with its run id, not lost. Answers are handled as
        usual; retries and polls they would schedule are left to the caller's ending."""
        while any(r.phase == "triggering" and r.started_at is not None for r in self.runs):
            now = self.clock.monotonic()
            if now >= limit:
                break
            try:
                kind, run, generation, outcome = self.events.get(timeout=min(0.2, limit - now))
            except queue.Empty:
                continue
            self.inflight -= 1
            if kind != "trigger" or run.phase == "done" or generation != run.generation:
                continue
            if isinstance(outcome, _Skipped):
                run.phase = "pending"
                continue
            self._on_trigger(run, outcome, self.clock.monotonic())

    def _on_interrupt(self, signum: int) -> None:
        self.exit_signal = signum
        name = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
        self.reporter.interrupted(name)
        for run in self.runs:
            if run.phase == "pending":
                run.cancelled = True
        self._await_triggers(self.clock.monotonic() + INTERRUPT_GRACE_S)

        def status_for(run: _Run) -> tuple[RunStatus, str]:
            if run.started_at is None or run.phase == "pending":
                return RunStatus.STOPPED, f"not triggered: interrupted by {name}"
            if run.phase == "triggering" or run.state is None:
                return (
                    RunStatus.ERROR,
                    f"interrupted by {name} while the trigger call was in flight; "
                    "the run may have started",
                )
            if self.cancel_on_exit and self.command.can_cancel:
                return RunStatus.STOPPED, f"interrupted by {name}"
            return (
                RunStatus.RUNNING,
                f"interrupted by {name}; still running remotely ({self._stop_hint})",
            )

        self._end_unfinished(status_for)


class _Skipped:
    """A trigger job that found its run cancelled before it started."""


def _replace_status(state: RunState, status: RunStatus, error: str | None = None) -> RunState:
    return RunState(
        status=status,
        run_id=state.run_id,
        error=error if error is not None else state.error,
        output=state.output,
        console_url=state.console_url,
        message=state.message,
        handle=state.handle,
        details=dict(state.details),
    )


def _merge(previous: RunState, new: RunState) -> RunState:
    return RunState(
        status=new.status,
        run_id=new.run_id or previous.run_id,
        error=new.error,
        output=new.output if new.output is not None else previous.output,
        console_url=new.console_url or previous.console_url,
        message=new.message,
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
