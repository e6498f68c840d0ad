"""Fivetran provider: ``fivetran-sync`` and ``fivetran-list-connectors``.

This module only declares the commands (plain data, no HTTP client); the runner and the lister
live in :mod:`paradime_fivetran.runner`, imported when a command runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from paradime.api import (
    Column,
    Command,
    ListCommand,
    Option,
    TargetOption,
    TriggerCommand,
    UsageError,
    hookimpl,
    lazy,
)
from paradime_http import parse_base_url
from paradime_http.display import http_display

__all__ = ["LIST_COMMAND", "TRIGGER_COMMAND", "paradime_register_commands"]

DEFAULT_BASE_URL = "https://api.fivetran.com"
# Fivetran counts every API request of an account against one hourly quota (20,000 requests an
# hour on paid plans, 500 on trials: about 5.5 and 0.14 a second). One status check a second at
# most leaves most of it to the account's other clients, and still checks 30 connectors at the
# 30 s ceiling of the poll schedule without delaying any; beyond that, checks are spread out.
POLL_RATE_PER_S = 1.0
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def _fivetran_id(kind: str) -> Callable[[str], str]:
    """Fivetran ids are letters, digits, ``_`` and ``-`` (``decent_dropsy``): they go in URLs."""

    def validate(value: str) -> str:
        if not _ID.match(value):
            raise UsageError(f"'{value}' is not a Fivetran {kind} id (letters, digits, '_', '-')")
        return value

    return validate


validate_connector_id = _fivetran_id("connector")


CREDENTIAL_OPTIONS: tuple[Option, ...] = (
    Option(
        "--api-key",
        "Fivetran API key (never printed).",
        envvar="FIVETRAN_API_KEY",
        secret=True,
        required=True,
        metavar="KEY",
    ),
    Option(
        "--api-secret",
        "Fivetran API secret (never printed).",
        envvar="FIVETRAN_API_SECRET",
        secret=True,
        required=True,
        metavar="SECRET",
    ),
    Option(
        "--base-url",
        "Fivetran API base URL.",
        envvar="FIVETRAN_BASE_URL",
        default=DEFAULT_BASE_URL,
        metavar="URL",
        parse=parse_base_url,
    ),
)

TRIGGER_COMMAND = TriggerCommand(
    name="fivetran-sync",
    help="Sync Fivetran connectors and wait for each sync to end.\n\n"
    "Each connector is read first: its last success and failure times are the baseline, and a "
    "paused connector or one whose setup is broken or incomplete is refused without a sync. A "
    "sync is then started (a sync already running is joined, or restarted with --force) and "
    "the connector is polled until Fivetran records a success or a failure after the baseline. "
    "Fivetran has no API to stop a sync: --cancel-on-exit cannot stop one.",
    service="fivetran",
    target=TargetOption(
        "--connector-id",
        "Fivetran connector id (the connector's Setup tab, or fivetran-list-connectors).",
        metavar="ID",
        aliases=("--connector-ids",),
        validate=validate_connector_id,
    ),
    options=(
        *CREDENTIAL_OPTIONS,
        Option(
            "--force",
            "Restart a sync that is already running (Fivetran's force); without it, a running "
            "sync is joined and waited for.",
            type=bool,
        ),
    ),
    factory=lazy("paradime_fivetran.runner:ConnectorRunner"),
    default_timeout_minutes=1440,
    poll_rate_per_s=POLL_RATE_PER_S,
    display=http_display(
        "Fivetran",
        heading="🔄 TRIGGERING FIVETRAN SYNCS",
        trigger="Starting sync...",
        started="Sync started: {run_id}",
        timeout="Timeout waiting for the sync to complete after {minutes} minutes",
        results_title="📊 SYNC RESULTS",
        target_header="CONNECTOR ID",
    ),
    emoji="🔄",
    can_cancel=False,
    idempotent=True,
    idempotency_help="Fivetran gives a sync no id and starts none while one runs: a sync still "
    "running is joined, whoever started it; once it has ended, nothing in Fivetran tells that "
    "it was this key's, so a rerun starts a new sync. Not with --force, which restarts a running "
    "sync: both typed is a usage error; with the key from PARADIME_IDEMPOTENCY_KEY, --force "
    "wins and the key is ignored with a warning.",
)

LIST_COMMAND = ListCommand(
    name="fivetran-list-connectors",
    help="List the Fivetran connectors of the account, or of one group (every page).",
    columns=(
        Column("id", "CONNECTOR ID"),
        Column("service", "SERVICE"),
        Column("schema", "SCHEMA"),
        Column("group_id", "GROUP"),
        Column("state", "STATE"),
        Column("succeeded_at", "LAST SUCCESS"),
    ),
    factory=lazy("paradime_fivetran.runner:ConnectorLister"),
    options=(
        Option(
            "--group-id",
            "Only the connectors of this group (destination).",
            metavar="ID",
            parse=_fivetran_id("group"),
        ),
        *CREDENTIAL_OPTIONS,
    ),
)


@hookimpl
def paradime_register_commands(register: Callable[[Command], None]) -> None:
    """Declare the Fivetran commands."""
    register(TRIGGER_COMMAND)
    register(LIST_COMMAND)
