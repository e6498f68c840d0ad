"""Fivetran API calls per sync while waiting on a 10-minute sync, without waiting 10 minutes.

    python bench/fivetran_poll_cost.py                       # 1, then 20 syncs of 600 s
    python bench/fivetran_poll_cost.py --seconds 3600 --syncs 1 --seeds 5

Core's engine drives the real Fivetran runner over HTTP against the fake Fivetran API
(:class:`paradime_fivetran.testing.FakeFivetran`), both on one virtual clock: the engine's
:class:`paradime.polling.FakeClock`, which moves only when no call is in flight. So a 10-minute
sync takes a second, and what the runner sees is what it would see in real time.

Printed per scenario: the requests per sync by kind (median over seeds), and how long after the
sync's end the engine learned of it (virtual seconds).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from typing import Any

from waiting import drive

from paradime.polling import FakeClock


def run_scenario(seconds: float, syncs: int, seed: int) -> dict[str, Any]:
    """Sync ``syncs`` connectors whose syncs take ``seconds`` each; what Fivetran saw."""
    from paradime import log
    from paradime.api import RunContext
    from paradime_fivetran import TRIGGER_COMMAND
    from paradime_fivetran.runner import FivetranSyncRunner
    from paradime_fivetran.testing import FAKE_KEY, FAKE_SECRET, FakeFivetran

    clock = FakeClock(start=0.0)
    fake = FakeFivetran(clock=clock.monotonic).start()
    names = [f"connector_{i:03d}" for i in range(syncs)]
    for name in names:
        fake.add_connector(name, sync_seconds=seconds)
    try:
        context = RunContext(
            command=TRIGGER_COMMAND.name,
            wait=True,
            timeout_s=3 * seconds + 600,
            max_concurrency=10,
            logger=log.get_logger(command=TRIGGER_COMMAND.name),
            add_secret=log.REDACTOR.add,
        )
        params = {"base_url": fake.url, "api_key": FAKE_KEY, "api_secret": FAKE_SECRET}
        runner = FivetranSyncRunner({**params, "force": False}, context)
        results, learned = drive(
            TRIGGER_COMMAND, runner, names, clock=clock, seed=seed, timeout_s=context.timeout_s
        )
        runner.close()
    finally:
        fake.stop()
    statuses = Counter(r.status.value for r in results)
    if statuses != {"SUCCEEDED": syncs}:
        raise SystemExit(f"unexpected outcome: {dict(statuses)}")
    kinds = Counter(
        "start (POST .../sync)" if r.method == "POST" else "read (GET connection)"
        for r in fake.requests
    )
    late = []
    for name in names:
        [sync] = fake.connectors[name].syncs
        assert sync.ended is not None
        late.append(learned[name] - sync.ended)
    return {"calls": kinds, "late_s": late}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600, help="length of each sync")
    parser.add_argument("--syncs", type=int, nargs="+", default=[1, 20], help="syncs at once")
    parser.add_argument("--seeds", type=int, default=3, help="repeats with other jitter")
    args = parser.parse_args()
    from paradime import log

    log.configure("error")  # progress lines would drown the figures
    print(f"Fivetran API calls per sync, syncs of {args.seconds:g} s (virtual time)")
    print(
        f"{'syncs':>6}  {'reads':>6}  {'starts':>6}  {'total':>6}  {'reported after end (s)':>24}"
    )
    for syncs in args.syncs:
        runs = [run_scenario(args.seconds, syncs, seed) for seed in range(args.seeds)]
        reads = statistics.median(r["calls"]["read (GET connection)"] / syncs for r in runs)
        starts = statistics.median(r["calls"]["start (POST .../sync)"] / syncs for r in runs)
        late = [x for r in runs for x in r["late_s"]]
        print(
            f"{syncs:>6}  {reads:>6.1f}  {starts:>6.1f}  {reads + starts:>6.1f}  "
            f"{f'median {statistics.median(late):.1f}, max {max(late):.1f}':>24}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
