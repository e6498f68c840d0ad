"""Demo of the Airbyte commands, against the fake Airbyte API on 127.0.0.1 (a free port).

``demo-orders`` goes pending → running → incomplete (an attempt failed, Airbyte retries) →
running → succeeded in about 7 seconds; ``demo-billing`` fails; ``demo-users`` succeeds. The
fake's access tokens live 3 seconds, so the runs refresh theirs on the way.
"""

from __future__ import annotations

from collections.abc import Callable

PROVIDER_PACKAGE = "paradime_airbyte"
COMMAND = "airbyte-sync"
ORDERS = "0a1b2c3d-0000-4000-8000-00000000a001"
BILLING = "0a1b2c3d-0000-4000-8000-00000000a002"
USERS = "0a1b2c3d-0000-4000-8000-00000000a003"


def serve() -> tuple[dict[str, str], Callable[[], None]]:
    """Start the fake API with the demo connections; the environment pointing at it, and stop."""
    from paradime_airbyte.testing import FakeAirbyte, script_of

    fake = FakeAirbyte(expires_in=3).start()
    retried = (("pending", 1.0), ("running", 2.0), ("incomplete", 2.5), ("running", 1.5))
    fake.add_connection("demo-orders", connection_id=ORDERS, script=retried)
    fake.add_connection(
        "demo-billing",
        connection_id=BILLING,
        script=script_of(3 / 60),
        outcome="failed",
        rows=0,
        bytes=0,
    )
    fake.add_connection(
        "demo-users", connection_id=USERS, script=script_of(3 / 60, incomplete=False)
    )
    env = fake.env
    env.pop("NO_COLOR", None)
    return env, fake.stop


TOUR: list[list[str]] = [
    ["run", "airbyte-list-connections"],
    ["run", COMMAND, "--connection-id", ORDERS],
    # Three at once, as JSON: one fails on purpose (exit code 1).
    ["run", COMMAND, "--connection-id", f"{ORDERS},{BILLING},{USERS}", "--json"],
]
