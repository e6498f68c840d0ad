"""A loopback HTTP proxy that injects faults in front of an API and counts what passes.

Point a client's endpoint at ``proxy.url``; requests are forwarded to ``upstream`` unless a rule
answers first. A rule is a callable taking a :class:`ProxyRequest` and returning ``None`` (no
opinion), a :class:`Reply` (answer instead of the upstream), :data:`RESET` (drop the connection
without answering), a :class:`Delay` (forward after sleeping, or without forwarding when the
delay is the point), or :class:`Lost` (forward, then throw the answer away: the call reached the
service and the client never learns it did). Every request is recorded, answered or not.
"""

from __future__ import annotations

import http.client
import random
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ProxyRequest:
    """One request as the proxy saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)
    fault: str | None = None  # what the proxy did instead of forwarding, if anything
    forwarded: bool = False  # the upstream received it (answered or not)
    client: str = ""  # the client's end of the connection, ``host:port``

    @property
    def target(self) -> str | None:
        """The ``X-Amz-Target`` header of JSON-protocol AWS services."""
        return self.headers.get("x-amz-target")

    @property
    def action(self) -> str:
        """A short name for the call: the X-Amz-Target operation, else ``METHOD path``."""
        if self.target:
            return self.target.split(".")[-1]
        return f"{self.method} {urllib.parse.urlsplit(self.path).path}"

    def matches(self, action: str) -> bool:
        """Whether ``action`` names this request: the X-Amz-Target operation exactly
        (``StartExecution`` is not ``StartSyncExecution``), else ``METHOD path`` or any part of
        it (``/invocations``, ``POST /v1/jobs``). Rules and counts both match with this."""
        if self.target:
            return action == self.action
        return action in self.action

    @property
    def service(self) -> str | None:
        """The service named in the SigV4 credential scope (``lambda``, ``states``...)."""
        auth = self.headers.get("authorization", "")
        marker = "Credential="
        if marker not in auth:
            return None
        scope = auth.split(marker, 1)[1].split(",", 1)[0].split("/")
        return scope[3] if len(scope) > 3 else None


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Delay:
    seconds: float
    forward: bool = True


class _Reset:
    def __repr__(self) -> str:
        return "RESET"


RESET = _Reset()


@dataclass
class Lost:
    """Forward the request, throw the upstream's answer away, then answer ``then`` instead:
    :data:`RESET` (the connection drops), a :class:`Reply` (a 5xx, say) or a
    ``Delay(seconds, forward=False)`` (no answer until the client gives up)."""

    then: Reply | Delay | _Reset = RESET


Outcome = Reply | Delay | _Reset | Lost | None
Rule = Callable[[ProxyRequest], Outcome]
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


class FaultProxy:
    """The proxy server. ``start()`` binds 127.0.0.1 on a free port."""

    def __init__(self, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fault proxy only forwards to loopback addresses")
        self.upstream_host = parsed.hostname or "127.0.0.1"
        self.upstream_port = parsed.port or 80
        self.rules: list[Rule] = []
        self.requests: list[ProxyRequest] = []
        self.latency_s = 0.0
        self.in_flight = 0
        self.in_flight_peak = 0  # the most requests the proxy was handling at once
        self._lock = threading.Lock()
        self._server: _QuietServer | None = None
        self._thread: threading.Thread | None = None

    # -- control ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "start() the proxy first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll interval makes stop() quick: shutdown() waits for the next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def add_rule(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Forget rules and recorded requests."""
        with self._lock:
            self.rules.clear()
            self.requests.clear()
            self.latency_s = 0.0
            self.in_flight_peak = self.in_flight

    def count(self, action: str | None = None, *, forwarded_only: bool = False) -> int:
        """Requests seen, optionally only those ``action`` names (as :meth:`ProxyRequest.matches`
        and :func:`when` match) and only those that reached the upstream.

        Zero is a real answer ("nothing was stopped"), so a misspelt action also counts zero:
        assert against :meth:`actions` when in doubt, or count a call you know was made first.
        """
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (action is None or r.matches(action)) and (r.forwarded or not forwarded_only)
            )

    def connections(self) -> int:
        """How many client connections the recorded requests came on (a kept-alive connection
        carries many requests)."""
        with self._lock:
            return len({r.client for r in self.requests})

    def actions(self) -> dict[str, int]:
        """How many requests of each action the proxy saw, in the order first seen."""
        seen: dict[str, int] = {}
        with self._lock:
            for r in self.requests:
                seen[r.action] = seen.get(r.action, 0) + 1
        return seen

    # -- per request --------------------------------------------------------------------
    def _decide(self, request: ProxyRequest) -> Outcome:
        with self._lock:
            self.requests.append(request)
            rules = list(self.rules)
        for rule in rules:
            outcome = rule(request)
            if outcome is not None:
                return outcome
        return None


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up (a timed-out read, a process that exits) are normal here."""

    # A fan-out connects a hundred clients at once; socketserver's backlog of 5 would make
    # most of them retry their connect a second later, which no AWS endpoint does.
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the body would wait for the
    # client's delayed ACK of the headers, 40 ms on Linux, on every answer a client reads.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        owner = self.owner
        with owner._lock:
            owner.in_flight += 1
            owner.in_flight_peak = max(owner.in_flight_peak, owner.in_flight)
        try:
            self._answer()
        finally:
            with owner._lock:
                owner.in_flight -= 1

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        host, port = self.client_address[:2]
        request = ProxyRequest(self.command, self.path, headers, body, client=f"{host}:{port}")
        owner = self.owner
        outcome = owner._decide(request)
        if owner.latency_s:
            time.sleep(owner.latency_s)
        lost = ""
        if isinstance(outcome, Lost):
            self._forward(request, answer=False)
            lost, outcome = "answer lost, then ", outcome.then
        if isinstance(outcome, Delay):
            time.sleep(outcome.seconds)
            if not outcome.forward or lost:  # a lost request is never sent twice
                request.fault = f"{lost}delay"
                return self._reset()
            outcome = None
        if outcome is RESET:
            request.fault = f"{lost}reset"
            return self._reset()
        if isinstance(outcome, Reply):
            request.fault = f"{lost}http {outcome.status}"
            return self._send(outcome.status, outcome.headers, outcome.body)
        self._forward(request)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

    def _forward(self, request: ProxyRequest, answer: bool = True) -> None:
        """Send the request upstream; pass the answer on, or (``answer=False``) drop it."""
        conn = http.client.HTTPConnection(
            self.owner.upstream_host, self.owner.upstream_port, timeout=120
        )
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            request.forwarded = True
            conn.request(request.method, request.path, body=request.body or None, headers=headers)
            response = conn.getresponse()
            data = response.read()
            out = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP}
            out.pop("Content-Length", None)
            if answer:
                self._send(response.status, out, data)
        except OSError:
            if answer:
                self._reset()
        finally:
            conn.close()

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        try:
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            pass

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send RST: the client sees "connection reset by peer".
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True


def when(
    outcome: Outcome | Callable[[ProxyRequest], Outcome],
    *,
    action: str | None = None,
    service: str | None = None,
    times: int | None = None,
    probability: float = 1.0,
    seed: int = 1,
) -> Callable[[ProxyRequest], Outcome]:
    """A proxy rule: answer ``outcome`` for matching requests.

    :param action: match the X-Amz-Target operation exactly (``StartExecution``), else any part
        of ``METHOD path`` (``/invocations``): :meth:`ProxyRequest.matches`.
    :param service: match the SigV4 scope service of AWS requests (``lambda``, ``states``).
    :param times: stop after this many faults.
    :param probability: inject into this share of matching requests (seeded: repeatable).
    """
    rng = random.Random(seed)
    lock = threading.Lock()
    state = {"left": times}

    def rule(request: ProxyRequest) -> Outcome:
        if action is not None and not request.matches(action):
            return None
        if service is not None and request.service != service:
            return None
        with lock:
            if state["left"] is not None and state["left"] <= 0:
                return None
            if probability < 1.0 and rng.random() >= probability:
                return None
            if state["left"] is not None:
                state["left"] -= 1
        return outcome(request) if callable(outcome) else outcome

    return rule
