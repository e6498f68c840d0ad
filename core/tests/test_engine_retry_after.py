"""A retryable error may carry the remote system's Retry-After: the engine waits at least that
long before the retry (on an injected clock, no real waiting), and never past the deadline."""

from __future__ import annotations

import random

from paradime.api import RunError, Runner, RunState, RunStatus, TargetOption, TriggerCommand
from paradime.engine import Engine
from paradime.output import Reporter
from paradime.polling import FakeClock


class ThrottledRunner(Runner):
    """Refuses the first ``trigger_refusals`` starts and ``poll_refusals`` status checks with a
    throttle asking for ``retry_after_s``; records when each call came."""

    def __init__(
        self, clock: FakeClock, retry_after_s: float, trigger_refusals: int, poll_refusals: int
    ) -> None:
        self.clock = clock
        self.retry_after_s = retry_after_s
        self.trigger_refusals = trigger_refusals
        self.poll_refusals = poll_refusals
        self.trigger_times: list[float] = []
        self.poll_times: list[float] = []

    def _throttle(self) -> RunError:
        return RunError(
            "HTTP 429",
            status=RunStatus.THROTTLED,
            retryable=True,
            retry_after_s=self.retry_after_s,
        )

    def trigger(self, target: str) -> RunState:
        self.trigger_times.append(self.clock.monotonic())
        if len(self.trigger_times) <= self.trigger_refusals:
            raise self._throttle()
        return RunState(RunStatus.RUNNING, run_id="run-1", handle=1)

    def poll(self, target: str, state: RunState) -> RunState:
        self.poll_times.append(self.clock.monotonic())
        if len(self.poll_times) <= self.poll_refusals:
            raise self._throttle()
        return RunState(RunStatus.SUCCEEDED)


def run(runner: ThrottledRunner, clock: FakeClock, timeout_s: float = 3600.0) -> RunState:
    command = TriggerCommand(
        name="throttled",
        help="",
        provider="test",
        service="throttled",
        target=TargetOption("--t", ""),
        factory=lambda params, context: runner,
    )
    engine = Engine(
        command,
        runner,
        ["a"],
        wait=True,
        timeout_s=timeout_s,
        max_concurrency=1,
        cancel_on_exit=False,
        reporter=Reporter("throttled"),
        clock=clock,
        rng=random.Random(3),
        handle_signals=False,
    )
    [result] = engine.run()
    return RunState(result.status, run_id=result.run_id, error=result.error)


def test_a_trigger_retry_waits_for_the_retry_after_the_remote_system_asked_for():
    clock = FakeClock()
    runner = ThrottledRunner(clock, retry_after_s=45.0, trigger_refusals=2, poll_refusals=0)
    assert run(runner, clock).status is RunStatus.SUCCEEDED
    first, second, third = runner.trigger_times
    # Core's own backoff would be 0.5-1.5 s, then 1-3 s: the remote system's word wins.
    assert second - first >= 45.0
    assert third - second >= 45.0


def test_a_poll_retry_waits_for_the_retry_after_the_remote_system_asked_for():
    clock = FakeClock()
    runner = ThrottledRunner(clock, retry_after_s=20.0, trigger_refusals=0, poll_refusals=3)
    assert run(runner, clock).status is RunStatus.SUCCEEDED
    gaps = [b - a for a, b in zip(runner.poll_times, runner.poll_times[1:], strict=False)]
    assert len(gaps) == 3
    assert all(gap >= 20.0 for gap in gaps)


def test_a_short_retry_after_does_not_shorten_core_backoff():
    clock = FakeClock()
    runner = ThrottledRunner(clock, retry_after_s=0.0, trigger_refusals=1, poll_refusals=0)
    assert run(runner, clock).status is RunStatus.SUCCEEDED
    first, second = runner.trigger_times
    assert second - first >= 0.5  # core's first backoff is 0.5-1.5 s


def test_a_retry_after_beyond_the_deadline_ends_the_run_throttled_without_a_retry():
    clock = FakeClock()
    runner = ThrottledRunner(clock, retry_after_s=7200.0, trigger_refusals=1, poll_refusals=0)
    state = run(runner, clock, timeout_s=600.0)
    assert state.status is RunStatus.THROTTLED
    assert len(runner.trigger_times) == 1
