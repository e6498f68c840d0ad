"""Driving core's engine on a virtual clock, for the poll-cost benchmarks.

:func:`drive` runs a trigger command's runner over its targets with the engine in-process, on the
given :class:`~paradime.polling.FakeClock`, and notes when (on that clock) each run's end became
known, so that a benchmark reports both what was sent and how late each end was seen.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from paradime.api import Runner, RunResult, TriggerCommand
from paradime.polling import FakeClock


def drive(
    command: TriggerCommand,
    runner: Runner,
    targets: Sequence[str],
    *,
    clock: FakeClock,
    seed: int,
    timeout_s: float,
    max_concurrency: int = 10,
    poll_rate_per_s: float | None = None,
) -> tuple[list[RunResult], dict[str, float]]:
    """Run the targets to their end; the results, and each target's end as the engine saw it."""
    from paradime.engine import Engine
    from paradime.output import Reporter

    learned: dict[str, float] = {}
    poll = runner.poll

    def timed_poll(target: str, state: Any) -> Any:
        new = poll(target, state)
        if new.status.is_terminal:
            learned[target] = clock.monotonic()
        return new

    runner.poll = timed_poll  # type: ignore[method-assign]
    results = Engine(
        command,
        runner,
        list(targets),
        wait=True,
        timeout_s=timeout_s,
        max_concurrency=max_concurrency,
        cancel_on_exit=False,
        reporter=Reporter(command.name),
        clock=clock,
        rng=random.Random(seed),
        handle_signals=False,
        poll_rate_per_s=poll_rate_per_s,
    ).run()
    return results, learned
