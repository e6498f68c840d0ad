"""The shared HTTP plumbing against a small fake API over HTTP on 127.0.0.1: the client setup,
the one mapping of answers to outcomes, Retry-After, secrets, and the fake base itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest

from paradime import log
from paradime.api import RunContext, RunStatus, UsageError
from paradime_http_common.client import HttpApi, basic_auth_secrets, user_agent
from paradime_http_common.errors import ApiError, ConflictError, api_words, parse_retry_after
from paradime_http_common.fake import FakeHttpApi, Seen
from paradime_http_common.options import parse_base_url

KEY, SECRET = "key-5b1d0c77aa", "secret-e3b0c44298fc1c14"
CREDENTIALS = "--user/--password (THINGS_USER/THINGS_PASSWORD)"


class ThingsApi(FakeHttpApi):
    """A tiny stateful API: things to read, started runs counted, a slow endpoint."""

    service = "Things"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(credentials=(KEY, SECRET), **kwargs)
        self.things = {"a": {"id": "a", "running": False}}
        self.starts = 0

    def route(self, request: Seen) -> tuple[int, Any]:
        parts = request.path.strip("/").split("/")
        if parts[:1] == ["slow"]:
            time.sleep(float(request.query.get("s", "1")))
            return 200, {"ok": True}
        if parts[:1] == ["html"]:
            return 200, b"<html><body>Sign in</body></html>"
        if len(parts) == 2 and parts[0] == "things":
            thing = self.things.get(parts[1])
            if thing is None:
                return 404, self.error_document(404, f"no thing '{parts[1]}'")
            if request.method == "POST":
                if thing["running"]:
                    return 409, self.error_document(409, "already running")
                self.starts += 1
                thing["running"] = True
            return 200, {"data": thing}
        return 404, self.error_document(404, "no such path")


@pytest.fixture
def api() -> Iterator[ThingsApi]:
    with ThingsApi() as fake:
        yield fake


@pytest.fixture
def secrets() -> list[str]:
    return []


def client(
    url: str, secrets: list[str], *, read_timeout_s: float = 5.0, concurrency: int = 4
) -> HttpApi:
    context = RunContext("things-run", True, 60.0, concurrency, log.get_logger(), secrets.append)
    return HttpApi(
        url,
        service="Things",
        product="paradime-things/1.0",
        credentials=CREDENTIALS,
        context=context,
        auth=(KEY, SECRET),
        read_timeout_s=read_timeout_s,
        connect_timeout_s=1.0,
    )


def error_of(call: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


# -- the client setup ------------------------------------------------------------------------
def test_a_read_sends_basic_auth_a_user_agent_naming_paradime_and_returns_the_document(
    api, secrets
):
    answer = client(api.url, secrets).request("GET", "/things/a", doing="could not read a")
    assert answer.status == 200
    assert answer.document == {"data": {"id": "a", "running": False}}
    assert answer.server_time is not None
    assert abs(answer.server_time - datetime.now(timezone.utc)) < timedelta(minutes=1)
    [seen] = api.requests
    assert seen.basic == (KEY, SECRET)
    assert seen.headers["user-agent"].startswith("paradime/")
    assert "paradime-things/1.0" in seen.headers["user-agent"]
    assert seen.headers["accept"] == "application/json"


def test_the_credentials_and_their_encoded_header_are_registered_as_secrets(api, secrets):
    client(api.url, secrets)
    assert set(basic_auth_secrets(KEY, SECRET)) <= set(secrets)


def test_the_connection_pool_is_sized_to_the_runs_concurrency(api, secrets):
    http = client(api.url, secrets, concurrency=12)
    pool = http.client._transport._pool  # type: ignore[attr-defined]
    assert pool._max_connections >= 24  # trigger and poll threads, 12 each


def test_requests_from_many_threads_share_one_client(api, secrets):
    import concurrent.futures

    http = client(api.url, secrets, concurrency=8)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: http.request("GET", "/things/a", doing="read").status, range(40))
        )
    assert answers == [200] * 40
    assert api.count("GET", "/things/a") == 40


def test_user_agent_names_paradime_the_product_and_the_client():
    assert user_agent("paradime-x/2.0").split()[1:2] == ["paradime-x/2.0"]
    assert user_agent("paradime-x/2.0").startswith("paradime/")


# -- the one mapping of answers to outcomes ----------------------------------------------------
def test_401_is_final_and_names_the_credential_options_not_their_values(api, secrets):
    api.credentials = ("someone", "else")
    error = error_of(lambda: client(api.url, secrets).request("GET", "/things/a", doing="read a"))
    assert (error.kind, error.status, error.retryable, error.http_status) == (
        "auth",
        RunStatus.ERROR,
        False,
        401,
    )
    assert error.message.startswith("read a: Things rejected the credentials (HTTP 401")
    assert CREDENTIALS in error.message
    assert KEY not in error.message and SECRET not in error.message


def test_403_is_final_and_says_the_credentials_lack_permission(api, secrets):
    api.fail(403, message="Insufficient scope")
    error = error_of(lambda: client(api.url, secrets).request("GET", "/things/a", doing="read a"))
    assert (error.kind, error.retryable) == ("forbidden", False)
    assert "HTTP 403 403: Insufficient scope" in error.message
    assert "lack the permission" in error.message and CREDENTIALS in error.message


def test_404_is_final_and_names_the_resource(api, secrets):
    http = client(api.url, secrets)
    error = error_of(lambda: http.request("GET", "/things/zz", doing="could not read thing 'zz'"))
    assert (error.kind, error.retryable, error.status) == ("not_found", False, RunStatus.ERROR)
    assert error.message == "could not read thing 'zz': not found (HTTP 404 404: no thing 'zz')"


def test_409_is_a_conflict_error_the_caller_can_catch_with_the_apis_document(api, secrets):
    http = client(api.url, secrets)
    http.request("POST", "/things/a", doing="start a")
    with pytest.raises(ConflictError) as caught:
        http.request("POST", "/things/a", doing="start a")
    assert caught.value.document == {"code": "409", "message": "already running"}
    assert not caught.value.retryable
    assert api.starts == 1


@pytest.mark.parametrize("retry_after", ["7", None])
def test_429_is_throttled_retryable_and_carries_retry_after(api, secrets, retry_after):
    api.fail(429, retry_after=retry_after)
    error = error_of(lambda: client(api.url, secrets).request("POST", "/things/a", doing="start"))
    assert (error.kind, error.status, error.retryable) == ("throttled", RunStatus.THROTTLED, True)
    assert error.retry_after_s == (7.0 if retry_after else None)
    assert ("asked to retry after 7s" in error.message) == bool(retry_after)
    assert api.starts == 0


def test_429_with_an_http_date_retry_after_gives_the_seconds_until_then(api, secrets):
    when = datetime.now(timezone.utc) + timedelta(seconds=90)
    api.fail(429, retry_after=format_datetime(when, usegmt=True))
    error = error_of(lambda: client(api.url, secrets).request("GET", "/things/a", doing="read"))
    assert error.retry_after_s is not None and 85 <= error.retry_after_s <= 90


def test_5xx_on_a_read_is_retryable(api, secrets):
    api.fail(503)
    error = error_of(lambda: client(api.url, secrets).request("GET", "/things/a", doing="read"))
    assert (error.kind, error.retryable, error.http_status) == ("server", True, 503)
    assert error.message == "read: HTTP 503 503: Service unavailable"


def test_5xx_on_a_start_is_not_retried_unless_the_caller_says_it_is_idempotent(api, secrets):
    http = client(api.url, secrets)
    api.fail(502, method="POST")
    error = error_of(lambda: http.request("POST", "/things/a", doing="start a"))
    assert (error.kind, error.retryable) == ("server", False)
    assert "Things may have acted on the request, so it is not repeated" in error.message
    api.fail(502, method="POST")
    error = error_of(lambda: http.request("POST", "/things/a", doing="start a", idempotent=True))
    assert error.retryable


def test_a_start_whose_answer_was_lost_is_not_retryable_a_lost_read_is(api, secrets):
    http = client(api.url, secrets)
    api.lose_answers(method="POST")
    error = error_of(lambda: http.request("POST", "/things/a", doing="start a"))
    assert (error.kind, error.retryable, error.http_status) == ("network", False, None)
    assert api.starts == 1  # it did happen: that is why it must not be repeated blindly
    api.lose_answers(method="GET")
    assert error_of(lambda: http.request("GET", "/things/a", doing="read a")).retryable


def test_a_read_timeout_on_a_start_is_not_retryable(api, secrets):
    http = client(api.url, secrets, read_timeout_s=0.2)
    error = error_of(lambda: http.request("POST", "/slow", params={"s": "1"}, doing="start"))
    assert (error.kind, error.retryable) == ("network", False)
    assert "ReadTimeout" in error.message


def test_a_connection_never_made_is_retryable_even_for_a_start(secrets):
    fake = ThingsApi().start()
    url = fake.url
    fake.stop()
    error = error_of(lambda: client(url, secrets).request("POST", "/things/a", doing="start a"))
    assert (error.kind, error.retryable) == ("network", True)
    assert error.message.startswith(f"start a: could not connect to {url}: ConnectError")


def test_a_success_that_is_an_html_page_is_a_final_invalid_answer(api, secrets):
    """A sign-in page where the API should be: no retry changes the base URL."""
    http = client(api.url, secrets)
    error = error_of(lambda: http.request("GET", "/html", doing="read"))
    assert (error.kind, error.http_status, error.retryable) == ("invalid_answer", 200, False)
    assert error.message.endswith("API answer; check --base-url")
    error = error_of(lambda: http.request("POST", "/html", doing="start"))
    assert not error.retryable


def test_other_4xx_are_final_with_the_apis_code_and_message(api, secrets):
    api.fail(400, message="Invalid cursor")
    error = error_of(lambda: client(api.url, secrets).request("GET", "/things/a", doing="list"))
    assert (error.kind, error.retryable) == ("client", False)
    assert error.message == "list: Things refused the request (HTTP 400 400: Invalid cursor)"


# -- pieces ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("0", 0.0),
        ("-5", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),
        ("Wed, 21 Oct 2015 07:26:00 GMT", 0.0),
    ],
)
def test_parse_retry_after_reads_seconds_and_http_dates(value, expected):
    now = datetime(2015, 10, 21, 7, 27, tzinfo=timezone.utc)
    assert parse_retry_after(value, now) == expected


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"code": "NotFound_Connector", "message": "Connector not found"}, "NotFound_Connector: "),
        ({"title": "Conflict", "detail": "A sync is running", "status": 409}, "Conflict: A sync"),
        ({"error": {"code": "bad", "message": "worse"}}, "bad: worse"),
        ({"message": "x" * 1000}, "x" * 299 + "…"),
        (["not", "a", "mapping"], ""),
    ],
)
def test_api_words_read_the_common_error_shapes(document, expected):
    assert api_words(document).startswith(expected) or api_words(document) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://api.fivetran.com/", "https://api.fivetran.com"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
    ],
)
def test_base_urls_are_normalised(value, expected):
    assert parse_base_url(value) == expected


@pytest.mark.parametrize(
    "value", ["ftp://x", "api.fivetran.com", "https://", "http://h:99999", "https://u:p@h/"]
)
def test_bad_base_urls_are_usage_errors(value):
    with pytest.raises(UsageError):
        parse_base_url(value)


# -- the fake base ---------------------------------------------------------------------------
def test_a_storm_throttles_every_request_with_the_seconds_left(api, secrets):
    api.throttle_for(2.5)
    http = client(api.url, secrets)
    first = error_of(lambda: http.request("GET", "/things/a", doing="read"))
    assert first.retry_after_s == 3.0
    assert api.requests[-1].answered == 429


def test_faults_match_method_and_path_and_run_out(api, secrets):
    http = client(api.url, secrets)
    api.fail(500, times=2, method="POST", path=r"/things/\w+")
    assert http.request("GET", "/things/a", doing="read").status == 200
    for _ in range(2):
        error_of(lambda: http.request("POST", "/things/a", doing="start", idempotent=True))
    assert http.request("POST", "/things/a", doing="start").status == 200
    assert [r.answered for r in api.seen("POST")] == [500, 500, 200]
    assert api.count("POST", r"/things/a") == 3


def test_the_fake_clock_can_run_fast():
    fake = ThingsApi(speed=100.0)
    time.sleep(0.05)
    assert fake.clock() >= 4.0
