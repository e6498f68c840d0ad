"""Behaviours a plausible one-line bug would break unseen by the end-to-end tests: each test
here fails on that bug (the mutant named in its docstring)."""

from __future__ import annotations

import random
import signal
from datetime import datetime, timezone

from paradime import lifecycle
from paradime.api import RunError, Runner, RunState, RunStatus, TargetOption, TriggerCommand
from paradime.engine import Engine
from paradime.lifecycle import At, Call, Finish, Lifecycle, Report
from paradime.output import Reporter
from paradime.polling import FakeClock, PollPolicy, RateLimiter
from paradime.redaction import Redactor

WALL = datetime(2026, 1, 1, tzinfo=timezone.utc)
COMMAND = TriggerCommand(
    name="pinned",
    help="",
    provider="test",
    service="pinned",
    target=TargetOption("--t", ""),
    factory=lambda params, context: None,  # type: ignore[arg-type,return-value]
)


class CountingRunner(Runner):
    def __init__(self) -> None:
        self.starts: list[str] = []

    def trigger(self, target: str) -> RunState:
        self.starts.append(target)
        return RunState(RunStatus.RUNNING, run_id=target)

    def poll(self, target: str, state: RunState) -> RunState:
        return RunState(RunStatus.SUCCEEDED)


def engine_stopped_as_the_start_is_handed_over(stop: str) -> tuple[Engine, CountingRunner]:
    """An engine whose trigger pool sees ``stop`` (a signal, the deadline) come between the
    main thread handing a start to a worker and the worker sending it."""
    clock, runner = FakeClock(), CountingRunner()
    engine = Engine(
        COMMAND,
        runner,
        ["a"],
        wait=True,
        timeout_s=60,
        max_concurrency=1,
        cancel_on_exit=False,
        reporter=Reporter("pinned"),
        clock=clock,
        rng=random.Random(1),
        handle_signals=False,
    )

    def submit(job):  # type: ignore[no-untyped-def]
        if stop == "signal":
            engine.signal_received = signal.SIGINT  # what the handler does, at once
        else:
            clock.advance(61)
        job()  # the worker, before the main thread looks again

    engine.trigger_pool.submit = submit  # type: ignore[method-assign]
    return engine, runner


def test_a_start_handed_over_as_ctrl_c_arrives_is_not_sent():
    """Mutant: the gate consults only the wind-down flag, not the signal flag."""
    engine, runner = engine_stopped_as_the_start_is_handed_over("signal")
    [row] = engine.run()
    assert runner.starts == []
    assert row.status is RunStatus.STOPPED and row.error == "not triggered: interrupted by SIGINT"
    assert engine.exit_code_override == 130


def test_a_start_handed_over_as_the_deadline_passes_is_not_sent():
    """Mutant: the gate consults only the wind-down flag, not the deadline."""
    engine, runner = engine_stopped_as_the_start_is_handed_over("deadline")
    [row] = engine.run()
    assert runner.starts == []
    assert row.status is RunStatus.STOPPED


def started_run(policy: PollPolicy | None = None) -> tuple[Lifecycle, lifecycle.Run]:
    settings = lifecycle.Settings(
        command="pinned",
        can_cancel=True,
        wait=True,
        cancel_on_exit=False,
        deadline=10_000.0,
        poll_rate=10.0,
        prepares=False,
        recovers=False,
    )
    life = Lifecycle(["a"], settings, policy, random.Random(3))
    [run] = life.runs
    send = life.next_step(run)
    life.gate(run, send.call, stopping=False, signalled=False, now=0.0, wall=WALL)
    life.answer(Call.TRIGGER, run, 0, RunState(RunStatus.RUNNING, run_id="r"), 0.0, WALL)
    return life, run


def poll(life: Lifecycle, run: lifecycle.Run, outcome: object, now: float) -> list:  # type: ignore[type-arg]
    life.check(run)
    return life.answer(Call.POLL, run, run.generation, outcome, now, WALL)


def test_scattered_status_check_failures_do_not_end_a_run():
    """Five failures, an answer, five failures: still followed. Mutant: a successful status
    check does not reset the failures-in-a-row count (the sixth blip ends the run as ERROR)."""
    life, run = started_run()
    blip = RunError("connection reset", retryable=True)
    actions = []
    for now in range(1, 12):
        outcome = RunState(RunStatus.RUNNING) if now == 6 else blip
        actions = poll(life, run, outcome, float(now))
    assert not any(isinstance(a, Finish) for a in actions), actions
    assert run.phase is lifecycle.Phase.RUNNING
    # The sixth in a row does end it.
    finished = [a for a in poll(life, run, blip, 12.0) if isinstance(a, Finish)]
    assert finished and "6 status checks in a row failed" in (finished[0].result.error or "")


def test_throttled_status_checks_back_off_by_the_throttle_count():
    """Five throttles in a row: the next check waits at least half the 30 s cap. Mutant: the
    backoff counts failures (none) instead of throttles, and re-asks every 1-2 s."""
    life, run = started_run()
    throttle = RunError("Rate exceeded", status=RunStatus.THROTTLED, retryable=True)
    delays = []
    for now in range(1, 6):
        [report, at] = poll(life, run, throttle, float(now))
        assert isinstance(report, Report) and isinstance(at, At)
        delays.append(at.when - now)
    assert delays[-1] >= 15.0, delays
    assert run.poll_failures == 0 and run.poll_throttles == 5


def test_the_rate_cap_saves_up_no_more_than_its_burst():
    """After an hour idle, a burst of at most ``burst`` checks. Mutant: the bucket is not
    capped at its burst (idle time saves up tokens, and a later wave exceeds --poll-rate)."""
    limiter = RateLimiter()
    limiter.configure("svc", 2.0, burst=3)
    granted = sum(1 for _ in range(10) if limiter.acquire("svc", 0.0) == 0.0)
    assert granted == 3
    granted = sum(1 for _ in range(10) if limiter.acquire("svc", 3600.0) == 0.0)
    assert granted == 3


def test_a_secret_containing_another_is_masked_whole():
    """Mutant: secrets registered shortest first (the longer one's remainder left in clear)."""
    redactor = Redactor()
    redactor.add("s3cr3t-tail")
    redactor.add("head-s3cr3t-tail-more")
    redactor.add("s3cr3t")
    assert redactor("token head-s3cr3t-tail-more end") == "token **** end"
