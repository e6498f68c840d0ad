"""The base of stateful fake HTTP APIs, for tests and demos: standard library only.

A subclass implements :meth:`FakeHttpApi.route` (one request in, ``(status, document)`` out)
and :meth:`FakeHttpApi.error_document` (its API's error shape); the base gives it:

* a threaded HTTP/1.1 server on 127.0.0.1, on a chosen ``port`` or a free one,
  :meth:`~FakeHttpApi.start` / :meth:`~FakeHttpApi.stop` (or ``with``);
* a request log: every request as the fake saw it (method, path, query, JSON body, the
  credentials it carried, the fake's clock), and :meth:`~FakeHttpApi.count`;
* credentials: HTTP Basic ``(user, password)``, or an exact ``Authorization`` value
  (``"Token abc"``), checked on every request (401 otherwise), or the subclass's own
  :meth:`~FakeHttpApi.authorize`;
* fault injection: :meth:`~FakeHttpApi.fail` (the next requests matching a method and path get
  429 with ``Retry-After``, a 5xx, a 401...), :meth:`~FakeHttpApi.throttle_for` (a 429 storm:
  every request for a while, ``Retry-After`` saying how long is left), and
  :meth:`~FakeHttpApi.lose_answers` (the request is carried out, then the connection drops or
  the answer is a 5xx: the client cannot know the request took effect);
* a clock: ``clock()`` gives seconds; pass one (a benchmark's virtual clock) or let the fake use
  real time, scaled by ``speed``, so that a "10-minute" sync can take a second in a test.
"""

from __future__ import annotations

import base64
import json
import math
import re
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

__all__ = ["FakeHttpApi", "Fault", "Seen", "Storm"]


@dataclass
class Seen:
    """One request as the fake saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    at: float  # the fake's clock
    answered: int | None = None  # the status sent, None when the connection was dropped

    @property
    def basic(self) -> tuple[str, str] | None:
        """The HTTP Basic ``(user, password)`` the request carried, if any."""
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user, password

    @property
    def bearer(self) -> str | None:
        """The Bearer token the request carried, if any."""
        return self.token("Bearer")

    def token(self, scheme: str, header: str = "authorization") -> str | None:
        """The token after ``scheme`` in ``header`` (``token("Token")`` for
        ``Authorization: Token abc``; ``scheme=""``: the whole value), if the request had one."""
        value = self.headers.get(header.lower())
        if value is None or not scheme:
            return value
        given, _, token = value.partition(" ")
        return token if given.lower() == scheme.lower() else None


@dataclass
class Fault:
    """The next ``times`` requests matching ``method`` and ``path`` (a regular expression that
    must match the whole path) get ``status``; ``lose`` carries them out first, then drops the
    connection (``status`` 0) or answers ``status``."""

    status: int = 0
    times: int = 1
    method: str | None = None
    path: str | None = None
    retry_after: str | None = None
    lose: bool = False
    message: str | None = None

    def matches(self, request: Seen) -> bool:
        if self.method is not None and request.method != self.method.upper():
            return False
        return self.path is None or re.fullmatch(self.path, request.path) is not None


@dataclass
class Storm:
    """Every request gets 429 until ``until`` on the fake's clock."""

    until: float
    retry_after: str | None = None  # fixed value; default: the seconds left, rounded up


Answer = tuple[int, Any]
F = TypeVar("F", bound="FakeHttpApi")


class FakeHttpApi:
    """Base of a fake JSON HTTP API. Subclasses implement :meth:`route`.

    :param credentials: HTTP Basic ``(user, password)``, or the exact ``Authorization`` header
        value every request must carry; ``None`` accepts any request.
    :param clock: seconds on the fake's clock (a benchmark's virtual clock); default real time
        times ``speed``.
    :param port: the port to listen on, on 127.0.0.1; ``0`` takes a free one.
    """

    service = "API"

    def __init__(
        self,
        *,
        credentials: tuple[str, str] | str | None = None,
        clock: Callable[[], float] | None = None,
        speed: float = 1.0,
        port: int = 0,
    ) -> None:
        self.credentials = credentials
        self.port = port
        self.requests: list[Seen] = []
        self.faults: list[Fault] = []
        self.storms: list[Storm] = []
        self.lock = threading.RLock()
        if clock is None:
            started = time.monotonic()

            def clock() -> float:
                return (time.monotonic() - started) * speed

        self.clock: Callable[[], float] = clock
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, once started."""
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self: F) -> F:
        """Listen on 127.0.0.1 at ``port`` (a free one when ``0``) and serve from a thread;
        :attr:`port` is then the port taken. ``OSError`` when the port is in use."""
        handler = type("Handler", (_Handler,), {"fake": self})
        server = _Server(("127.0.0.1", self.port), handler)
        self.port = server.server_address[1]
        server.daemon_threads = True
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self._server = server
        return self

    def stop(self) -> None:
        """Stop serving and free the port (answers in flight are cut)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def __enter__(self: F) -> F:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests arrange ---------------------------------------------------------------
    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        retry_after: float | str | None = None,
        message: str | None = None,
    ) -> Fault:
        """Answer the next ``times`` matching requests with ``status`` (and ``Retry-After``)."""
        fault = Fault(
            status,
            times,
            method,
            path,
            None if retry_after is None else str(retry_after),
            message=message,
        )
        with self.lock:
            self.faults.append(fault)
        return fault

    def lose_answers(
        self,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        status: int = 0,
    ) -> Fault:
        """The lost answer: carry out the next ``times`` matching requests (their effect
        happens, as :meth:`route` decides), then drop the connection unanswered, or with
        ``status`` answer that error (a gateway's 502 after the service acted) instead."""
        fault = Fault(status, times, method, path, lose=True)
        with self.lock:
            self.faults.append(fault)
        return fault

    def throttle_for(self, seconds: float, *, retry_after: float | str | None = None) -> Storm:
        """A 429 storm: every request for ``seconds`` of the fake's clock is throttled."""
        storm = Storm(self.clock() + seconds, None if retry_after is None else str(retry_after))
        with self.lock:
            self.storms.append(storm)
        return storm

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Requests seen (answered or not) matching ``method`` and the ``path`` regex."""
        probe = Fault(method=method, path=path)
        with self.lock:
            return sum(1 for r in self.requests if probe.matches(r))

    def seen(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        """The request log: requests seen matching ``method`` and the ``path`` regex, in order."""
        probe = Fault(method=method, path=path)
        with self.lock:
            return [r for r in self.requests if probe.matches(r)]

    @property
    def env(self) -> dict[str, str]:
        """Environment variables pointing a CLI at this fake (subclasses add theirs)."""
        # A proxy set in the environment must not carry loopback traffic elsewhere.
        return {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}

    # -- what subclasses implement --------------------------------------------------------
    def route(self, request: Seen) -> Answer:
        """Answer one authorised request that no fault took: ``(status, JSON document)``
        (``bytes`` are sent as an HTML body)."""
        raise NotImplementedError

    def error_document(self, status: int, message: str) -> Any:
        """The API's error shape for ``status`` (override with the real API's)."""
        return {"code": str(status), "message": message}

    def unauthorized_message(self, request: Seen) -> str:
        """The message of a 401 (a subclass may echo what it was sent, as some APIs do)."""
        return "Missing or invalid API credentials"

    def http_date(self) -> str:
        """The ``Date`` header of every answer: real time (a subclass may use its clock)."""
        return formatdate(usegmt=True)

    def authorize(self, request: Seen) -> bool:
        """True when the request carries valid ``credentials`` (Basic, or the exact
        ``Authorization`` value)."""
        if isinstance(self.credentials, str):
            return request.headers.get("authorization") == self.credentials
        return self.credentials is None or request.basic == self.credentials

    # -- per request ----------------------------------------------------------------------
    def answer(self, request: Seen) -> tuple[int, Any, dict[str, str]] | None:
        """What to send: ``(status, document, headers)``, or ``None`` to drop the connection."""
        with self.lock:
            self.requests.append(request)
            now = self.clock()
            storm = next((s for s in self.storms if now < s.until), None)
            fault = next((f for f in self.faults if f.times > 0 and f.matches(request)), None)
            if storm is None and fault is not None:
                fault.times -= 1
        if storm is not None:
            wait = storm.retry_after or str(max(1, math.ceil(storm.until - now)))
            return self._error(429, "Too many requests", {"Retry-After": wait})
        if fault is not None and not fault.lose:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return self._error(fault.status, fault.message or _REASONS.get(fault.status), headers)
        if not self.authorize(request):
            return self._error(401, self.unauthorized_message(request), {})
        with self.lock:
            status, document = self.route(request)
        if fault is not None:  # a lost answer: the work is done, the client never learns it
            return self._error(fault.status, fault.message, {}) if fault.status else None
        return status, document, {}

    def _error(
        self, status: int, message: str | None, headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        return status, self.error_document(status, message or f"HTTP {status}"), headers


_REASONS = {
    401: "Missing or invalid API credentials",
    403: "Access denied",
    404: "Not found",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (a read timeout, a process that exits) is normal here.
        pass


class _Handler(BaseHTTPRequestHandler):
    fake: FakeHttpApi
    protocol_version = "HTTP/1.1"  # keep-alive, as real APIs do
    # Headers and body go out in two writes: without TCP_NODELAY the second waits for the
    # client's delayed ACK, 40 ms per answer on a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        return self.fake.http_date()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        url = urllib.parse.urlsplit(self.path)
        request = Seen(
            method=self.command,
            path=url.path,
            query=dict(urllib.parse.parse_qsl(url.query)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            at=self.fake.clock(),
        )
        outcome = self.fake.answer(request)
        if outcome is None:
            # SO_LINGER 0: closing sends a reset, so the client sees the connection drop.
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            self.close_connection = True
            return
        status, document, headers = outcome
        request.answered = status
        # Bytes are sent as they are: an HTML page from a proxy in front of the API, say.
        if isinstance(document, bytes):
            data, content_type = document, "text/html"
        else:
            data = b"" if document is None else json.dumps(document).encode()
            content_type = "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
