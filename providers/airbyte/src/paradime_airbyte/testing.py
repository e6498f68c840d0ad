"""A stateful fake of Airbyte's public API, for tests, benchmarks and the demo.

Built on :class:`paradime_http.fake.FakeHttpApi` (a threaded HTTP server on 127.0.0.1, a
request log, fault injection: 429 with ``Retry-After``, 5xx, lost answers). It answers the
endpoints paradime uses, with the shapes of Airbyte's API reference (checked facts are listed in
docs/providers/airbyte.md)::

    api = FakeAirbyte().start()
    orders = api.add_connection("orders")                     # succeeds after the default script
    broken = api.add_connection("broken", outcome="failed")   # fails after it
    api.env                                                   # AIRBYTE_* variables pointing here

* ``POST {base}/applications/token``: client credentials to a Bearer token valid
  ``expires_in`` seconds of the fake's clock; an expired, revoked or unknown token gets 401.
  ``server_auth=True`` (a self-managed server) also accepts HTTP Basic with the same id and
  secret, and serves under ``/api/public/v1`` instead of ``/v1``. ``token_path`` moves the
  exchange elsewhere (``/api/v1/applications/token``, where older self-managed versions have
  it: 404 under the prefix then); ``auth=False`` is an install with authentication disabled
  (every request answered, whatever it carries).
* ``POST {base}/jobs``: a job per connection at a time; 409 (``try-again-later``) while one runs.
  A job follows its connection's script, on the fake's clock: by default ``pending`` →
  ``running`` → ``incomplete`` (an attempt failed) → ``running`` → ``succeeded``, rows and bytes
  growing while it runs.
* ``GET {base}/jobs/{id}``, ``GET {base}/jobs`` (filters: connectionId, status, jobType,
  createdAtStart; limit, offset; orderBy ``createdAt|ASC`` by default, as Airbyte),
  ``DELETE {base}/jobs/{id}``.
* ``GET {base}/connections/{id}``, ``GET {base}/connections`` (workspaceIds, limit ≤ 100,
  offset, and a ``next`` link while more remain).

Errors are problem documents (RFC 9457: ``type``, ``title``, ``status``, ``detail``) as Airbyte
sends them. A rejected token is echoed in its 401's ``detail``, as careless servers do: the
client must keep it out of every output.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from typing import Any

import pytest

from paradime_http.fake import FakeHttpApi, Seen

CLIENT_ID = "7d2c0e1a-5b4f-4c1e-9a57-3f0a8d2b6c11"
CLIENT_SECRET = "abSecret-9QmT4vLx2RkP8wZs6NdY3hJc"
DOCS = "https://reference.airbyte.com/reference/errors"
ACTIVE = ("pending", "queued", "running", "incomplete")
TERMINAL = ("succeeded", "failed", "cancelled")
# A sync of about a second and a half under test: every status of the path is seen.
DEFAULT_SCRIPT: tuple[tuple[str, float], ...] = (
    ("pending", 0.2),
    ("running", 0.5),
    ("incomplete", 0.3),
    ("running", 0.5),
)
MAX_PAGE = 100  # the reference's limit maximum


def fake_uuid(n: int, kind: int = 0) -> str:
    """A valid, readable UUID: ``0000000n-0000-4000-8000-00000000000k``."""
    return f"{n:08x}-0000-4{kind:03x}-8000-{n:012x}"


@dataclass
class FakeConnection:
    """A connection and the script its jobs follow."""

    connection_id: str
    name: str
    workspace_id: str
    script: tuple[tuple[str, float], ...] = DEFAULT_SCRIPT
    outcome: str = "succeeded"  # succeeded, failed, cancelled, or running: never ends
    rows: int = 1200
    bytes: int = 480_000
    status: str = "active"
    schedule_type: str = "manual"
    created_at: int = 1_717_200_000


@dataclass
class FakeJob:
    job_id: int
    connection: FakeConnection
    job_type: str
    created_at: float  # the fake's clock
    script: tuple[tuple[str, float], ...]
    outcome: str
    cancel_at: float | None = None
    cancelled_by: str | None = None

    @property
    def length(self) -> float:
        return sum(seconds for _, seconds in self.script)

    def status(self, now: float) -> str:
        elapsed = now - self.created_at
        if self.cancel_at is not None and now >= self.cancel_at:
            finished = self.outcome != "running" and self.cancel_at - self.created_at >= self.length
            if not finished:
                return "cancelled"
        for status, seconds in self.script:
            if elapsed < seconds:
                return status
            elapsed -= seconds
        return "running" if self.outcome == "running" else self.outcome

    def progress(self, now: float) -> float:
        """The share of the rows synced so far (all of them on success)."""
        if self.length <= 0:
            return 1.0
        return max(0.0, min(1.0, (now - self.created_at) / self.length))


@dataclass
class IssuedToken:
    value: str
    issued_at: float
    expires_at: float
    uses: int = 0


class FakeAirbyte(FakeHttpApi):
    """The fake API.

    :param expires_in: the life of the tokens it issues, in its clock's seconds (Airbyte's are
        minutes).
    :param server_auth: a self-managed server: HTTP Basic accepted, served under
        ``/api/public/v1``.
    :param clock: seconds (a benchmark's virtual clock); default real time scaled by ``speed``.
    :param max_page: the largest page it serves, whatever ``limit`` asks.
    :param cancel_delay: a cancellation takes effect this long after the DELETE.
    :param token_path: the token exchange's path (default ``{prefix}/applications/token``).
    :param auth: ``False``: authentication disabled, no credentials needed.
    """

    service = "Airbyte"

    def __init__(
        self,
        *,
        expires_in: int = 180,
        server_auth: bool = False,
        clock: Callable[[], float] | None = None,
        speed: float = 1.0,
        max_page: int = MAX_PAGE,
        cancel_delay: float = 0.0,
        token_path: str | None = None,
        auth: bool = True,
    ) -> None:
        super().__init__(clock=clock, speed=speed)
        self.token_path = token_path or f"{self.prefix_of(server_auth)}/applications/token"
        self.auth = auth
        self.expires_in = expires_in
        self.server_auth = server_auth
        self.max_page = max_page
        self.cancel_delay = cancel_delay
        self.reject_tokens = False  # every Bearer token refused (an application without access)
        self.connections: dict[str, FakeConnection] = {}
        self.jobs: dict[int, FakeJob] = {}
        self.tokens: list[IssuedToken] = []
        self.revocations: list[float] = []
        self.epoch = datetime.now(timezone.utc)
        self._job_ids = itertools.count(4001)
        self._connection_ids = itertools.count(1)

    # -- what tests arrange ---------------------------------------------------------------
    @staticmethod
    def prefix_of(server_auth: bool) -> str:
        """The API's path prefix: a self-managed server's, or Airbyte Cloud's."""
        return "/api/public/v1" if server_auth else "/v1"

    @property
    def prefix(self) -> str:
        return self.prefix_of(self.server_auth)

    @property
    def base_url(self) -> str:
        return self.url + self.prefix

    @property
    def env(self) -> dict[str, str]:
        return {
            **super().env,
            "AIRBYTE_BASE_URL": self.base_url,
            "AIRBYTE_CLIENT_ID": CLIENT_ID,
            "AIRBYTE_CLIENT_SECRET": CLIENT_SECRET,
            "NO_COLOR": "1",
        }

    def add_connection(
        self,
        name: str,
        *,
        connection_id: str | None = None,
        workspace_id: str | None = None,
        **script: Any,
    ) -> FakeConnection:
        """A connection (its id made up unless given) and how its jobs behave: ``script``,
        ``outcome``, ``rows``, ``bytes``... (the fields of :class:`FakeConnection`)."""
        n = next(self._connection_ids)
        connection = FakeConnection(
            connection_id=connection_id or fake_uuid(n),
            name=name,
            workspace_id=workspace_id or fake_uuid(1, kind=1),
            **script,
        )
        with self.lock:
            self.connections[connection.connection_id] = connection
        return connection

    def start_job(self, connection: FakeConnection, job_type: str = "sync") -> FakeJob:
        """A job started by someone else (the schedule, the UI)."""
        with self.lock:
            return self._create_job(connection, job_type)

    def jobs_of(self, connection: FakeConnection) -> list[FakeJob]:
        with self.lock:
            return [j for j in self.jobs.values() if j.connection is connection]

    def status_of(self, job: FakeJob) -> str:
        return job.status(self.clock())

    def revoke_tokens(self, after: float = 0.0) -> None:
        """A key rotation ``after`` seconds from now: every token issued before it is refused
        (401) from then on; tokens issued later are not affected."""
        with self.lock:
            self.revocations.append(self.clock() + after)

    @property
    def exchanges(self) -> int:
        """Tokens issued: one per exchange."""
        return len(self.tokens)

    # -- the API --------------------------------------------------------------------------
    def error_document(self, status: int, message: str) -> Any:
        title = {
            400: "bad-request",
            401: "unauthorized",
            403: "forbidden",
            404: "resource-not-found",
            409: "try-again-later",
            422: "unprocessable-entity",
            429: "rate-limit-exceeded",
        }.get(status, "internal-server-error" if status >= 500 else "error")
        return {"type": f"{DOCS}#{title}", "title": title, "status": status, "detail": message}

    def authorize(self, request: Seen) -> bool:
        if not self.auth:
            return True
        if request.method == "POST" and request.path.endswith("/applications/token"):
            # The credentials are in the body; at an address without the exchange, the route's
            # 404 (an unknown route is not found, whatever it carries).
            return True
        if self.server_auth and request.basic == (CLIENT_ID, CLIENT_SECRET):
            return True
        token = request.bearer
        if token is None or self.reject_tokens:
            return False
        now = self.clock()
        with self.lock:
            issued = next((t for t in self.tokens if t.value == token), None)
            revoked = any(issued.issued_at < at <= now for at in self.revocations) if issued else 0
            if issued is None or revoked or now >= issued.expires_at:
                return False
            issued.uses += 1
        return True

    def answer(self, request: Seen) -> tuple[int, Any, dict[str, str]] | None:
        outcome = super().answer(request)
        if outcome is not None and outcome[0] == 401 and request.bearer:
            # Echo the refused token, as a careless server would.
            status, document, headers = outcome
            document = self.error_document(401, f"invalid or expired token '{request.bearer}'")
            return status, document, headers
        return outcome

    def route(self, request: Seen) -> tuple[int, Any]:
        path = request.path
        method = request.method
        if path == self.token_path and method == "POST":
            return self._token(request)
        if not path.startswith(self.prefix + "/"):
            return 404, self.error_document(404, f"no route {path}")
        parts = path[len(self.prefix) + 1 :].split("/")
        if parts == ["jobs"] and method == "POST":
            return self._create(request)
        if parts == ["jobs"] and method == "GET":
            return self._list_jobs(request)
        if len(parts) == 2 and parts[0] == "jobs" and method in ("GET", "DELETE"):
            job = self.jobs.get(int(parts[1])) if parts[1].isdigit() else None
            if job is None:
                return 404, self.error_document(404, f"job {parts[1]} not found")
            if method == "DELETE":
                return self._cancel(job)
            return 200, self._job_document(job)
        if parts == ["connections"] and method == "GET":
            return self._list_connections(request)
        if len(parts) == 2 and parts[0] == "connections" and method == "GET":
            connection = self.connections.get(parts[1])
            if connection is None:
                return 404, self.error_document(404, f"connection {parts[1]} not found")
            return 200, self._connection_document(connection)
        return 404, self.error_document(404, f"no route {method} {path}")

    def _token(self, request: Seen) -> tuple[int, Any]:
        body = request.body if isinstance(request.body, dict) else {}
        if (body.get("client_id"), body.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return 401, self.error_document(401, "invalid client credentials")
        now = self.clock()
        token = IssuedToken(f"abt.{secrets.token_urlsafe(24)}", now, now + self.expires_in)
        self.tokens.append(token)
        return 200, {
            "access_token": token.value,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }

    def _create_job(self, connection: FakeConnection, job_type: str) -> FakeJob:
        job = FakeJob(
            next(self._job_ids),
            connection,
            job_type,
            self.clock(),
            connection.script,
            connection.outcome,
        )
        self.jobs[job.job_id] = job
        return job

    def _create(self, request: Seen) -> tuple[int, Any]:
        body = request.body if isinstance(request.body, dict) else {}
        connection = self.connections.get(str(body.get("connectionId")))
        if connection is None:
            return 404, self.error_document(404, f"connection {body.get('connectionId')} not found")
        job_type = body.get("jobType")
        if job_type not in ("sync", "reset"):
            return 422, self.error_document(422, f"jobType {job_type!r} is not sync or reset")
        now = self.clock()
        if any(j.status(now) in ACTIVE for j in self.jobs.values() if j.connection is connection):
            return 409, self.error_document(
                409, f"A sync is already running for: {connection.connection_id}"
            )
        return 200, self._job_document(self._create_job(connection, job_type))

    def _cancel(self, job: FakeJob) -> tuple[int, Any]:
        now = self.clock()
        status = job.status(now)
        if status not in ACTIVE:
            return 409, self.error_document(409, f"job {job.job_id} is not running ({status})")
        if job.cancel_at is None:
            job.cancel_at = now + self.cancel_delay
        return 200, self._job_document(job)

    def _list_jobs(self, request: Seen) -> tuple[int, Any]:
        query = request.query
        now = self.clock()
        status = query.get("status")
        if status is not None and status not in ACTIVE + TERMINAL:
            return 400, self.error_document(400, f"unknown status {status}")
        since = query.get("createdAtStart")
        try:
            created_from = None if since is None else _parse_wall(since)
        except ValueError:
            return 400, self.error_document(400, f"createdAtStart {since!r} is not a date-time")
        jobs = [
            j
            for j in self.jobs.values()
            if query.get("connectionId") in (None, j.connection.connection_id)
            and query.get("jobType") in (None, j.job_type)
            and status in (None, j.status(now))
            and (
                created_from is None or self.epoch + timedelta(seconds=j.created_at) >= created_from
            )
        ]
        order = query.get("orderBy", "createdAt|ASC")
        jobs.sort(key=lambda j: j.job_id, reverse=order.endswith("|DESC"))
        return 200, self._page(request, [self._job_document(j) for j in jobs], "jobs")

    def _list_connections(self, request: Seen) -> tuple[int, Any]:
        workspace = request.query.get("workspaceIds")
        rows = [
            self._connection_document(c)
            for c in self.connections.values()
            if workspace in (None, c.workspace_id)
        ]
        return 200, self._page(request, rows, "connections")

    def _page(self, request: Seen, rows: list[Any], resource: str) -> dict[str, Any]:
        limit = min(int(request.query.get("limit", 20)), self.max_page)
        offset = int(request.query.get("offset", 0))
        page: dict[str, Any] = {"data": rows[offset : offset + limit]}
        # As Airbyte: absolute links, on the server's own idea of its address.
        link = f"https://airbyte-server.internal{self.prefix}/{resource}?limit={limit}&offset="
        if offset + limit < len(rows):
            page["next"] = f"{link}{offset + limit}"
        if offset > 0:
            page["previous"] = f"{link}{max(0, offset - limit)}"
        return page

    # -- documents ------------------------------------------------------------------------
    def http_date(self) -> str:
        # The fake's clock, as its job times: a look-up by creation time compares like with like.
        return formatdate((self.epoch + timedelta(seconds=self.clock())).timestamp(), usegmt=True)

    def _wall(self, at: float) -> str:
        return (self.epoch + timedelta(seconds=at)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _job_document(self, job: FakeJob) -> dict[str, Any]:
        now = self.clock()
        status = job.status(now)
        share = 1.0 if status == "succeeded" else job.progress(now) * 0.9
        seconds = int(now - job.created_at)
        document: dict[str, Any] = {
            "jobId": job.job_id,
            "status": status,
            "jobType": job.job_type,
            "startTime": self._wall(job.created_at),
            "connectionId": job.connection.connection_id,
            "lastUpdatedAt": self._wall(now),
            "duration": f"PT{seconds // 60}M{seconds % 60}S" if seconds >= 60 else f"PT{seconds}S",
        }
        if status != "pending":
            document["rowsSynced"] = int(job.connection.rows * share)
            document["bytesSynced"] = int(job.connection.bytes * share)
        return document

    def _connection_document(self, connection: FakeConnection) -> dict[str, Any]:
        return {
            "connectionId": connection.connection_id,
            "name": connection.name,
            "sourceId": fake_uuid(100 + int(connection.connection_id[:8], 16), kind=2),
            "destinationId": fake_uuid(1, kind=3),
            "workspaceId": connection.workspace_id,
            "status": connection.status,
            "schedule": {"scheduleType": connection.schedule_type},
            "createdAt": connection.created_at,
            "configurations": {"streams": []},
            "tags": [],
        }


def _parse_wall(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def script_of(minutes: float, *, incomplete: bool = True) -> tuple[tuple[str, float], ...]:
    """A script lasting ``minutes``: a pending tenth, then running, with a failed attempt (a
    tenth ``incomplete``) halfway when ``incomplete``."""
    total = minutes * 60.0
    if not incomplete:
        return (("pending", total * 0.1), ("running", total * 0.9))
    return (
        ("pending", total * 0.1),
        ("running", total * 0.4),
        ("incomplete", total * 0.1),
        ("running", total * 0.4),
    )


@pytest.fixture
def airbyte_fakes() -> Iterator[Callable[..., FakeAirbyte]]:
    """``airbyte_fakes(**options)`` starts a :class:`FakeAirbyte`; all are stopped after the
    test."""
    started: list[FakeAirbyte] = []

    def start(**options: Any) -> FakeAirbyte:
        fake = FakeAirbyte(**options)
        fake.start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def airbyte_api(airbyte_fakes: Callable[..., FakeAirbyte]) -> FakeAirbyte:
    """A fake Airbyte Cloud API on 127.0.0.1 for one test (its tokens live 180 s)."""
    return airbyte_fakes()
