"""Concurrency, the poll budget and the start rate cap: what each default allows, and the threads
a run starts (issue 17). Engine tests run on an injected clock; CLI tests use the scripted
provider."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest

from paradime.api import Runner, RunState, RunStatus, TargetOption, TriggerCommand
from paradime.engine import Engine
from paradime.output import Reporter
from paradime.polling import FakeClock, poll_threads
from paradime.testing import run_cli


def declared(rate: float = 5.0, **fields: Any) -> TriggerCommand:
    return TriggerCommand(
        name="budget",
        help="",
        service="budget",
        target=TargetOption("--t", ""),
        factory=lambda params, context: None,  # type: ignore[arg-type,return-value]
        poll_rate_per_s=rate,
        **fields,
    )


class Timed(Runner):
    """Runs that end ``length_s`` after their trigger (virtual time); records every call."""

    def __init__(self, clock: FakeClock, length_s: float) -> None:
        self.clock, self.length_s = clock, length_s
        self.triggers: list[float] = []
        self.polls: list[float] = []

    def trigger(self, target: str) -> RunState:
        self.triggers.append(self.clock.monotonic())
        return RunState(RunStatus.RUNNING, run_id=target, handle=self.clock.monotonic())

    def poll(self, target: str, state: RunState) -> RunState:
        now = self.clock.monotonic()
        self.polls.append(now)
        done = now - state.handle >= self.length_s
        return RunState(RunStatus.SUCCEEDED if done else RunStatus.RUNNING)


class Said(Reporter):
    """A reporter that keeps the poll-budget warnings it was asked to give."""

    def __init__(self) -> None:
        super().__init__("budget")
        self.budget: list[dict[str, Any]] = []

    def poll_budget(self, **figures: Any) -> None:
        self.budget.append(figures)
        super().poll_budget(**figures)


def virtual_engine(
    command: TriggerCommand, runner: Runner, targets: int, clock: FakeClock, **options: Any
) -> Engine:
    return Engine(
        command,
        runner,
        [f"t{i}" for i in range(targets)],
        wait=True,
        timeout_s=86400,
        max_concurrency=options.pop("max_concurrency", 10),
        cancel_on_exit=False,
        reporter=options.pop("reporter", None) or Reporter("budget"),
        clock=clock,
        rng=random.Random(3),
        handle_signals=False,
        **options,
    )


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    first, most = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


# -- the poll rate is the user's ---------------------------------------------------------------
def test_status_checks_keep_to_the_declared_rate_by_default():
    clock = FakeClock()
    runner = Timed(clock, 120)
    virtual_engine(declared(rate=5), runner, 300, clock).run()
    # A token bucket of one second's worth: at most twice the rate in any one second.
    assert most_in_one_second(runner.polls) <= 10


def test_a_raised_poll_rate_checks_more_often_and_sees_ends_sooner():
    ends: dict[float, float] = {}
    for rate in (5.0, 40.0):
        clock = FakeClock()
        runner = Timed(clock, 120)
        virtual_engine(declared(rate=5), runner, 300, clock, poll_rate_per_s=rate).run()
        assert most_in_one_second(runner.polls) <= 2 * rate
        ends[rate] = clock.monotonic()
    # 300 runs: at 5/s one round of checks takes 60 s; at 40/s every run keeps its schedule.
    assert ends[40.0] < ends[5.0] - 20


def test_one_warning_when_more_runs_wait_than_the_rate_checks_every_30_seconds():
    clock = FakeClock()
    reporter = Said()
    virtual_engine(declared(rate=5), Timed(clock, 60), 200, clock, reporter=reporter).run()
    assert reporter.budget == [
        {"waiting": 200, "rate": 5.0, "keeps": 150, "every_s": 40.0, "interval_s": 30.0}
    ]


def test_no_warning_while_the_rate_checks_every_run_every_30_seconds():
    clock = FakeClock()
    reporter = Said()
    virtual_engine(declared(rate=5), Timed(clock, 60), 150, clock, reporter=reporter).run()
    assert reporter.budget == []


def test_the_warning_names_the_figure_and_the_option(scripted):
    # The scripted provider's tests poll every 0.2 s at most: at 0.1 checks a second no run
    # can keep to that, so four runs are too many.
    jobs = "ok-99-a,ok-99-b,ok-99-c,ok-99-d"
    result = run_cli(
        ["run", "scripted-run", "--job", jobs, "--poll-rate", "0.1", "--timeout-minutes", "0.02"],
        env={"NO_COLOR": "1"},
    )
    lines = [line for line in result.stderr.splitlines() if "runs to wait for" in line]
    assert len(lines) == 1, result.stderr
    assert "4 runs to wait for, more than 0 (what --poll-rate 0.1 checks every 0.2 s)" in lines[0]
    assert "each run is checked about every 40 s" in lines[0]
    assert "Raise --poll-rate" in lines[0]


@pytest.mark.parametrize("value", ["0", "-1", "nan", "1001", "fast"])
def test_a_poll_rate_out_of_range_is_a_usage_error_before_any_call(scripted, value):
    result = run_cli(["run", "scripted-run", "--job", "ok", "--poll-rate", value])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert "--poll-rate" in line
    assert not scripted.calls.triggers


def test_help_shows_the_declared_poll_rate_and_concurrency(scripted):
    shown = run_cli(["run", "scripted-run", "--help"], env={"COLUMNS": "200"}).stdout
    assert "--poll-rate PER_SECOND" in shown
    assert "[default: 10.0]" in shown.split("--poll-rate", 1)[1].split("--", 1)[0]
    assert "[default: 10]" in shown.split("--max-concurrency", 1)[1].split("--", 1)[0]


# -- starts ------------------------------------------------------------------------------------
def test_starts_keep_to_the_declared_start_rate_after_the_burst():
    clock = FakeClock()
    runner = Timed(clock, 5)
    command = declared(rate=50, start_rate_per_s=10, start_burst=100)
    virtual_engine(command, runner, 300, clock, max_concurrency=50).run()
    first = runner.triggers[0]
    assert sum(1 for at in runner.triggers if at == first) == 100  # the burst goes at once
    later = [at for at in runner.triggers if at > first]
    assert most_in_one_second(later) <= 10 + 1  # a token bucket: rate x span + one
    assert later[-1] - first >= 19  # 200 more at 10 a second


def test_without_a_start_rate_only_concurrency_bounds_starts():
    clock = FakeClock()
    runner = Timed(clock, 5)
    virtual_engine(declared(rate=50), runner, 300, clock, max_concurrency=50).run()
    assert len(set(runner.triggers)) == 1  # every start at once, in batches of 50 threads


# -- threads -----------------------------------------------------------------------------------
class Holding(Runner):
    """Synchronous runs that hold their trigger call ``hold_s`` (real time), as a synchronous
    invocation does; counts the calls in flight at once."""

    def __init__(self, hold_s: float, poll: bool = False) -> None:
        self.hold_s, self.poll_runs = hold_s, poll
        self.lock = threading.Lock()
        self.in_flight = self.most = 0

    def trigger(self, target: str) -> RunState:
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        time.sleep(self.hold_s)
        with self.lock:
            self.in_flight -= 1
        if self.poll_runs:
            return RunState(RunStatus.RUNNING, run_id=target, handle=0)
        return RunState(RunStatus.SUCCEEDED, run_id=target)

    def poll(self, target: str, state: RunState) -> RunState:
        return RunState(RunStatus.SUCCEEDED)


def real_engine(runner: Runner, targets: int, clock: FakeClock | None = None) -> Engine:
    """An engine at concurrency 100 and a poll rate of 5 a second."""
    return Engine(
        declared(rate=5),
        runner,
        [f"t{i}" for i in range(targets)],
        wait=True,
        timeout_s=600,
        max_concurrency=100,
        cancel_on_exit=False,
        reporter=Reporter("budget"),
        clock=clock,
        handle_signals=False,
    )


def engine_threads(engine: Engine) -> tuple[int, int]:
    return len(engine.trigger_pool.threads), len(engine.poll_pool.threads)


def test_a_thousand_synchronous_runs_use_concurrency_threads_and_no_poll_thread():
    runner = Holding(0.05)
    engine = real_engine(runner, 1000)
    results = engine.run()
    assert [r.status for r in results] == [RunStatus.SUCCEEDED] * 1000
    assert runner.most == 100  # as many at once as allowed...
    assert engine_threads(engine) == (100, 0)  # ...on that many threads, none to poll


def test_poll_threads_follow_the_poll_rate_not_the_concurrency():
    engine = real_engine(Holding(0.001, poll=True), 300, FakeClock())
    engine.run()
    triggers, polls = engine_threads(engine)
    assert triggers <= 100
    assert 1 <= polls <= poll_threads(5, 100, 300) == 10


def test_a_one_target_run_starts_one_thread():
    engine = real_engine(Holding(0.0), 1)
    engine.run()
    assert engine_threads(engine) == (1, 0)
