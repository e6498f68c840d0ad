"""Starting, following and cancelling Airbyte jobs; listing connections.

Imported only when a command runs (it imports httpx through paradime-http-common). Each runner
method makes the calls of one step and returns: core's engine owns retries, the poll schedule,
the deadline and signals.

* Credentials: an application's client id and secret are exchanged for an access token at
  ``POST {base}/applications/token``; on a self-managed install (a base URL ending in
  ``/api/public/v1``) a 404 there sends the exchange to ``<host>/api/v1/applications/token``,
  where older versions and the Enterprise guide put it. One token serves every target and
  thread of the run; it is exchanged again a margin before it expires and once after a 401
  (:class:`paradime_http.tokens.TokenAuth`). With ``--use-server-auth`` the id and secret
  go as HTTP Basic credentials on every request instead; with ``--no-auth`` (an install with
  authentication disabled) nothing is sent.
* Start, in core's steps: the look-up ``GET {base}/connections/{id}`` (its workspace and name,
  for the link and the row; the answer's ``Date`` marks the first attempt), then the one
  ``POST {base}/jobs``. Airbyte runs one job per connection at a time and answers 409 while one
  runs: the runner then finds that job (``GET {base}/jobs`` filtered by the connection and an
  active status) and follows it instead of starting a second. A start whose answer was lost (or
  answered 5xx) is not repeated blindly, as the job may have ended before a repeat and a second
  would then start: the recovery look-up lists the connection's jobs created since the first
  attempt (``createdAtStart``) and follows the one it finds; none found, core starts again.
* Follow: ``GET {base}/jobs/{id}``; ``incomplete`` (an attempt failed, Airbyte retries) keeps
  waiting like ``pending`` and ``running``.
* Cancel (``--cancel-on-exit``): ``DELETE {base}/jobs/{id}``, reporting the status Airbyte
  answered. A 409 (the job ended since the last status check) reads the job again and reports
  how it ended.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from paradime.api import (
    Lister,
    Page,
    Prepared,
    RunContext,
    RunError,
    Runner,
    RunState,
    RunStatus,
    UsageError,
)
from paradime_http.client import HttpApi
from paradime_http.errors import (
    ApiError,
    ConflictError,
    error_for_response,
    foreign_answer,
    read_document,
    start_failure,
)
from paradime_http.tokens import TokenAuth

# The service's name as the user reads it in messages.
SERVICE_WORD = "Airbyte"
CREDENTIALS = "--client-id/--client-secret (AIRBYTE_CLIENT_ID/AIRBYTE_CLIENT_SECRET)"
CLOUD_API = "api.airbyte.com"
CLOUD_UI = "https://cloud.airbyte.com"
# A self-managed install's public API, and where its token exchange also is: the current
# "Get an API access token" guide posts to <host>/api/public/v1/applications/token, the
# Self-Managed Enterprise guide and the 1.x guides to <host>/api/v1/applications/token (the
# server's own API, the only one on older versions).
SELF_MANAGED_API = "/api/public/v1"
SELF_MANAGED_TOKEN_PATH = "/api/v1/applications/token"
# The public API's largest page (its ``limit`` maximum): 120 connections are two requests.
PAGE_SIZE = 100

# A job's status: the values of the API reference's JobStatusEnum, and ``queued`` from newer
# servers. A status missing here is followed as RUNNING, its name in the progress line, until it
# ends or the deadline does (docs/decisions.md).
STATUSES = {
    "pending": RunStatus.RUNNING,
    "queued": RunStatus.RUNNING,  # newer servers: waiting for a worker
    "running": RunStatus.RUNNING,
    "incomplete": RunStatus.RUNNING,  # an attempt failed; Airbyte starts another
    "succeeded": RunStatus.SUCCEEDED,
    "failed": RunStatus.FAILED,
    "cancelled": RunStatus.STOPPED,
}
# The statuses of a job that still runs, in the order a 409's job is looked for: running is the
# usual case. ``queued`` is unknown to older servers (they answer 400, read as "none").
ACTIVE = ("running", "pending", "incomplete", "queued")


@dataclass(frozen=True)
class Connection:
    """What the runner needs of a connection: read once per target and run."""

    connection_id: str
    name: str | None
    workspace_id: str | None


@dataclass(frozen=True)
class JobHandle:
    """The runner's handle of one job (core keeps it between polls)."""

    job_id: int
    connection: Connection
    job_type: str
    joined: bool = False
    status: str = "pending"
    failed_attempts: int = 0  # times the job was seen go to ``incomplete``


def ui_base(base_url: str) -> str:
    """The web UI's address for an API base URL: Airbyte Cloud's for api.airbyte.com, else the
    same host with the API path (``/api/public/v1``, ``/api/v1``, ``/v1``) taken off."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.hostname == CLOUD_API:
        return CLOUD_UI
    path = parts.path.rstrip("/")
    for suffix in ("/api/public/v1", "/api/v1", "/v1"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _connection_of(connection_id: str, document: Any) -> Connection:
    document = document if isinstance(document, dict) else {}
    return Connection(
        connection_id=connection_id,
        name=document.get("name"),
        workspace_id=document.get("workspaceId"),
    )


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def token_urls(base_url: str) -> tuple[str, ...]:
    """Where the token exchange is asked, in order: ``{base}/applications/token``, then, for a
    self-managed install's base URL (``.../api/public/v1``), ``<host>/api/v1/applications/token``.
    """
    base = base_url.rstrip("/")
    urls = [f"{base}/applications/token"]
    if base.endswith(SELF_MANAGED_API):
        urls.append(base[: -len(SELF_MANAGED_API)] + SELF_MANAGED_TOKEN_PATH)
    return tuple(urls)


# The credential options: flag, params key, variable.
CREDENTIAL_OPTIONS = (
    ("--client-id", "client_id", "AIRBYTE_CLIENT_ID"),
    ("--client-secret", "client_secret", "AIRBYTE_CLIENT_SECRET"),
)


def _credentials(params: Mapping[str, Any], context: RunContext) -> tuple[str, str]:
    """The client id and secret, checked before any request; ``("", "")`` with ``--no-auth``,
    which refuses any credential (one the environment hands a run meant to send none is a
    mistake to point out, not a secret to send)."""
    no_auth = bool(params.get("no_auth"))
    if no_auth and params.get("use_server_auth"):
        raise UsageError("--no-auth sends no credentials: not with --use-server-auth")
    values = []
    for name, key, env in CREDENTIAL_OPTIONS:
        value = str(params.get(key) or "")
        if no_auth and value:
            where = f" (from {env})" if context.option_source(key) == "environment" else ""
            raise UsageError(f"--no-auth sends no credentials, yet {name} is given{where}")
        if not no_auth and not value:
            raise UsageError(f"missing option '{name}' (or set {env}; or --no-auth)")
        values.append(value)
    return values[0], values[1]


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _duration_words(iso: Any) -> str:
    """``PT5M12S`` as ``5m12s`` (Airbyte's ISO 8601 duration), or ``""``."""
    if not isinstance(iso, str) or not iso.startswith("PT"):
        return ""
    return iso[2:].lower()


class AirbyteApi:
    """Airbyte's public API for one command run: one HTTP client, one set of credentials."""

    def __init__(
        self,
        params: Mapping[str, Any],
        context: RunContext,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        client_id, client_secret = _credentials(params, context)
        self.base_url = str(params["base_url"])
        self.ui_url = ui_base(self.base_url)
        self.logger = context.logger
        self.server_auth = bool(params.get("use_server_auth"))
        self._credentials = {"client_id": client_id, "client_secret": client_secret}
        self._token_urls = token_urls(self.base_url)
        self._token_url = 0  # the address in use; moved on by a 404 (under TokenAuth's lock)
        self.token_auth: TokenAuth | None = None
        auth: tuple[str, str] | httpx.Auth | None = None
        if self.server_auth:
            auth = (client_id, client_secret)
        elif client_id:  # else --no-auth: the install checks no credentials
            self.token_auth = TokenAuth(
                self._token_request, self._read_token, on_token=context.add_secret, clock=clock
            )
            auth = self.token_auth
        self.http = HttpApi(
            self.base_url,
            service=SERVICE_WORD,
            product="paradime-airbyte",
            credentials=CREDENTIALS,
            context=context,
            auth=auth,
            secrets=(client_secret,) if client_secret else (),
        )

    # -- access tokens ----------------------------------------------------------------------
    def _token_request(self) -> httpx.Request:
        # The reference's schema names the grant "grant-type" (and lists grant_type as
        # required): both spellings are sent.
        body = {
            **self._credentials,
            "grant-type": "client_credentials",
            "grant_type": "client_credentials",
        }
        url = self._token_urls[self._token_url]
        return self.http.client.build_request("POST", url, json=body)

    def _read_token(self, response: httpx.Response) -> tuple[str, float | None] | None:
        doing = "could not obtain an Airbyte access token"
        if self._token_url > 0:
            tried = ", ".join(self._token_urls[: self._token_url])
            doing += f" at {self._token_urls[self._token_url]} (after HTTP 404 at {tried})"
        if response.status_code == 404 and self._token_url + 1 < len(self._token_urls):
            # Before the HTML check: a proxy's 404 page is as much "not here" as the API's.
            self._token_url += 1
            self.logger.info(
                "no Airbyte token exchange at this address (HTTP 404): trying the next one",
                tried=str(response.request.url),
                next=self._token_urls[self._token_url],
            )
            return None
        foreign = foreign_answer(response, service=SERVICE_WORD, doing=doing)
        if foreign is not None:
            raise foreign
        if not response.is_success:
            raise error_for_response(
                response,
                service=SERVICE_WORD,
                doing=doing,
                credentials=CREDENTIALS,
                idempotent=True,
            )
        document = read_document(response)
        token = document.get("access_token") if isinstance(document, dict) else None
        if not isinstance(token, str) or not token:
            raise ApiError(
                f"{doing}: {SERVICE_WORD} answered HTTP {response.status_code} without an access "
                "token (is --base-url Airbyte's public API?)",
                kind="invalid_answer",
                http_status=response.status_code,
            )
        expires_in = document.get("expires_in")
        seconds = float(expires_in) if isinstance(expires_in, (int, float)) else None
        self.logger.debug("Airbyte access token obtained", expires_in_s=seconds)
        return token, seconds

    # -- calls ------------------------------------------------------------------------------
    def get(
        self, path: str, *, doing: str, params: Mapping[str, Any] | None = None, **kw: Any
    ) -> Any:
        return self.http.request("GET", path, doing=doing, params=params, **kw).document

    def console_url(self, connection: Connection) -> str | None:
        if not connection.workspace_id:
            return None
        return (
            f"{self.ui_url}/workspaces/{connection.workspace_id}/connections/"
            f"{connection.connection_id}/timeline"
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()


class ConnectionRunner(Runner):
    """Starts a job per connection, or joins the one running, and follows it to its end.

    The command's factory: built once per run with the parsed options (``clock``: the token
    expiry's clock, a benchmark's virtual one).
    """

    def __init__(
        self,
        params: Mapping[str, Any],
        context: RunContext,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = AirbyteApi(params, context, clock=clock)
        self.logger = context.logger
        self.job_type = str(params.get("job_type") or "sync")
        self.keyed = context.idempotency_key is not None
        self.workspace_id: str | None = params.get("workspace_id")
        self._lock = threading.Lock()
        self._unexplained: dict[str, int] = {}  # per target: 409s with no running job found

    # -- trigger ----------------------------------------------------------------------------
    def prepare(self, target: str) -> Prepared:
        """Read the connection (and check its workspace); note when, on Airbyte's clock."""
        connection, read_at = self._connection(target)
        return Prepared(
            console_url=self.api.console_url(connection),
            details={"connection_name": connection.name, "workspace_id": connection.workspace_id},
            data=(connection, read_at),
        )

    def start(self, target: str, prepared: Prepared) -> RunState:
        """``POST /jobs``, once: a 409 joins the running job; a lost answer or a 5xx is left to
        :meth:`recover` (never repeated by the HTTP client or here)."""
        connection: Connection = prepared.data[0]
        try:
            answer = self.api.http.request(
                "POST",
                "/jobs",
                doing=f"could not start a {self.job_type} job of connection {target}",
                json={"connectionId": target, "jobType": self.job_type},
                idempotent=False,
            )
        except ConflictError as exc:
            return self._join(connection, exc)
        except ApiError as exc:
            raise start_failure(exc) from None
        state = self._state(self._job(answer.document, connection), answer.document)
        if self.keyed and state.status is RunStatus.RUNNING:
            # Said once per run: what the key cannot do here.
            state.message = (
                f"{state.message} (no job was running; an ended job cannot be tied to the "
                "idempotency key)"
            )
        return state

    def recover(self, target: str, prepared: Prepared) -> RunState | None:
        """After a start whose answer was lost: the connection's newest job of this type created
        since the first attempt is the one it made (running or already ended); none: no job."""
        connection: Connection
        read_at: datetime
        connection, read_at = prepared.data
        page = self.api.get(
            "/jobs",
            doing=f"could not look for the job the unanswered start of connection {target} made",
            params={
                "connectionId": target,
                "jobType": self.job_type,
                # Airbyte's clock, a second early: its Date header is whole seconds.
                "createdAtStart": _iso(read_at - timedelta(seconds=1)),
                "orderBy": "createdAt|DESC",
                "limit": PAGE_SIZE,
            },
        )
        jobs = [j for j in (page or {}).get("data") or [] if isinstance(j, dict)]
        if not jobs:
            return None
        newest = max(jobs, key=lambda j: _count(j.get("jobId")) or 0)
        state = self._state(self._job(newest, connection), newest)
        state.message = f"found job {state.run_id}, which the unanswered start made: following it"
        return state

    def _connection(self, target: str) -> tuple[Connection, datetime]:
        """The target's connection, and when it was read on Airbyte's clock."""
        answer = self.api.http.request(
            "GET", f"/connections/{target}", doing=f"could not read connection {target}"
        )
        connection = _connection_of(target, answer.document)
        if self.workspace_id and connection.workspace_id != self.workspace_id:
            raise RunError(
                f"connection {target} belongs to workspace {connection.workspace_id}, not "
                f"--workspace-id {self.workspace_id}: no job started",
                details={"workspace_id": connection.workspace_id},
            )
        return connection, answer.server_time or datetime.now(timezone.utc)

    def _join(self, connection: Connection, conflict: ConflictError) -> RunState:
        """Airbyte refused a second job (409): follow the one that runs instead."""
        target = connection.connection_id
        running = self._active_job(connection)
        if running is None:
            with self._lock:
                self._unexplained[target] = seen = self._unexplained.get(target, 0) + 1
            if seen == 1:
                # It may have ended between the two calls: nothing of ours was started, so
                # starting again is safe.
                raise RunError(
                    f"{conflict.message}; no job of this connection is running now: starting again",
                    retryable=True,
                )
            # Twice: Airbyte answers "already running" while it lists no running job (a state
            # some servers get stuck in); retrying cannot end it.
            raise RunError(
                f"{conflict.message}; yet Airbyte lists no pending, running, incomplete or "
                f"queued job for connection {target}, twice: no job started (Airbyte holds the "
                "connection as busy without a job to show; see its job history, or cancel the "
                "stuck job in Airbyte)",
                details={"http_status": 409},
            )
        job = self._job(running, connection, joined=True)
        if job.job_type != self.job_type:
            raise RunError(
                f"connection {target} is running its {job.job_type} job {job.job_id} "
                f"({job.status}): no {self.job_type} job started; run again once it ends",
                details={"running_job_id": job.job_id, "running_job_type": job.job_type},
            )
        self.logger.info(
            "a job of this connection was already running: following it",
            target=target,
            run_id=str(job.job_id),
        )
        return self._state(job, running)

    def _active_job(self, connection: Connection) -> Mapping[str, Any] | None:
        """The connection's job that still runs, if any (the newest, should there be two).

        One query per active status: a job that moves from a status not yet asked to one already
        asked between two queries is missed; the start is then tried again and meets the 409
        again, so the miss costs a retry, never a second job."""
        target = connection.connection_id
        for status in ACTIVE:
            try:
                page = self.api.get(
                    "/jobs",
                    doing=f"could not find the job running for connection {target}",
                    params={"connectionId": target, "status": status, "limit": PAGE_SIZE},
                )
            except ApiError as exc:
                if exc.http_status == 400 and status != ACTIVE[0]:
                    continue  # a status this server does not know: no job has it
                raise
            jobs = [j for j in (page or {}).get("data") or [] if isinstance(j, dict)]
            if jobs:
                return max(jobs, key=lambda j: _count(j.get("jobId")) or 0)
        return None

    # -- poll -------------------------------------------------------------------------------
    def poll(self, target: str, state: RunState) -> RunState:
        handle: JobHandle = state.handle
        try:
            document = self.api.get(
                f"/jobs/{handle.job_id}",
                doing=f"could not read job {handle.job_id}",
                run_id=str(handle.job_id),
            )
        except ApiError as exc:
            # A job read right after its start may not be found yet: core asks again.
            exc.not_found = exc.kind == "not_found"
            raise
        return self._state(self._job(document, handle.connection, previous=handle), document)

    # -- cancel -----------------------------------------------------------------------------
    def cancel(self, target: str, state: RunState, reason: str) -> RunState | None:
        handle: JobHandle = state.handle
        try:
            document = self.api.http.request(
                "DELETE",
                f"/jobs/{handle.job_id}",
                doing=f"could not cancel job {handle.job_id}",
                run_id=str(handle.job_id),
            ).document
        except ConflictError:
            # Airbyte refuses to cancel a job that is no longer running: it ended between the
            # last status check and the stop. Its own end is what happened, not a stop.
            ended = self.poll(target, state)
            if ended.status is RunStatus.RUNNING:
                raise
            return ended
        job = self._job(document, handle.connection, previous=handle)
        answered = self._state(job, document)
        answered.error = f"Airbyte answered: job {job.job_id} {job.status}"
        return answered

    # -- answers to states ------------------------------------------------------------------
    def _job(
        self,
        document: Any,
        connection: Connection,
        *,
        joined: bool = False,
        previous: JobHandle | None = None,
    ) -> JobHandle:
        """The handle of the job a document describes (a job id it must have)."""
        if not isinstance(document, dict) or _count(document.get("jobId")) is None:
            raise ApiError(
                f"{SERVICE_WORD} answered without a job id for connection "
                f"{connection.connection_id}",
                kind="invalid_answer",
                retryable=previous is not None,
                run_id=str(previous.job_id) if previous else None,
            )
        status = str(document.get("status") or "unknown").lower()
        if previous is None:
            return JobHandle(
                job_id=int(document["jobId"]),
                connection=connection,
                job_type=str(document.get("jobType") or self.job_type).lower(),
                joined=joined,
                status=status,
            )
        went_incomplete = status == "incomplete" and previous.status != "incomplete"
        return replace(
            previous, status=status, failed_attempts=previous.failed_attempts + int(went_incomplete)
        )

    def _state(self, handle: JobHandle, document: Mapping[str, Any]) -> RunState:
        """What a job document means as a run state: status, message, error, rows and bytes."""
        run_id = str(handle.job_id)
        rows, size = _count(document.get("rowsSynced")), _count(document.get("bytesSynced"))
        details: dict[str, Any] = {
            "job_type": handle.job_type,
            "job_status": handle.status,
            "rows_synced": rows,
            "bytes_synced": size,
            "start_time": document.get("startTime"),
            "duration": document.get("duration"),
            "last_updated_at": document.get("lastUpdatedAt"),
            "connection_name": handle.connection.name,
            "workspace_id": handle.connection.workspace_id,
            "joined": handle.joined,
            "failed_attempts": handle.failed_attempts,
        }
        status = STATUSES.get(handle.status)
        console_url = self.api.console_url(handle.connection)
        common: dict[str, Any] = {
            "run_id": run_id,
            "handle": handle,
            "console_url": console_url,
            "details": details,
            "attached": handle.joined,
        }
        if status is None:
            # A status this version does not know (Airbyte adds some): keep waiting, bounded by
            # the deadline, rather than end a run that may still succeed.
            message = f"status {handle.status!r} unknown to paradime: checked again until it ends"
            return RunState(RunStatus.RUNNING, message=message, **common)
        if status is RunStatus.RUNNING:
            return RunState(status, message=self._progress(handle), **common)
        output = {"rows_synced": rows, "bytes_synced": size} if rows is not None else None
        if status is RunStatus.SUCCEEDED:
            return RunState(status, output=output, **common)
        if status is RunStatus.STOPPED:
            return RunState(
                status, output=output, error=f"Airbyte job {run_id} was cancelled", **common
            )
        return RunState(status, output=output, error=self._failure(handle, document), **common)

    @staticmethod
    def _progress(handle: JobHandle) -> str:
        joined = " (joined: it was already running)" if handle.joined else ""
        if handle.status == "incomplete":
            return f"incomplete: an attempt failed, Airbyte tries again{joined}"
        if handle.failed_attempts:
            return f"{handle.status}, after {handle.failed_attempts} failed attempt(s){joined}"
        return f"{handle.status}{joined}"

    def _failure(self, handle: JobHandle, document: Mapping[str, Any]) -> str:
        took = _duration_words(document.get("duration"))
        parts = [f"Airbyte {handle.job_type} job {handle.job_id} failed"]
        if took:
            parts[0] += f" after {took}"
        if handle.failed_attempts:
            parts.append(f"{handle.failed_attempts} earlier attempt(s) failed and were retried")
        rows = _count(document.get("rowsSynced"))
        if rows is not None:
            parts.append(f"{rows} rows synced")
        where = self.api.console_url(handle.connection) or "the connection's job history"
        parts.append(f"Airbyte's public API gives no failure reason: see the job's logs at {where}")
        return "; ".join(parts)

    def close(self) -> None:
        self.api.close()


class ConnectionLister(Lister):
    """Every connection the credentials can see, or those of one workspace, page after page.
    The list command's factory."""

    def __init__(self, params: Mapping[str, Any], context: RunContext) -> None:
        self.api = AirbyteApi(params, context)
        self.workspace_id: str | None = params.get("workspace_id")

    def page(self, token: Any) -> Page:
        """One page of connections: ``token`` is ``(offset, limit)``, ``None`` for the first."""
        offset, limit = token or (0, PAGE_SIZE)
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if self.workspace_id:
            params["workspaceIds"] = self.workspace_id
        page = self.api.get(
            "/connections", doing=f"could not list connections (offset {offset})", params=params
        )
        data = [c for c in (page or {}).get("data") or [] if isinstance(c, dict)]
        rows = [_list_row(connection) for connection in data]
        following = _next_offset((page or {}).get("next"))
        if not data or following is None:
            return Page(rows)
        # The next link's host may be the server's internal name behind a proxy: only its
        # offset and limit are taken, the request goes to --base-url.
        next_offset, next_limit = following
        if next_offset is None:
            next_offset = offset + len(data)
        if next_offset <= offset:
            raise RunError(
                f"{SERVICE_WORD} answered a next page at offset {next_offset} after offset {offset}"
            )
        return Page(rows, next=(next_offset, next_limit or limit))

    def close(self) -> None:
        self.api.close()


def _list_row(connection: Mapping[str, Any]) -> dict[str, Any]:
    schedule = connection.get("schedule") or {}
    cron = schedule.get("cronExpression")
    kind = schedule.get("scheduleType")
    return {
        "connection_id": connection.get("connectionId"),
        "name": connection.get("name"),
        "status": connection.get("status"),
        "schedule": f"{kind} {cron}" if kind and cron else kind,
        "workspace_id": connection.get("workspaceId"),
        "source_id": connection.get("sourceId"),
        "destination_id": connection.get("destinationId"),
        "created_at": connection.get("createdAt"),
    }


def _next_offset(link: Any) -> tuple[int | None, int | None] | None:
    """``(offset, limit)`` of a ``next`` link, ``None`` when there is no next page."""
    if not isinstance(link, str) or not link:
        return None
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)

    def number(key: str) -> int | None:
        values = query.get(key) or []
        return int(values[0]) if values and values[0].isdigit() else None

    return number("offset"), number("limit")


# The runner's earlier name, for code written against it.
AirbyteSyncRunner = ConnectionRunner
