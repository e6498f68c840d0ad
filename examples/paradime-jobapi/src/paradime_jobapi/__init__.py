# paradime run commands for a REST job API of the Fivetran/Airbyte shape. This module only
# declares them: ``lazy`` factories import the runner module (and httpx) when a command runs.

from __future__ import annotations

import re
from collections.abc import Callable

from paradime import api
from paradime_http.display import http_display
from paradime_http.options import base_url_option

_CONNECTOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _connector_id(value: str) -> str:
    if not _CONNECTOR_ID.match(value):
        raise api.UsageError(f"'{value}' is not a connector id (letters, digits, '.', '_', '-')")
    return value


OPTIONS = (
    base_url_option("JOBAPI_BASE_URL"),
    api.Option(
        "--api-key", "API key (never printed).", envvar="JOBAPI_API_KEY", secret=True, required=True
    ),
)


@api.hookimpl
def paradime_register_commands(register: Callable[[api.Command], None]) -> None:
    register(
        api.TriggerCommand(
            name="jobapi-sync",
            help="Start a sync of each connector, wait for it, and report.",
            service="jobapi",
            target=api.TargetOption(
                "--connector-id", "Connector to sync.", metavar="ID", validate=_connector_id
            ),
            options=OPTIONS,
            factory=api.lazy("paradime_jobapi.client:SyncRunner"),
            default_timeout_minutes=120,
            poll_rate_per_s=5,
            emoji="🔄",
            idempotent=True,
            idempotency_help="the key is sent as the start's Idempotency-Key",
            # The console's words for this provider's things; core writes the rest.
            display=http_display(
                "jobapi",
                heading="🚀 TRIGGERING JOBAPI SYNCS",
                trigger="Starting sync...",
                started="Sync started: job {run_id}",
                results_title="📊 SYNC RESULTS",
                target_header="CONNECTOR ID",
            ),
        )
    )
    register(
        api.ListCommand(
            name="jobapi-list-connectors",
            help="List the connectors that jobapi-sync can start.",
            columns=(
                api.Column("id", "CONNECTOR ID"),
                api.Column("name", "NAME"),
                api.Column("paused", "PAUSED"),
                api.Column("last_sync_state", "LAST SYNC"),
            ),
            factory=api.lazy("paradime_jobapi.client:ConnectorLister"),
            options=OPTIONS,
            display=api.ListDisplay(heading="📋 LISTING JOBAPI CONNECTORS", noun="connector"),
        )
    )
