"""TokenAuth against a small fake API over HTTP on 127.0.0.1: one token for every thread, one
exchange per expiry (counted at the fake), a refresh before expiry, one more try after a 401."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from paradime import log
from paradime.api import RunContext, RunStatus
from paradime_http_common.client import HttpApi
from paradime_http_common.errors import ApiError, error_for_response, read_document
from paradime_http_common.fake import FakeHttpApi, Seen
from paradime_http_common.tokens import MAX_MARGIN_S, TokenAuth, refresh_at

ID, SECRET = "app-3f1c", "app-secret-71d9a0c2e4"
CREDENTIALS = "--app-id/--app-secret"


class VirtualClock:
    """Seconds that only move when a test moves them, shared by the fake and the client."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TokenApi(FakeHttpApi):
    """Issues tokens valid ``lifetime`` seconds; answers 401 to an expired or revoked one."""

    service = "Tokens"

    def __init__(self, clock: VirtualClock, lifetime: int = 100) -> None:
        super().__init__(clock=clock)
        self.lifetime = lifetime
        self.issued: dict[str, float] = {}  # token -> expiry
        self.reject_all = False

    def authorize(self, request: Seen) -> bool:
        if request.path == "/token":
            return True
        expiry = self.issued.get(request.bearer or "")
        return not self.reject_all and expiry is not None and self.clock() < expiry

    def route(self, request: Seen) -> tuple[int, Any]:
        if request.path == "/token":
            if request.body != {"id": ID, "secret": SECRET}:
                return 401, self.error_document(401, "bad application credentials")
            token = f"tok-{len(self.issued) + 1}-c0ffee"
            self.issued[token] = self.clock() + self.lifetime
            return 200, {"access_token": token, "expires_in": self.lifetime}
        return 200, {"ok": True}

    def revoke(self) -> None:
        self.issued = dict.fromkeys(self.issued, -math.inf)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def api(clock: VirtualClock) -> Iterator[TokenApi]:
    with TokenApi(clock) as fake:
        yield fake  # type: ignore[misc]


def client(api: TokenApi, clock: VirtualClock, secrets: list[str]) -> tuple[HttpApi, TokenAuth]:
    holder: dict[str, HttpApi] = {}

    def token_request() -> httpx.Request:
        body = {"id": ID, "secret": SECRET}
        return holder["http"].client.build_request("POST", "/token", json=body)

    def read_token(response: httpx.Response) -> tuple[str, float | None]:
        if not response.is_success:
            raise error_for_response(
                response,
                service="Tokens",
                doing="could not obtain a token",
                credentials=CREDENTIALS,
                idempotent=True,
            )
        document = read_document(response)
        return document["access_token"], document.get("expires_in")

    context = RunContext("tokens", True, 60.0, 8, log.get_logger(), secrets.append)
    auth = TokenAuth(token_request, read_token, on_token=context.add_secret, clock=clock)
    http = HttpApi(
        api.url, service="Tokens", product="t", credentials=CREDENTIALS, context=context, auth=auth
    )
    holder["http"] = http
    return http, auth


def test_the_refresh_comes_a_margin_before_expiry():
    assert refresh_at(0.0, 100) == 80.0  # a fifth of the lifetime
    assert refresh_at(10.0, 3600) == 10.0 + 3600 - MAX_MARGIN_S
    assert refresh_at(0.0, None) == math.inf


def test_one_token_serves_every_request_until_it_is_due(api, clock):
    secrets: list[str] = []
    http, _ = client(api, clock, secrets)
    for _ in range(5):
        http.request("GET", "/things", doing="read")
        clock.now += 15  # 75 s in all: still before the refresh at 80 s
    assert api.count("POST", "/token") == 1
    clock.now = 81
    http.request("GET", "/things", doing="read")
    assert api.count("POST", "/token") == 2
    assert api.count("GET", "/things") == 6
    assert [r.answered for r in api.seen("GET", "/things")] == [200] * 6
    assert secrets[-2:] == ["tok-1-c0ffee", "tok-2-c0ffee"]  # each token went to the redactor


def test_threads_share_one_exchange_per_expiry(api, clock):
    http, auth = client(api, clock, [])
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                http.request("GET", "/things", doing="read")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    for _round in range(3):
        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        clock.now += 100  # every token expires between the rounds
    assert errors == []
    assert api.count("POST", "/token") == 3 == auth.exchanges
    assert api.count("GET", "/things") == 72


def test_a_revoked_token_is_replaced_once_and_the_request_repeated(api, clock):
    http, _ = client(api, clock, [])
    http.request("GET", "/things", doing="read")
    api.revoke()
    answer = http.request("GET", "/things", doing="read")
    assert answer.status == 200
    assert api.count("POST", "/token") == 2
    assert [r.answered for r in api.seen("GET", "/things")] == [200, 401, 200]


def test_a_401_after_a_fresh_token_is_final_and_names_the_credentials(api, clock):
    http, _ = client(api, clock, [])
    api.reject_all = True
    with pytest.raises(ApiError) as caught:
        http.request("GET", "/things", doing="could not read things")
    assert caught.value.kind == "auth" and not caught.value.retryable
    assert CREDENTIALS in caught.value.message
    assert api.count("POST", "/token") == 2  # the first, and the one after the 401
    assert api.count("GET", "/things") == 2


def test_refused_application_credentials_end_the_request_that_needed_a_token(api, clock):
    http, _ = client(api, clock, [])
    api.fail(429, method="POST", path="/token", retry_after=7)
    with pytest.raises(ApiError) as throttled:
        http.request("POST", "/start", doing="could not start")
    assert throttled.value.retryable and throttled.value.retry_after_s == 7
    assert throttled.value.status is RunStatus.THROTTLED
    assert api.count("POST", "/start") == 0  # the start itself was never sent
    api.fail(401, method="POST", path="/token")
    with pytest.raises(ApiError) as refused:
        http.request("POST", "/start", doing="could not start")
    assert refused.value.kind == "auth" and not refused.value.retryable
    assert "could not obtain a token" in refused.value.message
    assert api.count("POST", "/start") == 0
