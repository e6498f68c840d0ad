"""paradime run commands for a REST job API of the Fivetran/Airbyte shape.

``jobapi-sync`` starts a sync of each connector, waits for it and reports;
``jobapi-list-connectors`` lists the connectors. This module only declares the commands: the HTTP
client is imported by the factories, when a command runs, so ``paradime --help`` stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from paradime.api import (
    Column,
    Command,
    ListCommand,
    ListDisplay,
    Option,
    RunContext,
    TargetOption,
    TriggerCommand,
    TriggerDisplay,
    UsageError,
    hookimpl,
)

if TYPE_CHECKING:
    from paradime_jobapi.client import ConnectorLister, JobApi, SyncRunner

_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_CONNECTOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _base_url(value: str) -> str:
    if not _URL.match(value):
        raise UsageError(f"'{value}' is not an http(s) URL")
    return value.rstrip("/")


def _connector_id(value: str) -> str:
    if not _CONNECTOR_ID.match(value):
        raise UsageError(f"'{value}' is not a connector id (letters, digits, '.', '_', '-')")
    return value


OPTIONS = (
    Option("--base-url", "Base URL of the job API.", envvar="JOBAPI_BASE_URL", parse=_base_url),
    Option("--api-key", "API key (never printed).", envvar="JOBAPI_API_KEY", secret=True),
)


def _api(params: Mapping[str, Any]) -> JobApi:
    from paradime_jobapi.client import JobApi

    for option in OPTIONS:
        if not params[option.key]:
            raise UsageError(f"missing option '{option.name}' (or {option.envvar})")
    return JobApi(params["base_url"], params["api_key"])


def _sync_runner(params: Mapping[str, Any], context: RunContext) -> SyncRunner:
    from paradime_jobapi.client import SyncRunner

    return SyncRunner(_api(params))


def _connector_lister(params: Mapping[str, Any], context: RunContext) -> ConnectorLister:
    from paradime_jobapi.client import ConnectorLister

    return ConnectorLister(_api(params))


@hookimpl
def paradime_register_commands(register: Callable[[Command], None]) -> None:
    register(
        TriggerCommand(
            name="jobapi-sync",
            help="Start a sync of each connector, wait for it, and report.",
            service="jobapi",
            target=TargetOption(
                "--connector-id", "Connector to sync.", metavar="ID", validate=_connector_id
            ),
            options=OPTIONS,
            factory=_sync_runner,
            default_timeout_minutes=120,
            poll_rate_per_s=5,
            emoji="🔄",
            # The console's words for this provider's things; core writes the rest.
            display=TriggerDisplay(
                heading="🚀 TRIGGERING JOBAPI SYNCS",
                trigger="Starting sync...",
                started="Sync started: job {run_id}",
                results_title="📊 SYNC RESULTS",
                target_header="CONNECTOR ID",
            ),
        )
    )
    register(
        ListCommand(
            name="jobapi-list-connectors",
            help="List the connectors that jobapi-sync can start.",
            columns=(
                Column("id", "CONNECTOR ID"),
                Column("name", "NAME"),
                Column("paused", "PAUSED"),
                Column("last_sync_state", "LAST SYNC"),
            ),
            factory=_connector_lister,
            options=OPTIONS,
            display=ListDisplay(heading="📋 LISTING JOBAPI CONNECTORS", noun="connector"),
        )
    )
