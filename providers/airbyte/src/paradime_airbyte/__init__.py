"""Airbyte provider: ``airbyte-sync`` and ``airbyte-list-connections``.

Talks to Airbyte's public API (``/v1``), on Airbyte Cloud and on self-managed installs. This module
only declares the commands (plain data, no HTTP client); the runner and the lister live in
:mod:`paradime_airbyte.runner`, imported when a command runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from paradime.api import (
    Choice,
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

DEFAULT_BASE_URL = "https://api.airbyte.com/v1"
EXAMPLE_ID = "e735894a-e773-4938-969f-45f53957b75b"
# Status checks are GET /jobs/{id}, one per running job. Airbyte publishes no rate limit for its
# public API; 5 per second leaves room for the other clients of the same account and still polls
# 150 jobs at the 30 s ceiling of the schedule without delaying any.
POLL_RATE_PER_S = 5.0


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def parse_uuid(value: str) -> str:
    """Airbyte's ids (connections, workspaces) are UUIDs: checked before any call, lowercased."""
    text = value.strip().lower()
    if not _UUID.match(text):
        raise UsageError(f"'{value}' is not an Airbyte id (a UUID such as {EXAMPLE_ID})")
    return text


AUTH_OPTIONS: tuple[Option, ...] = (
    Option(
        "--client-id",
        "Client id of an Airbyte application (Settings > Applications); with --use-server-auth, "
        "the user name of a self-managed server. Required, unless --no-auth.",
        envvar="AIRBYTE_CLIENT_ID",
        metavar="ID",
    ),
    Option(
        "--client-secret",
        "Client secret of that application; with --use-server-auth, the password. Never "
        "printed. Required, unless --no-auth.",
        envvar="AIRBYTE_CLIENT_SECRET",
        metavar="SECRET",
        secret=True,
    ),
    Option(
        "--base-url",
        "Base URL of Airbyte's public API: https://api.airbyte.com/v1 for Airbyte Cloud, "
        "http(s)://<host>/api/public/v1 for a self-managed install (its token exchange is "
        "asked there, then at <host>/api/v1/applications/token after a 404).",
        envvar="AIRBYTE_BASE_URL",
        default=DEFAULT_BASE_URL,
        metavar="URL",
        parse=parse_base_url,
    ),
    Option(
        "--use-server-auth",
        "Self-managed server: send the client id and secret as HTTP Basic credentials on every "
        "request instead of exchanging them for an access token.",
        type=bool,
        envvar="AIRBYTE_USE_SERVER_AUTH",
    ),
    Option(
        "--no-auth",
        "Self-managed server deployed with authentication disabled: send no credentials at all. "
        "Refused with --client-id, --client-secret (or their variables) or --use-server-auth.",
        type=bool,
        envvar="AIRBYTE_NO_AUTH",
    ),
)

SYNC_OPTIONS: tuple[Option, ...] = (
    Option(
        "--job-type",
        "The job to start: sync, or reset (clears the data the connection wrote).",
        type=Choice(("sync", "reset")),
        default="sync",
    ),
    Option(
        "--workspace-id",
        "Workspace the connections must belong to: a connection of another workspace is refused "
        "before any job starts.",
        envvar="AIRBYTE_WORKSPACE_ID",
        metavar="UUID",
        parse=parse_uuid,
    ),
)

LIST_OPTIONS: tuple[Option, ...] = (
    Option(
        "--workspace-id",
        "Only the connections of this workspace (default: every workspace the credentials see).",
        envvar="AIRBYTE_WORKSPACE_ID",
        metavar="UUID",
        parse=parse_uuid,
    ),
)

TRIGGER_COMMAND = TriggerCommand(
    name="airbyte-sync",
    help="Start a sync (or reset) job of each Airbyte connection, wait for it, and report.\n\n"
    "A connection already running a job of that type is joined, never started twice. The "
    "access token is refreshed before it expires, however long the jobs run. Each row carries "
    "the job id and the rows and bytes Airbyte synced.",
    provider="airbyte",
    service="airbyte",
    target=TargetOption(
        "--connection-id",
        "Airbyte connection (UUID) to run a job for.",
        metavar="UUID",
        aliases=("--connection-ids",),
        validate=parse_uuid,
    ),
    options=(*SYNC_OPTIONS, *AUTH_OPTIONS),
    factory=lazy("paradime_airbyte.runner:ConnectionRunner"),
    default_timeout_minutes=1440,
    poll_rate_per_s=POLL_RATE_PER_S,
    display=http_display(
        "Airbyte",
        heading="🐙 TRIGGERING AIRBYTE SYNCS",
        trigger="Starting {job_type} job...",
        started="Job started: {run_id}",
        timeout="Timeout waiting for the job to complete after {minutes} minutes",
        results_title="📊 JOB RESULTS",
        target_header="CONNECTION ID",
    ),
    emoji="🐙",
    idempotent=True,
    idempotency_help="Airbyte runs one job per connection at a time: a job of this type still "
    "running is joined, whoever started it; once it has ended, nothing in Airbyte tells that it "
    "was this key's, so a rerun starts a new job.",
)

LIST_COMMAND = ListCommand(
    name="airbyte-list-connections",
    help="List the Airbyte connections the credentials can see (every page).",
    provider="airbyte",
    columns=(
        Column("connection_id", "CONNECTION ID"),
        Column("name", "NAME"),
        Column("status", "STATUS"),
        Column("schedule", "SCHEDULE"),
        Column("workspace_id", "WORKSPACE ID"),
    ),
    factory=lazy("paradime_airbyte.runner:ConnectionLister"),
    options=(*LIST_OPTIONS, *AUTH_OPTIONS),
)


@hookimpl
def paradime_register_commands(register: Callable[[Command], None]) -> None:
    """Declare the Airbyte commands."""
    register(TRIGGER_COMMAND)
    register(LIST_COMMAND)
