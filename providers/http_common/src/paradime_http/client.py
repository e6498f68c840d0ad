"""One HTTP client setup for every HTTP-API provider, built once per command run.

:class:`HttpApi` wraps one :class:`httpx.Client`, shared by core's trigger and poll threads
(httpx's client and its connection pool are thread-safe). Each :meth:`HttpApi.request` is one
HTTP request with no retry of its own: core retries what :mod:`paradime_http.errors`
marks retryable, with backoff, honouring ``Retry-After``, within the deadline.

Which calls may be repeated after a lost answer (a 5xx, a connection dropped after the request
left): those whose method is in :data:`IDEMPOTENT_METHODS`, and any call made with
``idempotent=True`` or an ``idempotency_key`` (the API recognises a repeated key and answers
with what the first call did, so repeating cannot start a second run). A POST without either is
never repeated once it may have reached the API: it ends ``ERROR``, saying so.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

import paradime
from paradime.api import RunContext
from paradime_http.errors import (
    ApiError,
    ErrorWords,
    api_words,
    error_for_exception,
    error_for_response,
    foreign_answer,
    read_document,
    server_time,
)
from paradime_http.tokens import TokenAuth

__all__ = [
    "CONNECT_TIMEOUT_S",
    "IDEMPOTENT_METHODS",
    "READ_TIMEOUT_S",
    "Answer",
    "HttpApi",
    "basic_auth_secrets",
    "user_agent",
]

# A connection that takes longer than this to open will not open: fail fast, retry (nothing
# was sent). A read of a status or a start answers in well under a second normally; 30 s is
# the patience for a slow API without hanging a run on a dead connection.
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 30.0
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class Answer:
    """A successful answer: its status, JSON document (``None`` if empty), headers, and the
    server's clock from its ``Date`` header."""

    status: int
    document: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    server_time: datetime | None = None


def basic_auth_secrets(user: str, password: str) -> list[str]:
    """Every spelling of HTTP Basic credentials that could reach a log line: the password and
    the encoded ``Authorization`` header value. The user name is not a secret (Airbyte's
    reference one is ``airbyte``, a word of the command's own name): an option that holds a
    secret user (an API key) declares itself secret."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return [password, token]


def user_agent(product: str) -> str:
    """``paradime/7.0.0 <product> httpx/0.28.1``: the API's operators can tell who calls."""
    return f"paradime/{paradime.__version__} {product} httpx/{httpx.__version__}".strip()


class HttpApi:
    """A JSON HTTP API, as one provider's command run sees it.

    :param base_url: the API's base URL (paths are joined to it).
    :param service: the API's name in messages (``Fivetran``).
    :param product: the provider's ``name/version`` for the ``User-Agent``.
    :param credentials: where the credentials come from, named in 401/403 messages.
    :param context: the run's context: the pool is sized to its concurrency, secrets go to its
        redactor, requests are logged (at debug level, without headers) to its logger.
    :param auth: how requests prove who sends them: a :mod:`paradime_http.auth` strategy
        (its ``secrets`` are redacted), HTTP Basic ``(user, password)``, or any
        :class:`httpx.Auth`.
    :param secrets: more values to redact (tokens obtained later go through :meth:`add_secret`).
    :param headers: sent with every request.
    :param error_words: reads the API's own words from its error documents, for messages
        (:data:`~paradime_http.errors.ErrorWords`; default
        :func:`~paradime_http.errors.api_words`).
    :param idempotency_header: the header that carries :meth:`request`'s ``idempotency_key``.
    :param transport: an httpx transport, for tests of the client itself.
    """

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        product: str,
        credentials: str,
        context: RunContext,
        auth: tuple[str, str] | httpx.Auth | None = None,
        secrets: tuple[str, ...] = (),
        headers: Mapping[str, str] | None = None,
        error_words: ErrorWords = api_words,
        idempotency_header: str = "Idempotency-Key",
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.service = service
        self.credentials = credentials
        self.logger = context.logger
        self.error_words = error_words
        self.idempotency_header = idempotency_header
        self._add_secret: Callable[[str], None] = context.add_secret
        if isinstance(auth, tuple):
            secrets += tuple(basic_auth_secrets(*auth))
        secrets += tuple(getattr(auth, "secrets", ()))
        for secret in secrets:
            self.add_secret(secret)
        if isinstance(auth, TokenAuth) and auth.on_token is None:
            auth.on_token = self.add_secret
        # As many connections as core's threads may call at once (triggers, status checks).
        pool = max(2, context.pool_size)
        self.client = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            headers={
                "User-Agent": user_agent(product),
                "Accept": "application/json",
                **(headers or {}),
            },
            timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
            follow_redirects=False,
            transport=transport,
        )

    def add_secret(self, value: str) -> None:
        """Redact ``value`` from every output line (a token obtained during the run)."""
        if value:
            self._add_secret(value)

    def request(
        self,
        method: str,
        path: str,
        *,
        doing: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        idempotency_key: str | None = None,
        run_id: str | None = None,
    ) -> Answer:
        """Send one request; return the answer if it is a 2xx, else raise
        :class:`~paradime_http.errors.ApiError` (see :mod:`paradime_http.errors` for which).

        :param path: joined to the base URL; an absolute URL (a next-page link) is sent as is.
        :param doing: what failed if it fails, naming the resource
            (``could not read connector 'orders'``).
        :param params: the query; ``None`` values are left out.
        :param idempotent: whether repeating the call after a 5xx or a lost answer is safe.
            Defaults to the method's HTTP semantics (GET, PUT, DELETE yes; POST, PATCH no), or
            ``True`` with an ``idempotency_key``.
        :param idempotency_key: sent as the ``idempotency_header``: the API answers a repeated
            key with what the first request did, so the call may be repeated.
        :param run_id: the run the call concerns, carried by the error.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = idempotency_key is not None or method in IDEMPOTENT_METHODS
        safe = idempotent
        query = {k: v for k, v in (params or {}).items() if v is not None}
        sent_headers = dict(headers or {})
        if idempotency_key is not None:
            sent_headers[self.idempotency_header] = idempotency_key
        started = time.monotonic()
        try:
            response = self.client.request(
                method, path, params=query or None, json=json, headers=sent_headers or None
            )
        except httpx.HTTPError as exc:
            self.logger.debug("http request failed", method=method, path=path, error=str(exc))
            raise error_for_exception(
                exc,
                service=self.service,
                base_url=self.base_url,
                doing=doing,
                idempotent=safe,
                run_id=run_id,
            ) from None
        self.logger.debug(
            "http request",
            method=method,
            path=path,
            http_status=response.status_code,
            elapsed_ms=round((time.monotonic() - started) * 1000),
        )
        if not response.is_success:
            raise error_for_response(
                response,
                service=self.service,
                doing=doing,
                credentials=self.credentials,
                idempotent=safe,
                run_id=run_id,
                words=self.error_words,
            )
        foreign = foreign_answer(response, service=self.service, doing=doing)
        if foreign is not None:
            foreign.run_id = run_id
            raise foreign
        document = read_document(response)
        if response.content and document is None:
            raise ApiError(
                f"{doing}: {self.service} answered HTTP {response.status_code} with a body that "
                "is not JSON (is --base-url the API's address?)",
                kind="invalid_answer",
                http_status=response.status_code,
                retryable=safe,
                run_id=run_id,
            )
        return Answer(
            response.status_code, document, dict(response.headers), server_time(response.headers)
        )

    def get(
        self, path: str, *, doing: str, params: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        """``GET path`` and its JSON document: :meth:`request` for the common read."""
        return self.request("GET", path, doing=doing, params=params, **kwargs).document

    def post(self, path: str, *, doing: str, json: Any = None, **kwargs: Any) -> Any:
        """``POST path`` and its JSON document: never repeated after a lost answer unless given
        ``idempotency_key=`` or ``idempotent=True`` (see :meth:`request`)."""
        return self.request("POST", path, doing=doing, json=json, **kwargs).document

    def close(self) -> None:
        """Close the connection pool (a runner's or lister's ``close()`` calls this)."""
        self.client.close()

    def __enter__(self) -> HttpApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
