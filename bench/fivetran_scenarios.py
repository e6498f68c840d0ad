"""The Fivetran scenarios of the provider's tests, one run each, with what Fivetran saw.

    python bench/fivetran_scenarios.py

Each scenario runs ``paradime run fivetran-sync`` in-process against the fake Fivetran API
(polling every 50-200 ms, as in the tests) and prints a Markdown row: the outcome, the requests
the fake received (reads, starts, answers refused with 429/401/5xx) and the syncs it ran.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable
from typing import Any

Arrange = Callable[[Any], None]

SCENARIOS: list[tuple[str, Arrange, list[str]]] = [
    ("success", lambda f: f.add_connector("c", sync_seconds=0.3), []),
    ("failure with Fivetran's reason", lambda f: f.add_connector("c", outcome="failed"), []),
    ("sync ends before the first poll", lambda f: f.add_connector("c", sync_seconds=0), []),
    ("paused connector", lambda f: f.add_connector("c", paused=True), []),
    ("broken setup", lambda f: f.add_connector("c", setup_state="broken"), []),
    ("running sync joined", lambda f: f.add_connector("c", syncing=True, sync_seconds=0.4), []),
    (
        "running sync restarted (--force)",
        lambda f: f.add_connector("c", syncing=True, sync_seconds=0.4),
        ["--force"],
    ),
    (
        "rescheduled, then succeeded",
        lambda f: f.add_connector("c", sync_seconds=0.4, reschedule_after=0.1, reschedule_for=0.6),
        [],
    ),
    (
        "rescheduled on a manual schedule",
        lambda f: f.add_connector(
            "c", schedule_type="manual", sync_seconds=0.4, reschedule_after=0.1, reschedule_for=0.5
        ),
        [],
    ),
    (
        "429 storm of 2 s (Retry-After 3)",
        lambda f: (f.add_connector("c"), f.throttle_for(2.0, retry_after=3)),
        [],
    ),
    (
        "Retry-After 3600 past a 5-minute deadline",
        lambda f: (f.add_connector("c"), f.throttle_for(7200, retry_after=3600)),
        ["--timeout-minutes", "5"],
    ),
    (
        "rejected credentials",
        lambda f: f.add_connector("c"),
        ["--api-secret", "wrong-secret-123"],
    ),
    (
        "503 on the next two reads",
        lambda f: (f.add_connector("c", sync_seconds=0.5), f.fail(503, times=2, method="GET")),
        [],
    ),
    (
        "start answer lost (no --force)",
        lambda f: (f.add_connector("c", sync_seconds=1.0), f.lose_answers(method="POST")),
        [],
    ),
    (
        "start answer lost (--force)",
        lambda f: (
            f.add_connector("c", syncing=True, sync_seconds=5),
            f.lose_answers(method="POST"),
        ),
        ["--force"],
    ),
]


def main() -> int:
    import paradime_fivetran
    from paradime import engine
    from paradime.polling import PollPolicy
    from paradime.testing import registered, run_cli
    from paradime_fivetran.testing import FakeFivetran

    engine.PollPolicy = functools.partial(  # type: ignore[misc]
        PollPolicy, min_interval_s=0.05, max_interval_s=0.2
    )
    engine.TRIGGER_BACKOFF_S = 0.05
    paradime_fivetran.TRIGGER_COMMAND = dataclasses.replace(
        paradime_fivetran.TRIGGER_COMMAND, poll_rate_per_s=100.0
    )
    print("| scenario | status | exit | reads | starts | refused (429/401/5xx) | syncs run |")
    print("|---|---|---|---|---|---|---|")
    for name, arrange, args in SCENARIOS:
        with FakeFivetran() as fake, registered(paradime_fivetran):
            arrange(fake)
            result = run_cli(
                ["run", "fivetran-sync", "--connector-id", "c", "--json", *args], env=fake.env
            )
            [row] = result.json["results"]
            refused = sum(1 for r in fake.requests if r.answered in (401, 429, 500, 502, 503))
            print(
                f"| {name} | {row['status']} | {result.exit_code} | {fake.count('GET')} | "
                f"{fake.count('POST')} | {refused} | {fake.connectors['c'].started_syncs} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
