"""The engine's poll schedule and rate cap, on an injected clock (no real waiting)."""

from __future__ import annotations

import itertools
import random
from typing import Any

from paradime.api import Runner, RunState, RunStatus, TargetOption, TriggerCommand
from paradime.engine import Engine
from paradime.output import Reporter
from paradime.polling import FakeClock, PollPolicy, RateLimiter


class TimedRunner(Runner):
    """Runs that end ``length_s`` seconds after their trigger, on the fake clock."""

    def __init__(self, clock: FakeClock, length_s: float) -> None:
        self.clock = clock
        self.length_s = length_s
        self.poll_times: dict[str, list[float]] = {}

    def trigger(self, target: str) -> RunState:
        return RunState(RunStatus.RUNNING, run_id=target, handle=self.clock.monotonic())

    def poll(self, target: str, state: RunState) -> RunState:
        now = self.clock.monotonic()
        self.poll_times.setdefault(target, []).append(now)
        done = now - state.handle >= self.length_s
        return RunState(RunStatus.SUCCEEDED if done else RunStatus.RUNNING)


def command(rate: float = 10.0) -> TriggerCommand:
    return TriggerCommand(
        name="timed",
        help="",
        provider="test",
        service="timed",
        target=TargetOption("--t", ""),
        factory=lambda params, context: None,  # type: ignore[arg-type,return-value]
        poll_rate_per_s=rate,
    )


def fake_time_engine(
    runner: Runner,
    targets: list[str],
    clock: FakeClock,
    *,
    rate: float = 10.0,
    timeout_s: float = 2 * 86400,
    reporter: Reporter | None = None,
    seed: int = 7,
) -> Engine:
    """An engine on virtual time, without signal handlers."""
    return Engine(
        command(rate),
        runner,
        targets,
        wait=True,
        timeout_s=timeout_s,
        max_concurrency=10,
        cancel_on_exit=False,
        reporter=reporter or Reporter("timed"),
        clock=clock,
        rng=random.Random(seed),
        handle_signals=False,
    )


def run_engine(length_s: float, targets: list[str], rate: float = 10.0) -> tuple[Engine, Any]:
    clock = FakeClock()
    runner = TimedRunner(clock, length_s)
    engine = fake_time_engine(runner, targets, clock, rate=rate)
    results = engine.run()
    return engine, (runner, results, clock)


def test_polls_back_off_as_the_run_ages():
    _engine, (runner, results, _clock) = run_engine(600, ["a"])
    times = runner.poll_times["a"]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] <= 2.0 + 1e-9
    assert max(gaps) <= 30.0 + 1e-9
    assert gaps[-1] > gaps[0] * 5
    assert results[0].status is RunStatus.SUCCEEDED


def test_detection_delay_is_within_ten_percent_or_two_seconds():
    for length in (5, 60, 600, 3600):
        _engine, (runner, _results, _clock) = run_engine(length, ["a"])
        detected = runner.poll_times["a"][-1] - 1000.0
        delay = detected - length
        assert 0 <= delay <= max(2.0, 0.1 * length) + 1e-6, (length, delay)


def test_ten_minute_run_costs_at_most_fifty_polls():
    _engine, (runner, _results, _clock) = run_engine(600, ["a"])
    assert len(runner.poll_times["a"]) <= 50


def test_runs_started_together_do_not_poll_together():
    _engine, (runner, _results, _clock) = run_engine(60, ["a", "b", "c"])
    firsts = {target: times[0] for target, times in runner.poll_times.items()}
    assert len(set(firsts.values())) == 3


def test_poll_rate_cap_is_never_exceeded():
    _engine, (runner, results, _clock) = run_engine(20, [f"r{i}" for i in range(200)], rate=25.0)
    all_times = sorted(t for times in runner.poll_times.values() for t in times)
    # In any one-second window no more than the burst plus the rate.
    for i, start in enumerate(all_times):
        window = [t for t in all_times[i : i + 80] if t < start + 1.0]
        assert len(window) <= 50
    assert all(r.status is RunStatus.SUCCEEDED for r in results)


def test_rate_limiter_refills_over_time():
    limiter = RateLimiter()
    limiter.configure("s", 2.0)
    assert limiter.acquire("s", 0.0) == 0.0
    assert limiter.acquire("s", 0.0) == 0.0
    wait = limiter.acquire("s", 0.0)
    assert 0.4 < wait <= 0.5
    assert limiter.acquire("s", 0.5) == 0.0


def test_policy_interval_is_clamped():
    policy = PollPolicy()
    assert policy.interval(0) == 2.0
    assert policy.interval(100) == 10.0
    assert policy.interval(10_000) == 30.0


def test_an_interrupt_is_handled_without_waiting_for_the_next_poll():
    import os
    import signal
    import threading
    import time

    from paradime.polling import Clock

    triggered = threading.Event()

    class Forever(Runner):
        def trigger(self, target: str) -> RunState:
            triggered.set()
            return RunState(RunStatus.RUNNING, run_id=target, handle=0)

        def poll(self, target: str, state: RunState) -> RunState:
            return RunState(RunStatus.RUNNING)

    slow = PollPolicy(min_interval_s=60.0, max_interval_s=60.0)
    engine = Engine(
        command(),
        Forever(),
        ["a"],
        wait=True,
        timeout_s=600,
        max_concurrency=1,
        cancel_on_exit=False,
        reporter=Reporter("timed"),
        clock=Clock(),
        policy=slow,
    )

    def interrupt_once_running() -> None:
        # Only once the engine's handlers are in place (it has triggered), on a loaded machine too.
        triggered.wait(30)
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_once_running, daemon=True).start()
    started = time.monotonic()
    results = engine.run()
    # The first poll is 30-60 s away: the interrupt must not wait for it.
    assert time.monotonic() - started < 15
    assert engine.exit_code_override == 130
    assert results[0].status is RunStatus.RUNNING
    assert results[0].run_id == "a"


def test_a_target_throttled_on_every_attempt_ends_once_its_next_backoff_would_pass_the_deadline():
    """Not at the deadline with 'not retried', and not after all six attempts: at its last
    attempt, with the throttle's own message. The other run goes on to the deadline."""
    from paradime.api import RunError, RunResult

    clock = FakeClock()
    attempts: list[float] = []
    finished_at: dict[str, float] = {}

    class Throttled(Runner):
        def trigger(self, target: str) -> RunState:
            if target == "busy":
                return RunState(RunStatus.RUNNING, run_id=target)
            attempts.append(clock.monotonic())
            raise RunError(
                "Rate exceeded (ThrottlingException)", status=RunStatus.THROTTLED, retryable=True
            )

        def poll(self, target: str, state: RunState) -> RunState:
            return RunState(RunStatus.RUNNING)

    class Recording(Reporter):
        def finished(self, result: RunResult) -> None:
            finished_at[result.target] = clock.monotonic()
            super().finished(result)

    start = clock.monotonic()
    engine = fake_time_engine(
        Throttled(), ["hot", "busy"], clock, timeout_s=10, reporter=Recording("timed"), seed=3
    )
    hot, busy = engine.run()
    assert hot.status is RunStatus.THROTTLED
    assert hot.error == "Rate exceeded (ThrottlingException)"
    assert 2 <= len(attempts) < 6  # ended by the deadline ahead, not by the attempts spent
    assert finished_at["hot"] == attempts[-1] < start + 10
    assert busy.status is RunStatus.TIMED_OUT
    assert finished_at["busy"] >= start + 10
