"""Step Functions API calls per execution while waiting on a 5-minute execution, without waiting.

    python bench/sfn_poll_cost.py                          # 1, then 20 executions of 300 s
    python bench/sfn_poll_cost.py --seconds 3600 --executions 1 --seeds 5

Core's engine drives the real Step Functions runner against a moto server (really interpreting
the state machine: a Wait of N seconds, then a Pass) through the fault proxy, which counts every
request by action. Time is virtual: the engine runs on :class:`paradime.polling.FakeClock`, and
moto's Wait state is patched to wait on that same clock, so a 5-minute execution takes a few
seconds. The clock only moves when the emulator is idle in a Wait state or done, so what the
runner sees is exactly what it would see in real time.

Printed per scenario: the calls per execution by action (median over seeds), and how long after
the execution's end the engine learned of it (virtual seconds).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from waiting import drive

from paradime.polling import FakeClock

ROLE = "arn:aws:iam::123456789012:role/bench"


class EmulatorClock(FakeClock):
    """The engine's virtual clock, which moto's Wait states wait on too.

    ``advance`` first waits (real time) until every started execution sleeps in a Wait state or
    has ended, then moves time and waits until every Wait that came due has run to the end of
    its execution. So the emulator's state at a virtual instant never depends on thread timing.
    """

    def __init__(self) -> None:
        super().__init__(start=1000.0)
        self.cond = threading.Condition()
        self.started: set[str] = set()
        self.sleeping: dict[str, float] = {}
        self.wakers: dict[str, threading.Event] = {}
        self.ended: set[str] = set()

    # moto's side
    def execution_started(self, arn: str) -> None:
        with self.cond:
            self.started.add(arn)

    def execution_ended(self, arn: str) -> None:
        with self.cond:
            self.ended.add(arn)
            self.cond.notify_all()

    def sleep(self, arn: str, seconds: float, is_running: Callable[[], bool]) -> None:
        # Each Wait state waits on an event of its own, set when its time comes: with a thousand
        # executions, waking every sleeper at every step of the clock would be the whole cost.
        wake = threading.Event()
        with self.cond:
            self.sleeping[arn] = self.monotonic() + seconds
            self.wakers[arn] = wake
            if seconds <= 0:
                wake.set()
            self.cond.notify_all()
        while is_running() and not wake.wait(0.5):
            pass
        with self.cond:
            del self.sleeping[arn]
            del self.wakers[arn]
            self.cond.notify_all()

    # the engine's side
    def _settle(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            due = any(until <= self.monotonic() for until in self.sleeping.values())
            idle = self.started <= (set(self.sleeping) | self.ended)
            if idle and not due:
                return
            self.cond.wait(0.01)
        raise RuntimeError("the emulator did not settle within 10 s")

    def advance(self, seconds: float) -> None:
        with self.cond:
            self._settle()
            super().advance(seconds)
            now = self.monotonic()
            for arn, until in self.sleeping.items():
                if until <= now:
                    self.wakers[arn].set()
            self._settle()


CLOCK: dict[str, EmulatorClock] = {}


def patch_moto() -> None:
    """moto's Wait states wait on the scenario's virtual clock; executions report start and end."""
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )
    from moto.stepfunctions.parser.backend.execution import (
        BaseExecutionWorkerCommunication,
        Execution,
    )

    original_start = Execution.start
    original_terminated = BaseExecutionWorkerCommunication.terminated

    def wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        arn = env.states.context_object.context_object_data["Execution"]["Id"]
        CLOCK["now"].sleep(arn, wait_seconds, env.is_running)

    def start(self: Any) -> None:
        CLOCK["now"].execution_started(self.exec_arn)
        original_start(self)

    def terminated(self: Any) -> None:
        original_terminated(self)
        CLOCK["now"].execution_ended(self.execution.exec_arn)

    WaitFunction._wait_interval = wait_interval  # type: ignore[method-assign]
    Execution.start = start  # type: ignore[method-assign]
    BaseExecutionWorkerCommunication.terminated = terminated  # type: ignore[method-assign]


def start_patched_moto() -> Any:
    """A moto server whose Wait states wait on the scenario's clock, its logs quiet."""
    from moto.server import ThreadedMotoServer

    from paradime_aws_common.testing import MotoServer

    for noisy in ("werkzeug", "moto"):  # the emulator's own request and interpreter logs
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    patch_moto()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    return MotoServer(f"http://127.0.0.1:{port}", port, server)


def run_scenario(moto: Any, seconds: int, executions: int, seed: int) -> dict[str, Any]:
    """Start ``executions`` executions of ``seconds`` each and wait for them; what was sent."""
    from paradime import log
    from paradime.api import RunContext
    from paradime.testing.proxy import FaultProxy
    from paradime_aws_common.testing import AwsEnv, aws_environment
    from paradime_aws_stepfunctions import TRIGGER_COMMAND
    from paradime_aws_stepfunctions.runner import StepFunctionsRunner

    moto.reset()
    clock = CLOCK["now"] = EmulatorClock()
    aws = AwsEnv(moto.url, aws_environment(moto.url))
    definition = {
        "StartAt": "Work",
        "States": {
            "Work": {"Type": "Wait", "Seconds": seconds, "Next": "Done"},
            "Done": {"Type": "Pass", "Result": {"ok": True}, "End": True},
        },
    }
    arns = [
        aws.client("stepfunctions").create_state_machine(
            name=f"bench-{i:03d}", definition=json.dumps(definition), roleArn=ROLE
        )["stateMachineArn"]
        for i in range(executions)
    ]
    proxy = FaultProxy(moto.url).start()
    try:
        os.environ.update(aws_environment(proxy.url))
        context = RunContext(
            command=TRIGGER_COMMAND.name,
            wait=True,
            timeout_s=3 * seconds + 600,
            max_concurrency=10,
            logger=log.get_logger(command=TRIGGER_COMMAND.name),
            add_secret=log.REDACTOR.add,
        )
        runner = StepFunctionsRunner({"endpoint_url": proxy.url}, context)
        started = clock.monotonic()
        results, learned = drive(
            TRIGGER_COMMAND, runner, arns, clock=clock, seed=seed, timeout_s=context.timeout_s
        )
    finally:
        proxy.stop()
    statuses = Counter(r.status.value for r in results)
    if statuses != {"SUCCEEDED": executions}:
        raise SystemExit(f"unexpected outcome: {dict(statuses)}")
    calls = Counter(r.action for r in proxy.requests)
    return {"calls": calls, "late_s": [learned[arn] - started - seconds for arn in arns]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=300, help="length of each execution")
    parser.add_argument(
        "--executions", type=int, nargs="+", default=[1, 20], help="executions at once"
    )
    parser.add_argument("--seeds", type=int, default=3, help="runs per scenario (poll phase)")
    args = parser.parse_args()

    from paradime import log

    log.configure("error")
    moto = start_patched_moto()
    server = moto.server
    print(f"executions of {args.seconds} s (virtual time); calls per execution at the proxy")
    try:
        for executions in args.executions:
            report(moto, args.seconds, executions, args.seeds)
    finally:
        server.stop()
    return 0


def report(moto: Any, seconds: int, executions: int, seeds: int) -> None:
    """Run one scenario with several seeds and print its line."""
    per_action: dict[str, list[float]] = {}
    totals: list[float] = []
    late: list[float] = []
    for seed in range(seeds):
        outcome = run_scenario(moto, seconds, executions, seed)
        for action, count in outcome["calls"].items():
            per_action.setdefault(action, []).append(count / executions)
        totals.append(sum(outcome["calls"].values()) / executions)
        late.extend(outcome["late_s"])
    median = {a: statistics.median(v) for a, v in sorted(per_action.items())}
    print(
        f"  {executions:>3} at once: {statistics.median(totals):g} calls per execution "
        f"(min {min(totals):g}, max {max(totals):g}) = "
        + ", ".join(f"{a} {v:g}" for a, v in median.items())
        + f"; end learned {statistics.median(late):.1f} s after it (max {max(late):.1f} s)",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
