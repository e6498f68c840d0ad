"""Syncing Fivetran connectors and listing them, over Fivetran's REST API v1.

Imported only when a command runs (it imports httpx through :mod:`paradime_http.client`).
Each runner method makes the calls of one step and returns; core owns the waiting, the retries
(honouring ``Retry-After``), the rate cap and the deadline.

Fivetran gives a sync no id. A sync is known by the connector's ``succeeded_at`` or
``failed_at`` moving past the values read *before* the sync was started (the baseline): a sync
that ends before the first status check is still seen, and an older outcome is never taken for
this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from paradime.api import (
    Lister,
    Page,
    Prepared,
    RunContext,
    RunError,
    Runner,
    RunState,
    RunStatus,
)
from paradime_http.client import Answer, HttpApi
from paradime_http.errors import ApiError, start_failure

# The resource was called "connector" until 2025 and is "connection" in the current reference;
# the /v1/connectors paths remain as aliases. The current ones are used.
CONNECTIONS = "/v1/connections"
# The response format the current reference documents (version 2).
ACCEPT = "application/json;version=2"
CREDENTIALS = "--api-key/--api-secret (FIVETRAN_API_KEY/FIVETRAN_API_SECRET)"
# Connectors per list request: Fivetran's maximum, so a large account costs few requests.
LIST_PAGE_SIZE = 1000
DASHBOARD = "https://fivetran.com/dashboard/connectors"


@dataclass(frozen=True)
class Sync:
    """The runner's handle of one sync: which connector, and the baseline that tells its end."""

    connector_id: str
    succeeded_at: datetime | None
    failed_at: datetime | None
    # The rescheduled_for value of a rescheduled sync this run started again (manual schedules).
    resumed_for: str | None = None


@dataclass(frozen=True)
class _Before:
    """What the look-up saw before the first start: whether a sync ran, and when it read."""

    running: bool
    read_at: datetime


def parse_time(value: Any) -> datetime | None:
    """A Fivetran timestamp (ISO 8601, ``Z`` or an offset, any fraction of a second) or None."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # Python 3.10 reads 3 or 6 digits of a fraction only
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{head}.{(digits + '000000')[:6]}{rest[len(digits) :]}"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _after(value: datetime | None, baseline: datetime | None) -> bool:
    return value is not None and (baseline is None or value > baseline)


def sync_end(baseline: Sync, doc: Mapping[str, Any]) -> RunStatus | None:
    """How the sync ended: the later of ``succeeded_at`` / ``failed_at`` that moved past the
    baseline (``SUCCEEDED`` or ``FAILED``), or None while neither has."""
    ends = [
        (when, status)
        for key, before, status in (
            ("succeeded_at", baseline.succeeded_at, RunStatus.SUCCEEDED),
            ("failed_at", baseline.failed_at, RunStatus.FAILED),
        )
        if (when := parse_time(doc.get(key))) is not None and _after(when, before)
    ]
    return max(ends, key=lambda end: end[0])[1] if ends else None


def console_url(connector_id: str) -> str:
    """The connector's page in the Fivetran dashboard."""
    return f"{DASHBOARD}/{quote(connector_id, safe='')}/status"


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _notes(status: Mapping[str, Any], key: str) -> str:
    """Fivetran's ``tasks`` or ``warnings`` as ``code: message; ...``."""
    items = status.get(key) or []
    texts = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping):
            code, message = item.get("code"), item.get("message")
            texts.append(": ".join(str(part) for part in (code, message) if part))
    return "; ".join(text for text in texts if text)


def connector_fields(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The connector's fields a user wants in the JSON result."""
    status = doc.get("status") or {}
    fields = {
        "connector_id": doc.get("id"),
        "service": doc.get("service"),
        "schema": doc.get("schema"),
        "group_id": doc.get("group_id"),
        "succeeded_at": doc.get("succeeded_at"),
        "failed_at": doc.get("failed_at"),
        "sync_state": status.get("sync_state"),
        "setup_state": status.get("setup_state"),
    }
    if status.get("rescheduled_for"):
        fields["rescheduled_for"] = status["rescheduled_for"]
    return fields


# The service's name as the user reads it in messages.
SERVICE_WORD = "Fivetran"
# A connector's status.sync_state: the values Fivetran's connection API reference lists. An end
# is read from succeeded_at and failed_at, never from this; a sync state missing here is waited
# on as RUNNING, its name in the progress line, until an end or the deadline (docs/decisions.md).
SYNC_STATES = {
    "scheduled": RunStatus.RUNNING,
    "syncing": RunStatus.RUNNING,
    "rescheduled": RunStatus.RUNNING,
    "paused": RunStatus.STOPPED,
}
_WAITING = {
    "syncing": "syncing",
    "scheduled": "scheduled: waiting for Fivetran to start the sync",
}


class FivetranApi:
    """The few Fivetran calls paradime makes, each one HTTP request through :class:`HttpApi`."""

    def __init__(self, params: Mapping[str, Any], context: RunContext) -> None:
        self.http = HttpApi(
            params["base_url"],
            service=SERVICE_WORD,
            product="paradime-fivetran",
            credentials=CREDENTIALS,
            context=context,
            auth=(params["api_key"], params["api_secret"]),
            headers={"Accept": ACCEPT},
        )

    def connector(
        self, connector_id: str, run_id: str | None = None
    ) -> tuple[dict[str, Any], Answer]:
        """``GET /v1/connections/{id}``: the connector's ``data`` document, and the answer."""
        answer = self.http.request(
            "GET",
            f"{CONNECTIONS}/{quote(connector_id, safe='')}",
            doing=f"could not read connector '{connector_id}'",
            run_id=run_id,
        )
        return _data(answer, connector_id), answer

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def start_sync(
        self,
        connector_id: str,
        *,
        force: bool,
        run_id: str | None = None,
        idempotent: bool | None = None,
    ) -> Answer:
        """``POST /v1/connections/{id}/sync``.

        Without ``force`` Fivetran starts a sync only if none is running, so a repeat while the
        sync runs joins it; but a sync that ended before the repeat is not joined: a second one
        starts. The trigger's start is therefore never repeated blindly (``idempotent=False``:
        a lost answer is looked for by :meth:`ConnectorRunner.recover`). With ``force`` a
        repeat would restart that sync: not repeated either.
        """
        return self.http.request(
            "POST",
            f"{CONNECTIONS}/{quote(connector_id, safe='')}/sync",
            json={"force": force},
            doing=f"could not start a sync of connector '{connector_id}'",
            idempotent=(not force) if idempotent is None else idempotent,
            run_id=run_id,
        )

    def connectors_page(self, group_id: str | None, cursor: str | None) -> Page:
        """One page of the account's (or ``group_id``'s) connectors: one request; ``next`` is
        Fivetran's ``next_cursor``. A failed read is retryable (a GET): core reads it again."""
        path = CONNECTIONS
        doing = "could not list connectors"
        if group_id:
            path = f"/v1/groups/{quote(group_id, safe='')}/connections"
            doing = f"could not list the connectors of group '{group_id}'"
        answer = self.http.request(
            "GET", path, params={"limit": LIST_PAGE_SIZE, "cursor": cursor}, doing=doing
        )
        page = _data(answer, group_id or "the account")
        items = page.get("items") or []
        rows = [item for item in items if isinstance(item, dict)]
        return Page(rows, next=page.get("next_cursor") or None)


def _data(answer: Answer, subject: str) -> dict[str, Any]:
    document = answer.document
    data = document.get("data") if isinstance(document, Mapping) else None
    if not isinstance(data, dict):
        raise RunError(f"Fivetran's answer about {subject} has no 'data' object")
    return data


class ConnectorRunner(Runner):
    """Starts (or joins) one sync per connector and follows it to its end."""

    def __init__(self, params: Mapping[str, Any], context: RunContext) -> None:
        self.force = bool(params.get("force"))
        if self.force:
            context.decline_idempotency_key(
                "--force restarts a running sync, and the key exists to join it instead"
            )
        self.api = FivetranApi(params, context)
        self.keyed = context.idempotency_key is not None

    def prepare(self, target: str) -> Prepared:
        """Read the connector: refuse a paused or broken one, join a running sync (unless
        ``--force``), and keep its ``succeeded_at``/``failed_at``: the baseline this run's sync
        is told by, read once, before the first start."""
        doc, answer = self.api.connector(target)
        status = doc.get("status") or {}
        url = console_url(target)
        if doc.get("paused"):
            raise RunError(
                f"connector '{target}' is paused, and Fivetran does not sync a paused connector: "
                f"no sync was started. Resume it in the Fivetran dashboard ({url}) and run again"
            )
        setup_state = status.get("setup_state")
        if setup_state in ("broken", "incomplete"):
            tasks = _notes(status, "tasks")
            why = f" ({tasks})" if tasks else ""
            raise RunError(
                f"connector '{target}' cannot sync: its setup is {setup_state}{why}; no sync was "
                f"started. Fix its setup in the Fivetran dashboard ({url}) and run again"
            )
        handle = Sync(target, parse_time(doc.get("succeeded_at")), parse_time(doc.get("failed_at")))
        running = status.get("sync_state") == "syncing"
        read_at = answer.server_time or datetime.now(timezone.utc)
        if running and not self.force:
            return Prepared(
                found=RunState(
                    RunStatus.RUNNING,
                    run_id=f"{target}@{_iso(read_at)}",
                    console_url=url,
                    message="a sync was already running: joined it (--force would restart it)",
                    handle=handle,
                    details={**connector_fields(doc), "joined": True},
                    attached=True,
                )
            )
        return Prepared(
            handle=handle,
            console_url=url,
            details={**connector_fields(doc), "joined": False},
            data=_Before(running=running, read_at=read_at),
        )

    def start(self, target: str, prepared: Prepared) -> RunState:
        """``POST .../sync``, once: a lost answer or a 5xx is left to :meth:`recover`."""
        before: _Before = prepared.data
        try:
            answer = self.api.start_sync(target, force=self.force, idempotent=False)
        except ApiError as exc:
            raise start_failure(exc) from None
        running = before.running
        message = "the running sync was restarted (--force)" if running else "sync started"
        if self.keyed and not running:
            # Said once per run: what the key cannot do here.
            message += " (none was running; an ended sync cannot be tied to the idempotency key)"
        started = answer.server_time or datetime.now(timezone.utc)
        return RunState(
            RunStatus.RUNNING,
            run_id=f"{target}@{_iso(started)}",
            console_url=prepared.console_url,
            message=message,
            handle=prepared.handle,
            details=dict(prepared.details),
        )

    def recover(self, target: str, prepared: Prepared) -> RunState | None:
        """After a start whose answer was lost: a sync that started or ended since the baseline
        (read before the first attempt) is the one it began; nothing moved: none was made."""
        before: _Before = prepared.data
        baseline: Sync = prepared.handle
        doc, _ = self.api.connector(target)
        moved = sync_end(baseline, doc) is not None
        syncing = (doc.get("status") or {}).get("sync_state") == "syncing"
        if before.running:
            # --force on a running sync: the restart cannot be told from the sync it replaced.
            raise RunError(
                f"connector '{target}' was syncing before the forced start, and Fivetran shows "
                "no difference between that sync and a restart",
                details=connector_fields(doc),
            )
        if not moved and not syncing:
            return None
        return RunState(
            RunStatus.RUNNING,
            run_id=f"{target}@{_iso(before.read_at)}",
            console_url=prepared.console_url,
            message="found the sync the unanswered start began: following it",
            handle=baseline,
            details={**connector_fields(doc), "joined": False},
        )

    def poll(self, target: str, state: RunState) -> RunState:
        handle: Sync = state.handle
        doc, answer = self.api.connector(target, run_id=state.run_id)
        fields = connector_fields(doc)
        status = doc.get("status") or {}
        ended = sync_end(handle, doc)
        if ended is RunStatus.SUCCEEDED:
            return RunState(RunStatus.SUCCEEDED, details=fields)
        if ended is RunStatus.FAILED:
            return RunState(RunStatus.FAILED, error=self._failure(target, doc), details=fields)
        sync_state = str(status.get("sync_state"))
        known = SYNC_STATES.get(sync_state)
        if doc.get("paused") or known is RunStatus.STOPPED:
            return RunState(
                RunStatus.STOPPED,
                error=f"connector '{target}' was paused in Fivetran while paradime waited: the "
                "sync will not finish",
                details=fields,
            )
        if sync_state == "rescheduled":
            return self._rescheduled(target, state, doc, answer, fields)
        if known is None:
            message = f"sync state {sync_state!r} unknown to paradime: checked again until it ends"
        else:
            message = _WAITING[sync_state]
        return RunState(RunStatus.RUNNING, message=message, details=fields)

    def _rescheduled(
        self,
        target: str,
        state: RunState,
        doc: Mapping[str, Any],
        answer: Answer,
        fields: dict[str, Any],
    ) -> RunState:
        """Fivetran paused the sync until later (the source's API quota, or after a source error):
        not an end. Fivetran's own reason, its warnings or tasks, is quoted when it gives one.

        On an automatic schedule Fivetran resumes it by itself at ``rescheduled_for``; on a manual
        schedule nothing resumes it (Fivetran's docs: a rescheduled manual sync must be triggered
        again), so once that time has passed, the sync is started again, once per reschedule.
        """
        handle: Sync = state.handle
        status = doc.get("status") or {}
        when = status.get("rescheduled_for")
        reason = "; ".join(n for n in (_notes(status, "warnings"), _notes(status, "tasks")) if n)
        waiting = f"rescheduled by Fivetran for {when or 'later'} ({reason or 'no reason given'})"
        due = parse_time(when)
        now = answer.server_time or datetime.now(timezone.utc)
        manual = doc.get("schedule_type") == "manual"
        if manual and due is not None and due <= now and handle.resumed_for != when:
            self.api.start_sync(target, force=False, run_id=state.run_id)
            return RunState(
                RunStatus.RUNNING,
                message=f"{waiting}; started it again (manual schedule)",
                handle=replace(handle, resumed_for=when),
                details=fields,
            )
        return RunState(RunStatus.RUNNING, message=f"{waiting}; waiting", details=fields)

    @staticmethod
    def _failure(target: str, doc: Mapping[str, Any]) -> str:
        status = doc.get("status") or {}
        text = f"the sync failed at {doc.get('failed_at')}"
        notes = "; ".join(n for n in (_notes(status, "tasks"), _notes(status, "warnings")) if n)
        if notes:
            return f"{text}: {notes}"
        return (
            f"{text} (Fivetran gave no reason: see the connector's logs at {console_url(target)})"
        )

    def close(self) -> None:
        self.api.close()


class ConnectorLister(Lister):
    """Every connector of the account or of one group."""

    def __init__(self, params: Mapping[str, Any], context: RunContext) -> None:
        self.api = FivetranApi(params, context)
        self.group_id: str | None = params.get("group_id")
        self._cursors: set[str] = set()

    def page(self, token: Any) -> Page:
        cursor: str | None = token
        page = self.api.connectors_page(self.group_id, cursor)
        if page.next is not None and page.next in self._cursors:
            # A broken cursor would otherwise loop for ever.
            raise RunError(
                "could not list connectors: Fivetran returned the same page cursor twice"
            )
        if page.next is not None:
            self._cursors.add(page.next)
        return Page([_list_row(doc) for doc in page.rows], next=page.next)

    def close(self) -> None:
        self.api.close()


def _list_row(doc: Mapping[str, Any]) -> dict[str, Any]:
    status = doc.get("status") or {}
    setup_state = status.get("setup_state")
    state: str | None = None
    if doc.get("paused"):
        state = "paused"
    elif setup_state and setup_state != "connected":
        state = setup_state
    else:
        state = status.get("sync_state")
    fields = connector_fields(doc)
    return {
        "id": fields.pop("connector_id"),
        **fields,
        "state": state,
        "paused": doc.get("paused"),
        "schedule_type": doc.get("schedule_type"),
    }


# The runner's earlier name, for code written against it.
FivetranSyncRunner = ConnectorRunner
