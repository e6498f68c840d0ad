"""A small local fake of the job API: a standard-library HTTP server on 127.0.0.1, free port.

Each connector carries a script saying how its syncs behave::

    api = FakeJobApi().start()
    api.add_connector("orders", polls=2)                     # running twice, then succeeded
    api.add_connector("daily", seconds=0.5)                  # running for 0.5 s, then succeeded
    api.add_connector("billing", outcome="failed")           # fails at the first status check
    api.add_connector("forever", outcome="running")          # never ends (until cancelled)
    api.add_connector("busy", sync_faults=[429, 429])        # two throttled starts, then starts
    api.add_connector("flaky", lose_responses=1)             # starts, but the answer is lost

Endpoints: ``POST /v1/connectors/{id}/sync`` (honours ``Idempotency-Key``), ``GET
/v1/jobs/{job_id}``, ``POST /v1/jobs/{job_id}/cancel``, ``GET /v1/connectors?cursor=``
(``page_size`` per page). Every request needs ``Authorization: Bearer <api_key>``.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Connector:
    id: str
    name: str
    outcome: str = "succeeded"  # the state a sync ends in; "running" never ends
    polls: int = 0  # status checks answered "running" before the outcome
    seconds: float | None = None  # or: the time a sync runs, whether or not anyone looks
    error_message: str = "source returned HTTP 500 on table 'orders'"
    sync_faults: list[int] = field(default_factory=list)  # statuses for the next starts
    poll_faults: list[int] = field(default_factory=list)  # statuses for the next status checks
    lose_responses: int = 0  # starts whose answer is dropped after the job is created
    paused: bool = False
    last_sync_state: str | None = None


@dataclass
class Job:
    id: str
    connector: Connector
    state: str = "pending"
    polls: int = 0
    cancel_reason: str | None = None
    started: float = field(default_factory=time.monotonic)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class FakeJobApi:
    api_key = "test-key-0f3c9a7e"

    def __init__(self, page_size: int = 2) -> None:
        self.page_size = page_size
        self.connectors: dict[str, Connector] = {}
        self.jobs: dict[str, Job] = {}
        self.requests: list[Request] = []
        self._by_key: dict[str, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- control ------------------------------------------------------------------------
    def start(self) -> FakeJobApi:
        api = self

        class Handler(_Handler):
            owner = api

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def env(self) -> dict[str, str]:
        """Environment pointing the commands at this fake."""
        return {"JOBAPI_BASE_URL": self.url, "JOBAPI_API_KEY": self.api_key, "NO_COLOR": "1"}

    def add_connector(self, id: str, **script: Any) -> Connector:
        connector = Connector(id=id, name=script.pop("name", id.title()), **script)
        self.connectors[id] = connector
        return connector

    def jobs_of(self, connector_id: str) -> list[Job]:
        return [job for job in self.jobs.values() if job.connector.id == connector_id]

    def count(self, method: str, path_pattern: str) -> int:
        """Requests received with ``method`` and a path matching the regular expression."""
        return sum(
            1 for r in self.requests if r.method == method and re.fullmatch(path_pattern, r.path)
        )

    # -- the API ------------------------------------------------------------------------
    def handle(self, request: Request) -> tuple[int, Any] | None:
        """The answer (status, document), or None to drop the connection unanswered."""
        with self._lock:
            self.requests.append(request)
            if request.headers.get("authorization") != f"Bearer {self.api_key}":
                # Echo the key as some real APIs do: the client must keep it out of its output.
                given = request.headers.get("authorization", "").removeprefix("Bearer ")
                return _error(401, "unauthorized", f"invalid API key '{given}'")
            for method, pattern, route in self._routes():
                match = re.fullmatch(pattern, request.path)
                if match and request.method == method:
                    return route(request, *match.groups())
            return _error(404, "not_found", f"no route for {request.method} {request.path}")

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", r"/v1/connectors/([^/]+)/sync", self._sync),
            ("GET", r"/v1/jobs/([^/]+)", self._job),
            ("POST", r"/v1/jobs/([^/]+)/cancel", self._cancel),
            ("GET", r"/v1/connectors(?:\?cursor=(\d+))?", self._list),
        ]

    def _sync(self, request: Request, connector_id: str) -> tuple[int, Any] | None:
        connector = self.connectors.get(connector_id)
        if connector is None:
            return _error(404, "not_found", f"connector '{connector_id}' not found")
        if connector.sync_faults:
            return _fault(connector.sync_faults.pop(0))
        if connector.paused:
            return _error(409, "connector_paused", f"connector '{connector_id}' is paused")
        key = request.headers.get("idempotency-key")
        if key and key in self._by_key:
            return 200, self._document(self._by_key[key])
        job = Job(id=f"job-{next(self._ids):04d}", connector=connector)
        self.jobs[job.id] = job
        if key:
            self._by_key[key] = job
        if connector.lose_responses:
            connector.lose_responses -= 1
            return None
        return 201, self._document(job)

    def _job(self, request: Request, job_id: str) -> tuple[int, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            return _error(404, "not_found", f"job '{job_id}' not found")
        connector = job.connector
        if connector.poll_faults:
            return _fault(connector.poll_faults.pop(0))
        if job.state in ("pending", "running"):
            job.polls += 1
            self._advance(job)
        return 200, self._document(job)

    def _advance(self, job: Job) -> None:
        """A running job's state now: ended after its polls, or its seconds when it has some."""
        connector = job.connector
        if connector.seconds is None:
            done = job.polls > connector.polls
        else:
            done = time.monotonic() - job.started >= connector.seconds
        if connector.outcome != "running" and done:
            job.state = connector.outcome
        elif connector.seconds is None or job.polls:
            job.state = "running"
        connector.last_sync_state = job.state

    def _cancel(self, request: Request, job_id: str) -> tuple[int, Any]:
        job = self.jobs.get(job_id)
        if job is None:
            return _error(404, "not_found", f"job '{job_id}' not found")
        if job.state in ("pending", "running") and job.connector.seconds is not None:
            self._advance(job)  # a sync that ran its time has ended, looked at or not
        if job.state not in ("pending", "running"):
            return _error(409, "job_finished", f"job '{job_id}' already {job.state}")
        job.state = "cancelled"
        job.cancel_reason = (request.body or {}).get("reason")
        return 200, self._document(job)

    def _list(self, request: Request, cursor: str | None) -> tuple[int, Any]:
        start = int(cursor or 0)
        connectors = list(self.connectors.values())
        page = connectors[start : start + self.page_size]
        more = start + self.page_size < len(connectors)
        items = [
            {"id": c.id, "name": c.name, "paused": c.paused, "last_sync_state": c.last_sync_state}
            for c in page
        ]
        return 200, {"items": items, "next_cursor": str(start + self.page_size) if more else None}

    def _document(self, job: Job) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "job_id": job.id,
            "connector_id": job.connector.id,
            "state": job.state,
            "url": f"{self.url}/ui/jobs/{job.id}",
        }
        if job.state == "succeeded":
            doc["result"] = {"rows_synced": 1200}
        if job.state == "failed":
            doc["error"] = {"code": "sync_failed", "message": job.connector.error_message}
        return doc


def _error(status: int, code: str, message: str) -> tuple[int, Any]:
    return status, {"error": {"code": code, "message": message}}


def _fault(status: int) -> tuple[int, Any]:
    if status == 429:
        return _error(429, "rate_limited", "too many requests, retry later")
    return _error(status, "internal", "the job API had a problem")


class _Handler(BaseHTTPRequestHandler):
    owner: FakeJobApi

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        request = Request(
            self.command,
            self.path,
            {k.lower(): v for k, v in self.headers.items()},
            json.loads(raw) if raw else None,
        )
        answer = self.owner.handle(request)
        if answer is None:
            # SO_LINGER 0: close() sends RST, the client sees the connection reset, no answer.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        status, document = answer
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if status == 429:
            self.send_header("Retry-After", "1")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _serve
