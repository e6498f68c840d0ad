"""A deterministic simulation of the run lifecycle against a simulated service.

A Hypothesis rule-based state machine plays the driver on virtual time: it hands the
lifecycle's calls to simulated workers (which pass the same stop gate as the engine's), lets
the simulated service answer them in any order (answers, throttles, failures, answers lost with
or without a run made), ends runs, sends a signal, moves the clock to the deadline, and after
every step checks the invariants below. A failing example prints the steps that led to it (and
a ``@reproduce_failure`` blob): the schedule, replayable as is.
"""

from __future__ import annotations

import heapq
import itertools
import os
import random
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from paradime import endings, lifecycle
from paradime.api import Prepared, RunError, RunState, RunStatus
from paradime.engine import DEADLINE_GRACE_S, INTERRUPT_GRACE_S
from paradime.lifecycle import At, Call, Finish, Lifecycle, Next, Run, Send, Stop
from paradime.polling import RateLimiter
from paradime.runs import exit_code_for

# CI runs the "ci" profile (thousands of examples in well under a minute); "dev" explores more.
settings.register_profile("ci", max_examples=2000, stateful_step_count=40, deadline=None)
settings.register_profile("dev", max_examples=20000, stateful_step_count=80, deadline=None)
# The runs that repeat core's tests (each package alone, the oldest and newest Python) check
# that the simulation runs there; the main run explores.
settings.register_profile("quick", max_examples=200, stateful_step_count=40, deadline=None)

TIMEOUT_S = 120.0
POLL_RATE = 2.0  # status checks a second, in bursts of at most this many
WALL = datetime(2026, 1, 1, tzinfo=timezone.utc)
TRIGGER_ANSWERS = ("ok", "throttled", "failed", "lost-made", "lost-none")
POLL_ANSWERS = ("state", "throttled", "failed", "not-found")


@dataclass
class ServiceRun:
    target: str
    run_id: str
    status: RunStatus = RunStatus.RUNNING


class Service:
    """The remote system: the runs it made, told truthfully when asked."""

    def __init__(self) -> None:
        self.runs: dict[str, ServiceRun] = {}
        self.made: list[ServiceRun] = []

    def start(self, target: str, run_id: str) -> ServiceRun:
        run = ServiceRun(target, run_id)
        self.runs[run_id] = run
        self.made.append(run)
        return run

    def state(self, run_id: str) -> RunState:
        run = self.runs[run_id]
        return RunState(run.status, run_id=run_id, handle=run_id)


class LifecycleSimulation(RuleBasedStateMachine):
    """The driver's part, played on virtual time against :class:`Service`."""

    @initialize(
        count=st.integers(1, 3),
        concurrency=st.integers(1, 3),
        cancel_on_exit=st.booleans(),
        seed=st.integers(0, 2**16),
    )
    def setup(self, count: int, concurrency: int, cancel_on_exit: bool, seed: int) -> None:
        self.now = 1000.0
        self.settings = lifecycle.Settings(
            command="sim",
            can_cancel=True,
            wait=True,
            cancel_on_exit=cancel_on_exit,
            deadline=self.now + TIMEOUT_S,
            poll_rate=POLL_RATE,
            prepares=True,
            recovers=True,
        )
        self.life = Lifecycle(
            [f"t{i}" for i in range(count)], self.settings, rng=random.Random(seed)
        )
        self.concurrency = concurrency
        self.limiter = RateLimiter()
        self.limiter.configure("sim", POLL_RATE)
        self.ready: deque[Run] = deque(self.life.runs)
        self.timers: list[tuple[float, int, At]] = []
        self.seq = itertools.count()
        self.queued: list[Send] = []  # handed to a worker, not yet past the gate
        self.wire: list[Send] = []  # sent, not yet answered
        self.service = Service()
        self.recovered_none: dict[str, int] = {}
        self.checks: list[float] = []  # when each status check left
        self.late_starts: list[str] = []
        self.signalled = False
        self.stop: Stop | None = None
        self.stop_at = 0.0
        self.grace_until = 0.0
        self.ended_at: float | None = None
        self.finished: dict[str, object] = {}
        self.dispatch()

    # -- the driver ---------------------------------------------------------------------
    def apply(self, actions: list[lifecycle.Action]) -> None:
        for action in actions:
            if isinstance(action, At):
                heapq.heappush(self.timers, (action.when, next(self.seq), action))
            elif isinstance(action, Next):
                self.ready.appendleft(action.run)
            elif isinstance(action, Finish):
                self.finished[action.run.target] = action.result

    def triggers_out(self) -> int:
        return sum(1 for send in self.queued + self.wire if send.call is not Call.POLL)

    def dispatch(self) -> None:
        """The engine's loop body: stop if due, send what came due under the caps."""
        if self.stop is None and (self.signalled or self.now >= self.settings.deadline):
            self.begin_stop()
        if self.stop is not None:
            self.maybe_end_stop()
            return
        for when, _seq, due in list(self.timers):
            if when > self.now:
                continue
            stale = due.run.phase is lifecycle.Phase.DONE or due.generation != due.run.generation
            if due.call is Call.POLL and not stale:
                if self.limiter.acquire("sim", self.now) > 0:
                    continue
                self.checks.append(self.now)
                self.queued.append(self.life.check(due.run))
            elif not stale:
                self.ready.appendleft(due.run)
            self.timers.remove((when, _seq, due))
        heapq.heapify(self.timers)
        while self.ready and self.triggers_out() < self.concurrency:
            run = self.ready.popleft()
            if run.phase is not lifecycle.Phase.DONE:
                self.queued.append(self.life.next_step(run))

    def begin_stop(self) -> None:
        minutes = TIMEOUT_S / 60
        self.stop = Stop("SIGINT" if self.signalled else None, minutes)
        self.stop_at = self.now
        grace = INTERRUPT_GRACE_S if self.signalled else DEADLINE_GRACE_S
        base = self.now if self.signalled else self.settings.deadline
        self.grace_until = base + grace
        self.life.stopping = True

    def maybe_end_stop(self) -> None:
        """After the grace window (or once nothing is in flight), every run gets its row."""
        assert self.stop is not None
        if self.ended_at is not None:
            return
        busy = any(r.on_wire or r.phase is lifecycle.Phase.POLLING for r in self.life.runs)
        if busy and self.now < self.grace_until:
            return
        actions, to_cancel = self.life.wind_down(self.stop, WALL)
        self.apply(actions)
        for run in to_cancel:
            assert run.state is not None and run.state.run_id is not None
            remote = self.service.runs.get(run.state.run_id)
            answer: object = endings.NO_ANSWER
            if remote is not None:
                if remote.status is RunStatus.RUNNING:
                    remote.status = RunStatus.STOPPED
                answer = self.service.state(remote.run_id)
            self.apply(self.life.stopped(run, self.stop, answer, WALL))
        self.ended_at = self.now

    # -- the world ------------------------------------------------------------------------
    @rule(seconds=st.sampled_from([0.1, 0.5, 2.0, 5.0, 30.0]))
    def time_passes(self, seconds: float) -> None:
        until = self.now + seconds
        while self.now < until:
            # The engine's loop wakes at the deadline and at the end of the grace window.
            wake = until
            if self.stop is None and self.now < self.settings.deadline:
                wake = min(wake, self.settings.deadline)
            if self.stop is not None and self.ended_at is None:
                wake = min(wake, self.grace_until)
            self.now = wake
            self.dispatch()

    @precondition(lambda self: bool(self.queued))
    @rule(pick=st.integers(0, 10))
    def a_worker_takes_a_call(self, pick: int) -> None:
        send = self.queued.pop(pick % len(self.queued))
        if send.call is Call.POLL:
            self.wire.append(send)
            return
        sent, _first = self.life.gate(
            send.run,
            send.call,
            stopping=self.life.stopping,
            signalled=self.signalled,
            now=self.now,
            wall=WALL,
        )
        if not sent:
            self.life.not_sent(send.run, send.generation)
            return
        if send.call is Call.TRIGGER and (
            self.signalled or self.stop is not None or self.now >= self.settings.deadline
        ):
            self.late_starts.append(f"{send.run.target} at {self.now}")
        self.wire.append(send)

    @precondition(lambda self: bool(self.wire))
    @rule(pick=st.integers(0, 10), kind=st.integers(0, 4))
    def the_service_answers(self, pick: int, kind: int) -> None:
        send = self.wire.pop(pick % len(self.wire))
        outcome = self.outcome(send, kind)
        self.apply(self.life.answer(send.call, send.run, send.generation, outcome, self.now, WALL))
        self.dispatch()

    def outcome(self, send: Send, kind: int) -> object:
        target, run = send.run.target, send.run
        name = f"exec-{target}"
        throttle = RunError("throttled", status=RunStatus.THROTTLED, retryable=True)
        if send.call is Call.PREPARE:
            if kind == 1:
                return throttle
            return Prepared(run_id=name, handle=name)
        if send.call is Call.RECOVER:
            if kind == 1:
                return throttle
            if name in self.service.runs:
                return self.service.state(name)
            self.recovered_none[target] = self.recovered_none.get(target, 0) + 1
            return None
        if send.call is Call.TRIGGER:
            answer = TRIGGER_ANSWERS[kind]
            if answer in ("ok", "lost-made"):
                self.service.start(target, name)
            if answer == "ok":
                return self.service.state(name)
            if answer == "throttled":
                return throttle
            if answer == "failed":
                return RunError("refused", status=RunStatus.ERROR)
            return RunError("answer lost", outcome_unknown=True)
        answer = POLL_ANSWERS[kind % len(POLL_ANSWERS)]
        assert run.state is not None and run.state.run_id is not None
        if answer == "throttled":
            return throttle
        if answer == "failed":
            return RunError("network blip", retryable=True)
        if answer == "not-found" or run.state.run_id not in self.service.runs:
            return RunError("no such run", not_found=True)
        return self.service.state(run.state.run_id)

    @precondition(lambda self: any(r.status is RunStatus.RUNNING for r in self.service.made))
    @rule(pick=st.integers(0, 10), succeeded=st.booleans())
    def a_run_ends(self, pick: int, succeeded: bool) -> None:
        running = [r for r in self.service.made if r.status is RunStatus.RUNNING]
        running[pick % len(running)].status = RunStatus.SUCCEEDED if succeeded else RunStatus.FAILED

    # A signal or the deadline ends an example: they come at any step, but not at most steps.
    @precondition(lambda self: not self.signalled)
    @rule(now=st.integers(0, 3))
    def ctrl_c(self, now: int) -> None:
        if now == 0:
            self.signalled = True

    @rule(now=st.integers(0, 7))
    def the_deadline_comes(self, now: int) -> None:
        if now == 0:
            self.time_passes(max(0.0, self.settings.deadline - self.now))

    # -- invariants -----------------------------------------------------------------------
    @invariant()
    def no_start_after_a_stop(self) -> None:
        assert not self.late_starts, f"a start left after a stop: {self.late_starts}"

    @invariant()
    def one_run_per_target_unless_recovery_said_none(self) -> None:
        for target in {r.target for r in self.service.made}:
            made = sum(1 for r in self.service.made if r.target == target)
            allowed = 1 + self.recovered_none.get(target, 0)
            assert made <= allowed, f"{target}: {made} runs made, recovery said none {allowed - 1}x"

    @invariant()
    def status_checks_within_the_rate_cap(self) -> None:
        checks = self.checks
        for i in range(len(checks)):
            for j in range(i + 1, len(checks)):
                allowed = POLL_RATE + POLL_RATE * (checks[j] - checks[i]) + 1e-6
                assert j - i + 1 <= allowed, f"{j - i + 1} checks in {checks[j] - checks[i]} s"

    @invariant()
    def the_wind_down_ends_within_its_grace(self) -> None:
        if self.stop is not None and self.now >= self.grace_until:
            self.maybe_end_stop()
            assert self.ended_at is not None and self.ended_at <= self.grace_until
            assert self.life.unfinished == 0

    @invariant()
    def rows_tell_the_truth(self) -> None:
        if self.life.unfinished:
            return
        rows = [run.result for run in self.life.runs]
        assert all(row is not None for row in rows)
        by_target = {row.target: row for row in rows if row is not None}
        for made in self.service.made:
            row = by_target[made.target]
            assert row.run_id == made.run_id, f"{made} missing from {row}"
            if row.status is RunStatus.SUCCEEDED:
                assert made.status is RunStatus.SUCCEEDED, (made, row)
        results = [row for row in rows if row is not None]
        all_ok = all(row.status is RunStatus.SUCCEEDED for row in results)
        assert (exit_code_for(results, wait=True) == 0) == all_ok


TestLifecycleSimulation = LifecycleSimulation.TestCase
TestLifecycleSimulation.settings = settings.get_profile(
    os.environ.get("PARADIME_SIMULATION_PROFILE", "ci")
)


def test_the_simulation_catches_a_start_sent_after_ctrl_c(monkeypatch):
    """The gate before a start consulting only the wind-down flag (not the signal flag or the
    deadline): a start handed to a worker as Ctrl-C arrives is still sent. The simulation finds
    the schedule that shows it."""

    def wind_down_only(*, stopping: bool, signalled: bool, now: float, deadline: float) -> bool:
        return not stopping

    monkeypatch.setattr(lifecycle, "may_send", wind_down_only)
    with pytest.raises(AssertionError, match="a start left after a stop"):
        run_state_machine_as_test(
            LifecycleSimulation,
            settings=settings(
                max_examples=2000,
                stateful_step_count=40,
                deadline=None,
                database=None,
                print_blob=False,
                # One failure is the point: several distinct ones would come as a group.
                report_multiple_bugs=False,
            ),
        )
