"""A stateful fake of the Fivetran REST API v1 on 127.0.0.1, and pytest fixtures for it.

Loaded as a pytest plugin (``pytest11`` entry point) wherever paradime-fivetran is installed:

* ``fivetran`` (per test): a started :class:`FakeFivetran`; ``fivetran.env`` points a CLI at it;
* ``fivetran_cli`` (per test): ``fivetran_cli("fivetran-sync", "--connector-id", "x", "--json")``
  runs ``paradime run ...`` in-process with only this provider, pointed at the fake, polling fast.

The fake follows Fivetran's public API reference (see docs/providers/fivetran.md for what was
checked): ``GET /v1/connections/{id}`` with ``data.status.sync_state`` (``scheduled``,
``syncing``, ``paused``, ``rescheduled``), ``setup_state`` (``incomplete``, ``connected``,
``broken``), ``tasks``, ``warnings``, ``rescheduled_for``, and ``data.succeeded_at`` /
``failed_at`` / ``paused`` / ``schedule_type``; ``POST /v1/connections/{id}/sync`` with
``{"force": bool}``; ``GET /v1/connections`` and ``/v1/groups/{id}/connections`` with ``cursor``
and ``limit`` (1-1000, default 100) and ``data.next_cursor``; HTTP Basic auth; errors as
``{"code", "message"}``; 429 with ``Retry-After``. The older ``/v1/connectors`` paths are served
too. Time is the fake's clock (real time by default, or any clock a benchmark passes), and
timestamps are ``epoch`` (the wall-clock second it was made) plus that clock, so that syncs of
any length can be scripted::

    fake = FakeFivetran().start()
    fake.add_connector("orders", sync_seconds=0.4)                  # succeeds 0.4 s after a start
    fake.add_connector("billing", outcome="failed")                 # fails, with tasks saying why
    fake.add_connector("events", paused=True)                       # refused: paused
    fake.add_connector("crm", setup_state="broken")                 # refused: broken setup
    fake.add_connector("ads", reschedule_after=0.1, reschedule_for=0.5)  # rescheduled mid-sync
    fake.add_connector("busy", syncing=True)                        # a sync is running already
    fake.throttle_for(2.0)                                          # a 429 storm (base class)
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from typing import Any

import pytest

from paradime_http.fake import Answer, FakeHttpApi, Seen

FAKE_KEY = "fivetran-test-key-7c41d2"
FAKE_SECRET = "fivetran-test-secret-93b0e5f81a"
DEFAULT_PAGE = 100
MAX_PAGE = 1000
_CODES = {
    400: "InvalidInput",
    401: "AuthFailed",
    403: "AccessDenied",
    404: "NotFound_Connection",
    409: "Conflict",
    429: "TooManyRequests",
}
FAILURE_TASKS = [
    {"code": "source_connection_failed", "message": "Could not connect to the source database"}
]


@dataclass
class FakeSync:
    """One sync the fake ran (or is running), on the fake's clock."""

    started: float
    forced: bool
    queued_s: float
    duration_s: float
    outcome: str
    reschedule_after_s: float | None
    reschedule_for_s: float
    resumed_at: float | None = None
    ended: float | None = None
    restarted: bool = False  # abandoned: a forced start replaced it, or a pause stopped it

    @property
    def syncing_from(self) -> float:
        return self.started + self.queued_s

    @property
    def rescheduled_at(self) -> float | None:
        if self.reschedule_after_s is None or self.reschedule_after_s >= self.duration_s:
            return None
        return self.syncing_from + self.reschedule_after_s

    @property
    def rescheduled_for(self) -> float | None:
        at = self.rescheduled_at
        return None if at is None else at + self.reschedule_for_s


@dataclass
class Connector:
    """A connector and how its syncs behave (durations in seconds of the fake's clock)."""

    id: str
    service: str = "postgres"
    schema: str = ""
    group_id: str = "projected_sickle"
    paused: bool = False
    setup_state: str = "connected"
    schedule_type: str = "auto"
    sync_seconds: float = 0.3
    queued_seconds: float = 0.0  # "scheduled" after a start, before "syncing"
    outcome: str = "succeeded"
    failure_tasks: list[dict[str, str]] = field(default_factory=lambda: list(FAILURE_TASKS))
    reschedule_after: float | None = None  # a sync is rescheduled after this much syncing...
    reschedule_for: float = 1.0  # ...until this much later
    reschedule_warnings: list[dict[str, str]] = field(default_factory=list)  # Fivetran's reason
    succeeded_at: datetime | None = None  # add_connector: a day before the fake's epoch
    failed_at: datetime | None = None
    tasks: list[dict[str, str]] = field(default_factory=list)
    syncs: list[FakeSync] = field(default_factory=list)

    @property
    def sync(self) -> FakeSync | None:
        """The sync running now, if any."""
        current = self.syncs[-1] if self.syncs else None
        return current if current and current.ended is None and not current.restarted else None

    @property
    def started_syncs(self) -> int:
        """Syncs started by requests (a forced restart counts, a join does not)."""
        return len(self.syncs)


class FakeFivetran(FakeHttpApi):
    """The fake Fivetran API. ``start()`` it, point ``FIVETRAN_BASE_URL`` at ``url``."""

    service = "Fivetran"

    def __init__(self, *, clock: Callable[[], float] | None = None, speed: float = 1.0) -> None:
        super().__init__(credentials=(FAKE_KEY, FAKE_SECRET), clock=clock, speed=speed)
        self.connectors: dict[str, Connector] = {}
        # The fake's clock reads 0 at this instant: timestamps are epoch plus its clock.
        self.epoch = datetime.now(timezone.utc).replace(microsecond=0)
        # The most items a list page holds, whatever limit was asked for.
        self.max_page = MAX_PAGE

    # -- what tests arrange ---------------------------------------------------------------
    def add_connector(
        self, connector_id: str, *, syncing: bool = False, **fields: Any
    ) -> Connector:
        """Add a connector; ``syncing=True`` starts a sync now (as Fivetran's scheduler would)."""
        fields.setdefault("succeeded_at", self.epoch - timedelta(days=1))
        connector = Connector(connector_id, **fields)
        connector.schema = connector.schema or connector_id
        with self.lock:
            self.connectors[connector_id] = connector
            if syncing:
                self._start(connector, forced=False)
        return connector

    @property
    def env(self) -> dict[str, str]:
        return {
            **super().env,
            "FIVETRAN_BASE_URL": self.url,
            "FIVETRAN_API_KEY": FAKE_KEY,
            "FIVETRAN_API_SECRET": FAKE_SECRET,
            "NO_COLOR": "1",
        }

    def pause(self, connector_id: str) -> None:
        """Pause a connector as a user would in the dashboard: a running sync stops unfinished."""
        with self.lock:
            connector = self.connectors[connector_id]
            connector.paused = True
            if connector.sync is not None:
                connector.sync.restarted = True

    def time_at(self, seconds: float) -> datetime:
        """The timestamp the fake gives for ``seconds`` on its clock."""
        return self.epoch + timedelta(seconds=seconds)

    def sync_posts(self, connector_id: str) -> list[Seen]:
        """The sync requests the fake received for one connector."""
        return self.seen("POST", rf"/v1/connect(ions|ors)/{re.escape(connector_id)}/sync")

    # -- the API --------------------------------------------------------------------------
    def route(self, request: Seen) -> Answer:
        path, method = request.path.rstrip("/"), request.method
        if method == "GET" and (match := re.fullmatch(r"/v1/connect(?:ions|ors)/([^/]+)", path)):
            return self._details(match.group(1))
        if method == "POST" and (
            match := re.fullmatch(r"/v1/connect(?:ions|ors)/([^/]+)/sync", path)
        ):
            return self._sync(match.group(1), request.body)
        if method == "GET" and re.fullmatch(r"/v1/connect(?:ions|ors)", path):
            return self._list(request, None)
        if method == "GET" and (
            match := re.fullmatch(r"/v1/groups/([^/]+)/connect(?:ions|ors)", path)
        ):
            return self._list(request, match.group(1))
        return 404, self.error_document(404, f"No route for {method} {path}")

    def error_document(self, status: int, message: str) -> Any:
        code = _CODES.get(status, "InternalServerError" if status >= 500 else str(status))
        return {"code": code, "message": message}

    def unauthorized_message(self, request: Seen) -> str:
        # Echo what was sent, as some APIs do: paradime must redact it anyway.
        user = request.basic[0] if request.basic else ""
        return f"Authentication failed for API key '{user}'"

    def http_date(self) -> str:
        return formatdate(self.time_at(self.clock()).timestamp(), usegmt=True)

    def _details(self, connector_id: str) -> Answer:
        connector = self.connectors.get(connector_id)
        if connector is None:
            return 404, self.error_document(
                404, f"Connection with id '{connector_id}' doesn't exist"
            )
        return 200, {"code": "Success", "data": self._document(connector)}

    def _sync(self, connector_id: str, body: Any) -> Answer:
        connector = self.connectors.get(connector_id)
        if connector is None:
            return 404, self.error_document(
                404, f"Connection with id '{connector_id}' doesn't exist"
            )
        if connector.paused:
            return 409, self.error_document(409, f"Connection '{connector_id}' is paused")
        force = bool(isinstance(body, dict) and body.get("force"))
        now = self.clock()
        self._advance(connector, now)
        running = connector.sync
        if running is not None:
            if force:
                running.restarted = True
                self._start(connector, forced=True)
            elif self._sync_state(connector, now) == "rescheduled":
                running.resumed_at = now  # a manual schedule's rescheduled sync, triggered again
        else:
            self._start(connector, forced=force)
        message = f"Sync has been successfully triggered for connection with id '{connector_id}'"
        return 200, {"code": "Success", "message": message}

    def _list(self, request: Seen, group_id: str | None) -> Answer:
        connectors = [
            c for c in self.connectors.values() if group_id is None or c.group_id == group_id
        ]
        if group_id is not None and not connectors:
            return 404, self.error_document(404, f"Group with id '{group_id}' doesn't exist")
        try:
            limit = int(request.query.get("limit", DEFAULT_PAGE))
            start = _offset(request.query.get("cursor"))
        except ValueError as exc:
            return 400, self.error_document(400, str(exc))
        if not 1 <= limit <= MAX_PAGE:
            return 400, self.error_document(400, f"limit must be between 1 and {MAX_PAGE}")
        size = min(limit, self.max_page)
        page = connectors[start : start + size]
        data: dict[str, Any] = {"items": [self._document(c, config=False) for c in page]}
        if start + size < len(connectors):
            data["next_cursor"] = _cursor(start + size)
        return 200, {"code": "Success", "data": data}

    # -- sync life ------------------------------------------------------------------------
    def _start(self, connector: Connector, *, forced: bool) -> None:
        connector.syncs.append(
            FakeSync(
                started=self.clock(),
                forced=forced,
                queued_s=connector.queued_seconds,
                duration_s=connector.sync_seconds,
                outcome=connector.outcome,
                reschedule_after_s=connector.reschedule_after,
                reschedule_for_s=connector.reschedule_for,
            )
        )

    def _end_time(self, connector: Connector, sync: FakeSync) -> float | None:
        """When the sync ends, or None while it waits in a reschedule nobody resumed."""
        rescheduled_at = sync.rescheduled_at
        if rescheduled_at is None:
            return sync.syncing_from + sync.duration_s
        resumed = sync.resumed_at
        if resumed is None and connector.schedule_type == "auto":
            resumed = sync.rescheduled_for
        if resumed is None:
            return None
        assert sync.reschedule_after_s is not None
        return max(resumed, rescheduled_at) + sync.duration_s - sync.reschedule_after_s

    def _advance(self, connector: Connector, now: float) -> None:
        """Finish the running sync if its time has come, recording its outcome."""
        sync = connector.sync
        if sync is None:
            return
        end = self._end_time(connector, sync)
        if end is None or now < end:
            return
        sync.ended = end
        if sync.outcome == "succeeded":
            connector.succeeded_at = self.time_at(end)
            connector.tasks = []
        else:
            connector.failed_at = self.time_at(end)
            connector.tasks = list(connector.failure_tasks)

    def _sync_state(self, connector: Connector, now: float) -> str:
        sync = connector.sync
        if connector.paused:
            return "paused"
        if sync is None:
            return "scheduled"
        if now < sync.syncing_from:
            return "scheduled"
        rescheduled_at = sync.rescheduled_at
        if rescheduled_at is not None and now >= rescheduled_at:
            end = self._end_time(connector, sync)
            resumed = sync.resumed_at
            if resumed is None and connector.schedule_type == "auto":
                resumed = sync.rescheduled_for
            if end is None or resumed is None or now < resumed:
                return "rescheduled"
        return "syncing"

    def _document(self, connector: Connector, config: bool = True) -> dict[str, Any]:
        now = self.clock()
        self._advance(connector, now)
        sync_state = self._sync_state(connector, now)
        status: dict[str, Any] = {
            "setup_state": connector.setup_state,
            "sync_state": sync_state,
            "update_state": "on_schedule",
            "is_historical_sync": False,
            "tasks": connector.tasks,
            "warnings": [],
        }
        sync = connector.sync
        if sync_state == "rescheduled" and sync is not None and sync.rescheduled_for is not None:
            status["rescheduled_for"] = _iso(self.time_at(sync.rescheduled_for))
            status["warnings"] = list(connector.reschedule_warnings)
        if connector.setup_state != "connected":
            status["tasks"] = [
                {"code": "reconnect", "message": "Reconnect: the source credentials were revoked"}
            ]
        doc: dict[str, Any] = {
            "id": connector.id,
            "group_id": connector.group_id,
            "service": connector.service,
            "service_version": 1,
            "schema": connector.schema,
            "connected_by": "monitor_fruit",
            "created_at": _iso(self.epoch - timedelta(days=30)),
            "succeeded_at": _iso(connector.succeeded_at) if connector.succeeded_at else None,
            "failed_at": _iso(connector.failed_at) if connector.failed_at else None,
            "paused": connector.paused,
            "pause_after_trial": False,
            "sync_frequency": 360,
            "schedule_type": connector.schedule_type,
            "status": status,
        }
        if config:
            doc["config"] = {"host": "db.internal", "port": 5432}
        return doc


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(text.removeprefix("offset:"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError(f"Invalid cursor '{cursor}'") from None


# -- pytest fixtures -------------------------------------------------------------------------
@pytest.fixture
def fivetran() -> Iterator[FakeFivetran]:
    """A fake Fivetran API on 127.0.0.1 for one test."""
    fake = FakeFivetran().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fivetran_cli(
    fivetran: FakeFivetran,
    paradime_register: Callable[..., Any],
    paradime_cli: Callable[..., Any],
    fast_polling: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Any]:
    """``fivetran_cli(*args, env=None)``: ``paradime run <args>`` in-process, with only the
    Fivetran provider, pointed at the fake, polling every 50-200 ms (the command's cap of one
    status check a second, there for Fivetran's hourly quota, is lifted)."""
    import dataclasses

    import paradime_fivetran

    fast = dataclasses.replace(paradime_fivetran.TRIGGER_COMMAND, poll_rate_per_s=100.0)
    monkeypatch.setattr(paradime_fivetran, "TRIGGER_COMMAND", fast)
    paradime_register(paradime_fivetran)

    def run(*args: str, env: dict[str, str | None] | None = None) -> Any:
        return paradime_cli(["run", *args], env={**fivetran.env, **(env or {})})

    return run
