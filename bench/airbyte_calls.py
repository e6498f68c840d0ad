"""Airbyte API calls per sync while waiting on a 10-minute sync, without waiting 10 minutes.

    python bench/airbyte_calls.py                          # 1, then 20 syncs of 600 s
    python bench/airbyte_calls.py --seconds 3600 --syncs 1 --seeds 5 --token-life 900

The real Airbyte runner, driven by core's engine, talks HTTP to the fake Airbyte API
(:class:`paradime_airbyte.testing.FakeAirbyte`). Engine, runner (its token expiry) and fake (its
jobs' progress, its tokens' expiry) share one virtual clock, the engine's
:class:`paradime.polling.FakeClock`, which moves only when no call is in flight: a 10-minute sync
takes about a second, and the runner sees what it would see in real time. Each job goes pending
(a tenth), running, incomplete (a tenth: an attempt failed), running again, then succeeds. Tokens
live ``--token-life`` seconds (Airbyte's reference says tokens are short-lived, 3 minutes).

Printed per scenario: the requests per sync by kind (median over seeds), and how long after the
job's end the engine learned of it (virtual seconds).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from typing import Any

from waiting import drive

KINDS = {
    ("POST", "applications"): "token",
    ("GET", "connections"): "connection",
    ("POST", "jobs"): "start",
    ("GET", "jobs"): "status",
}


def scenario(seconds: float, syncs: int, seed: int, token_life: int) -> dict[str, Any]:
    """``syncs`` connections synced at once, each job lasting ``seconds``: what Airbyte saw."""
    from paradime import log
    from paradime.api import RunContext
    from paradime.polling import FakeClock
    from paradime_airbyte import TRIGGER_COMMAND as COMMAND
    from paradime_airbyte.runner import AirbyteSyncRunner
    from paradime_airbyte.testing import CLIENT_ID, CLIENT_SECRET, FakeAirbyte, script_of

    clock = FakeClock(start=0.0)
    api = FakeAirbyte(clock=clock.monotonic, expires_in=token_life).start()
    connections = [
        api.add_connection(f"c{i}", script=script_of(seconds / 60)) for i in range(syncs)
    ]
    ids = [c.connection_id for c in connections]
    params = {"base_url": api.base_url, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    context = RunContext(COMMAND.name, True, 3 * seconds, 10, log.get_logger(), log.REDACTOR.add)
    runner = AirbyteSyncRunner({**params, "job_type": "sync"}, context, clock=clock.monotonic)
    try:
        results, reported = drive(
            COMMAND, runner, ids, clock=clock, seed=seed, timeout_s=3 * seconds
        )
    finally:
        runner.close()
        api.stop()
    if {r.status.value for r in results} != {"SUCCEEDED"}:
        raise SystemExit(f"unexpected outcome: {[r.status.value for r in results]}")
    calls = Counter(KINDS[(r.method, r.path.split("/")[2])] for r in api.requests)
    ends = {c.connection_id: api.jobs_of(c)[0].created_at + seconds for c in connections}
    return {"calls": calls, "late_s": [reported[i] - ends[i] for i in ids]}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600, help="length of each job")
    parser.add_argument("--syncs", type=int, nargs="+", default=[1, 20], help="syncs at once")
    parser.add_argument("--seeds", type=int, default=3, help="repeats with other jitter")
    parser.add_argument("--token-life", type=int, default=180, help="token life (s)")
    args = parser.parse_args()
    from paradime import log

    log.configure("error")  # progress lines would drown the figures
    print(f"Airbyte API calls per sync, jobs of {args.seconds:g} s, tokens of {args.token_life} s")
    header = ["syncs", *KINDS.values(), "total", "reported after end (s)"]
    print("  ".join(f"{h:>10}" for h in header))
    for syncs in args.syncs:
        runs = [scenario(args.seconds, syncs, seed, args.token_life) for seed in range(args.seeds)]
        per_sync = [statistics.median(r["calls"][k] / syncs for r in runs) for k in KINDS.values()]
        late = [x for r in runs for x in r["late_s"]]
        figures = [f"{syncs}", *(f"{n:.2f}" for n in per_sync), f"{sum(per_sync):.1f}"]
        print("  ".join(f"{f:>10}" for f in figures), end="  ")
        print(f"median {statistics.median(late):.1f}, max {max(late):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
