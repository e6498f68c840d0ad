"""How a request proves who sends it: one :class:`httpx.Auth` per scheme, for
:class:`~paradime_http.client.HttpApi`'s ``auth``.

Each strategy lists its ``secrets`` (every spelling of the credential that could reach a log
line); :class:`~paradime_http.client.HttpApi` registers them with the run's redactor, so they
never appear in output at any log level.

* :class:`BasicAuth`: ``Authorization: Basic base64(user:password)``;
* :class:`BearerAuth`: ``Authorization: Bearer <token>``, a token the user holds;
* :class:`HeaderAuth`: any header, any scheme (``Authorization: Token <key>``,
  ``X-API-Key: <key>``);
* :class:`~paradime_http.tokens.TokenAuth` and :func:`client_credentials`: a token the API
  issues in exchange for other credentials (OAuth client credentials and the like), shared by
  every thread and obtained again before it expires and once after a 401.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Generator
from typing import Any

import httpx

from paradime_http.tokens import TokenAuth

__all__ = ["BasicAuth", "BearerAuth", "HeaderAuth", "TokenAuth", "client_credentials"]


class HeaderAuth(httpx.Auth):
    """``<header>: <scheme> <token>`` on every request (``<token>`` alone when ``scheme`` is
    empty): ``HeaderAuth(key, scheme="Token")`` sends ``Authorization: Token <key>``,
    ``HeaderAuth(key, header="X-API-Key", scheme="")`` sends ``X-API-Key: <key>``."""

    def __init__(self, token: str, *, scheme: str = "Bearer", header: str = "Authorization"):
        self.header = header
        self.value = f"{scheme} {token}" if scheme else token
        self.secrets: tuple[str, ...] = (token, self.value)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self.value
        yield request


class BearerAuth(HeaderAuth):
    """``Authorization: Bearer <token>``: a personal access token or API key the user holds."""

    def __init__(self, token: str) -> None:
        super().__init__(token, scheme="Bearer")


class BasicAuth(HeaderAuth):
    """``Authorization: Basic ...``: HTTP Basic credentials (RFC 7617)."""

    def __init__(self, user: str, password: str) -> None:
        encoded = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        super().__init__(encoded, scheme="Basic")
        self.secrets = (user, password, encoded)


def client_credentials(
    token_url: str,
    client_id: str,
    client_secret: str,
    *,
    scope: str | None = None,
    on_token: Callable[[str], None] | None = None,
) -> TokenAuth:
    """An OAuth 2.0 client-credentials exchange (RFC 6749 §4.4): the id and secret are posted
    as a form to ``token_url`` (absolute) for an ``access_token`` valid ``expires_in`` seconds,
    sent as ``Bearer``. A refusal ends the request that needed the token with the token
    endpoint's own error (``invalid_client: ...``)."""
    form = {"grant_type": "client_credentials", "client_id": client_id}
    form |= {"client_secret": client_secret} | ({"scope": scope} if scope else {})

    def token_request() -> httpx.Request:
        return httpx.Request("POST", token_url, data=form)

    def read_token(response: httpx.Response) -> tuple[str, float | None]:
        from paradime_http.errors import error_for_response, read_document

        if not response.is_success:
            raise error_for_response(
                response,
                service="the token endpoint",
                doing="could not obtain an access token",
                credentials="the client id and secret",
                idempotent=True,
            )
        document: Any = read_document(response) or {}
        expires = document.get("expires_in")
        return str(document["access_token"]), float(expires) if expires is not None else None

    auth = TokenAuth(token_request, read_token, on_token=on_token)
    auth.secrets = (client_secret,)
    return auth
