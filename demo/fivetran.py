"""Demo of the Fivetran commands, against the fake Fivetran API on 127.0.0.1 (a free port).

``demo_orders`` syncs in 3 seconds, ``demo_billing`` fails with Fivetran's reason,
``demo_events`` is paused (refused, no sync), ``demo_ads`` is rescheduled by Fivetran for a few
seconds mid-sync and then succeeds, ``demo_crm``'s setup is broken (refused, no sync).
"""

from __future__ import annotations

from collections.abc import Callable

PROVIDER_PACKAGE = "paradime_fivetran"
COMMAND = "fivetran-sync"


def serve() -> tuple[dict[str, str], Callable[[], None]]:
    """Start the fake API with the demo connectors; the environment pointing at it, and stop."""
    from paradime_fivetran.testing import FakeFivetran

    fake = FakeFivetran().start()
    fake.add_connector("demo_orders", service="postgres", sync_seconds=3)
    fake.add_connector(
        "demo_billing",
        service="stripe",
        sync_seconds=2,
        outcome="failed",
        failure_tasks=[{"code": "api_key_revoked", "message": "Stripe rejected the API key"}],
    )
    fake.add_connector("demo_events", service="segment", paused=True)
    fake.add_connector(
        "demo_ads", service="google_ads", sync_seconds=4, reschedule_after=1, reschedule_for=4
    )
    fake.add_connector("demo_crm", service="salesforce", setup_state="broken", group_id="sales")
    env = fake.env
    env.pop("NO_COLOR", None)
    return env, fake.stop


TOUR: list[list[str]] = [
    ["run", "fivetran-list-connectors"],
    ["run", COMMAND, "--connector-id", "demo_orders"],
    # Every kind at once, as JSON: a failure, a paused and a broken connector (exit code 1).
    [
        "run",
        COMMAND,
        "--connector-id",
        "demo_orders,demo_billing,demo_events,demo_ads,demo_crm",
        "--json",
    ],
]
