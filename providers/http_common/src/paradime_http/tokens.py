"""Short-lived access tokens that an API issues itself (OAuth client credentials and the like),
shared by every request of a command run.

:class:`TokenAuth` is an :class:`httpx.Auth` for :class:`~paradime_http.client.HttpApi`.
Every thread's requests use one token. It is obtained when first needed, obtained again a margin
before it expires (so a run of any length never sends an expired one), and obtained again once
when the API answers 401 (a token revoked early); a second 401 is the API's answer. One exchange
serves every thread: a thread that finds the token due takes a lock and exchanges; the others
wait for it and use the new token, so there is one exchange per expiry, not one per thread, target
or request.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import httpx

__all__ = ["MARGIN_FRACTION", "MAX_MARGIN_S", "Token", "TokenAuth", "refresh_at"]

# Refresh this fraction of a token's lifetime before it ends, at most MAX_MARGIN_S: a request
# sent just before the end is still valid when it arrives, and a lifetime of minutes costs one
# exchange per lifetime.
MARGIN_FRACTION = 0.2
MAX_MARGIN_S = 60.0


@dataclass(frozen=True)
class Token:
    """An access token and when to stop using it (the ``clock``'s seconds; ``inf``: never)."""

    value: str
    refresh_at: float


def refresh_at(issued_at: float, expires_in_s: float | None) -> float:
    """When a token issued at ``issued_at`` and valid ``expires_in_s`` is due for a refresh."""
    if expires_in_s is None or not math.isfinite(expires_in_s):
        return math.inf
    lifetime = max(0.0, expires_in_s)
    return issued_at + lifetime - min(MAX_MARGIN_S, MARGIN_FRACTION * lifetime)


class TokenAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` with a token the API issues, shared and refreshed.

    :param token_request: builds the request that obtains a token (an absolute URL: httpx sends
        it as built, through the same client and pool).
    :param read_token: reads the token endpoint's answer: ``(token, expires_in_s or None)``;
        raises (an :class:`~paradime_http.errors.ApiError`) when it is a refusal. The
        exception ends the request that needed the token. ``None`` asks for the exchange to be
        sent again, ``token_request`` being called anew: for an API whose token endpoint has
        moved between versions, a 404 at one address is answered by building the request for
        the other (the reader must stop asking, by returning a token or raising).
    :param on_token: called with each new token before it is used (register it with the
        redactor). Left ``None``, :class:`~paradime_http.client.HttpApi` sets it to its own
        :meth:`~paradime_http.client.HttpApi.add_secret`.
    :param clock: seconds, monotonic; a benchmark passes its virtual clock.
    """

    requires_response_body = True

    def __init__(
        self,
        token_request: Callable[[], httpx.Request],
        read_token: Callable[[httpx.Response], tuple[str, float | None] | None],
        *,
        on_token: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._token_request = token_request
        self._read_token = read_token
        self.on_token = on_token
        self.secrets: tuple[str, ...] = ()  # the exchange's own credentials, to redact
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Token | None = None
        self.exchanges = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = yield from self._current()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            # Revoked or expired early: one new token and one more try; a second 401 stands.
            token = yield from self._current(rejected=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def _current(
        self, rejected: str | None = None
    ) -> Generator[httpx.Request, httpx.Response, str]:
        """The token to send; exchanges for a new one when there is none, it is due, or it is
        the one just ``rejected`` (unless another thread has replaced it meanwhile)."""
        with self._lock:  # held across the exchange: the other threads wait for its token
            token = self._token
            if token is not None and token.value != rejected and self._clock() < token.refresh_at:
                return token.value
            issued_at = self._clock()
            read = None
            while read is None:  # None: the reader asks for another request (another address)
                response = yield self._token_request()
                read = self._read_token(response)
            value, expires_in_s = read
            if self.on_token is not None:
                self.on_token(value)
            self._token = Token(value, refresh_at(issued_at, expires_in_s))
            self.exchanges += 1
            return value
