"""1,000 Step Functions executions waited on at once, at a poll rate, on virtual time.

    python bench/sfn_scale.py                           # 1,000 executions of 120 s, default rate
    python bench/sfn_scale.py --rate 40 --executions 1000 --seconds 120

Core's engine drives the real Step Functions runner against a moto server (interpreting each
state machine: a Wait, then a Pass) through the fault proxy, on the virtual clock of
``sfn_poll_cost.py`` (moto's Wait states wait on it too), so minutes of waiting take seconds.
Prints one JSON document: the calls made, the start and poll rates on the virtual clock (mean,
and the most in any one-second span), how late each end was learned, the poll-budget warnings
the user read, and this process's peak RSS (the emulator included: an upper bound for the
engine's own).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import sys
import time
from collections import Counter
from typing import Any

from sfn_poll_cost import CLOCK, ROLE, EmulatorClock, start_patched_moto
from waiting import drive


def per_second_peak(times: list[float]) -> int:
    """The most calls in any span of one second (virtual time)."""
    times = sorted(times)
    peak, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        peak = max(peak, last - first + 1)
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=120, help="length of each execution")
    parser.add_argument("--rate", type=float, default=None, help="--poll-rate (default: none)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from paradime import log
    from paradime.api import RunContext
    from paradime.testing.proxy import FaultProxy
    from paradime_aws_common.testing import AwsEnv, aws_environment
    from paradime_aws_stepfunctions import TRIGGER_COMMAND
    from paradime_aws_stepfunctions.runner import StepFunctionsRunner

    progress = io.StringIO()
    log.configure("warning", "console", stream=progress)
    moto = start_patched_moto()
    server = moto.server
    moto.reset()
    clock = CLOCK["now"] = EmulatorClock()
    aws = AwsEnv(moto.url, aws_environment(moto.url))
    definition = {
        "StartAt": "Work",
        "States": {
            "Work": {"Type": "Wait", "Seconds": args.seconds, "Next": "Done"},
            "Done": {"Type": "Pass", "End": True},
        },
    }
    arns = [
        aws.client("stepfunctions").create_state_machine(
            name=f"scale-{i:04d}", definition=json.dumps(definition), roleArn=ROLE
        )["stateMachineArn"]
        for i in range(args.executions)
    ]
    rate = args.rate if args.rate is not None else TRIGGER_COMMAND.poll_rate_per_s
    proxy = FaultProxy(moto.url).start()
    cpu = time.process_time()
    try:
        os.environ.update(aws_environment(proxy.url))
        context = RunContext(
            command=TRIGGER_COMMAND.name,
            wait=True,
            timeout_s=24 * 3600,
            max_concurrency=TRIGGER_COMMAND.default_max_concurrency,
            logger=log.get_logger(command=TRIGGER_COMMAND.name),
            add_secret=log.REDACTOR.add,
        )
        runner = StepFunctionsRunner({"endpoint_url": proxy.url}, context)
        started_at: dict[str, float] = {}
        polled_at: list[float] = []
        trigger, poll = runner.trigger, runner.poll

        def timed_trigger(target: str) -> Any:
            started_at[target] = clock.monotonic()
            return trigger(target)

        def timed_poll(target: str, state: Any) -> Any:
            polled_at.append(clock.monotonic())
            return poll(target, state)

        runner.trigger = timed_trigger  # type: ignore[method-assign]
        runner.poll = timed_poll  # type: ignore[method-assign]
        begin = clock.monotonic()
        results, learned = drive(
            TRIGGER_COMMAND,
            runner,
            arns,
            clock=clock,
            seed=args.seed,
            timeout_s=context.timeout_s,
            max_concurrency=context.max_concurrency,
            poll_rate_per_s=rate,
        )
        end = clock.monotonic()
    finally:
        proxy.stop()
        server.stop()
    statuses = Counter(r.status.value for r in results)
    late = [learned[arn] - started_at[arn] - args.seconds for arn in arns if arn in learned]
    starts = sorted(started_at.values())
    warnings = [line for line in progress.getvalue().splitlines() if "--poll-rate" in line]
    calls = Counter(r.action for r in proxy.requests)
    waiting_span = max(polled_at) - min(polled_at) if polled_at else 0.0
    print(
        json.dumps(
            {
                "executions": args.executions,
                "execution_s": args.seconds,
                "poll_rate_per_s": rate,
                "statuses": dict(statuses),
                "calls": dict(calls),
                "virtual_s": round(end - begin, 1),
                "starts_span_s": round(starts[-1] - starts[0], 1),
                "start_peak_per_s": per_second_peak(starts),
                "describe_per_s_mean": round(len(polled_at) / waiting_span, 2)
                if waiting_span
                else None,
                "describe_peak_per_s": per_second_peak(polled_at),
                "late_median_s": round(statistics.median(late), 1),
                "late_max_s": round(max(late), 1),
                "warnings": warnings,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "cpu_s": round(time.process_time() - cpu, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
