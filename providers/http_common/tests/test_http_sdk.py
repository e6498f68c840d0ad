"""The HTTP SDK's error reading, function by function: the exact message, kind, status and
retryability of each answer and failure, the Retry-After and Date readings, the API's own words.
An end-to-end test sees a few of these; a changed word or bound here reaches every provider."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from paradime.api import RunStatus
from paradime_http.errors import (
    MESSAGE_LIMIT,
    ApiError,
    ConflictError,
    api_words,
    dig,
    error_for_exception,
    error_for_response,
    foreign_answer,
    parse_retry_after,
    read_document,
    server_time,
    start_failure,
    words_at,
)
from paradime_http.tokens import TokenAuth, refresh_at

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
DOING = "could not start job 'j'"
CREDS = "--token (EXAMPLE_TOKEN)"


def answer(status: int, body: Any = None, **headers: str) -> httpx.Response:
    request = httpx.Request("POST", "http://127.0.0.1/jobs")
    if isinstance(body, (dict, list)):
        return httpx.Response(status, json=body, headers=headers, request=request)
    return httpx.Response(status, content=body or b"", headers=headers, request=request)


def error(status: int, body: Any = None, *, idempotent: bool = True, **headers: str) -> ApiError:
    return error_for_response(
        answer(status, body, **headers),
        service="Example",
        doing=DOING,
        credentials=CREDS,
        idempotent=idempotent,
        run_id="r1",
    )


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        (" 7 ", 7.0),
        ("-3", 0.0),
        ("inf", None),
        ("nan", None),
        ("soon", None),
        ("Mon, 01 Jun 2026 12:00:30 GMT", 30.0),
        ("Mon, 01 Jun 2026 11:59:00 GMT", 0.0),
        ("Mon, 01 Jun 2026 12:00:30", 30.0),
    ],
)
def test_retry_after_reads_seconds_or_a_date_and_is_never_negative(value, seconds):
    assert parse_retry_after(value, NOW) == seconds


def test_retry_after_as_a_date_counts_from_now_by_default():
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    wait = parse_retry_after(later)
    assert wait is not None and 3500 < wait <= 3600


@pytest.mark.parametrize(
    ("headers", "when"),
    [
        ({"date": "Mon, 01 Jun 2026 12:00:00 GMT"}, NOW),
        ({"Date": "Mon, 01 Jun 2026 12:00:00"}, NOW),
        ({"Date": "yesterday"}, None),
        ({}, None),
    ],
)
def test_server_time_is_the_date_header_aware(headers, when):
    assert server_time(headers) == when


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"code": "NotFound", "message": "No job 'j'"}, "NotFound: No job 'j'"),
        ({"title": "Conflict", "detail": "A sync is running"}, "Conflict: A sync is running"),
        ({"error": {"code": "E1", "message": "bad"}}, "E1: bad"),
        ({"error": "invalid_grant", "error_description": "expired"}, "expired"),
        ({"error": "invalid_grant"}, "invalid_grant"),
        ({"code": "Same", "message": "Same"}, "Same"),
        ({"code": 404, "message": ""}, ""),
        ({"message": "a\n  b"}, "a b"),
        ({"message": "x" * 400}, "x" * (MESSAGE_LIMIT - 1) + "…"),
        ({"message": "x" * MESSAGE_LIMIT}, "x" * MESSAGE_LIMIT),
        (["not", "a", "mapping"], ""),
        (None, ""),
    ],
)
def test_api_words_read_code_and_message_from_the_usual_shapes(document, words):
    assert api_words(document) == words


def test_dig_follows_keys_and_list_indexes_and_gives_none_off_the_document():
    document = {"errors": [{"detail": "d0"}, {"detail": "d1"}], "status": {"code": 400}}
    assert dig(document, "errors.1.detail") == "d1"
    assert dig(document, "status.code") == 400
    assert dig(document, "errors.2.detail") is None
    assert dig(document, "errors.x") is None
    assert dig(document, "status.code.more") is None
    assert dig(document, "") is document


def test_words_at_joins_the_texts_and_numbers_found_skipping_empty_ones():
    words = words_at("status.code", "status.reason", "status.user_message")
    document = {"status": {"code": 400, "reason": "", "user_message": "Job is paused"}}
    assert words(document) == "400: Job is paused"
    assert words({"status": {"code": None, "user_message": ["x"]}}) == ""


def test_read_document_is_the_json_or_none():
    assert read_document(answer(200, {"a": 1})) == {"a": 1}
    assert read_document(answer(200, b"")) is None
    assert read_document(answer(200, b"<html>")) is None


def test_a_401_names_the_service_the_words_and_where_the_credentials_come_from():
    exc = error(401, {"code": "Unauthorized", "message": "bad key"})
    assert str(exc) == (
        f"{DOING}: Example rejected the credentials (HTTP 401 Unauthorized: bad key); check {CREDS}"
    )
    assert (exc.kind, exc.http_status, exc.run_id, exc.retryable) == ("auth", 401, "r1", False)
    assert exc.status is RunStatus.ERROR and exc.details == {"http_status": 401}
    assert exc.document == {"code": "Unauthorized", "message": "bad key"}


def test_a_403_says_the_credentials_lack_the_permission():
    exc = error(403, b"")
    assert str(exc) == (
        f"{DOING}: Example refused access (HTTP 403 Forbidden); the credentials given by "
        f"{CREDS} lack the permission for this"
    )
    assert exc.kind == "forbidden"


def test_a_404_and_a_409_and_another_4xx():
    assert str(error(404, {"message": "gone"})) == f"{DOING}: not found (HTTP 404 gone)"
    conflict = error(409, {"message": "running"})
    assert isinstance(conflict, ConflictError) and conflict.kind == "conflict"
    assert str(conflict) == f"{DOING}: HTTP 409 running"
    client = error(422, b"", **{"content-type": "text/plain"})
    assert str(client) == f"{DOING}: Example refused the request (HTTP 422 Unprocessable Entity)"
    assert (client.kind, client.retryable) == ("client", False)


def test_a_plain_text_answer_is_its_own_words_on_one_line():
    exc = error(400, b"  bad\n  input ", **{"content-type": "text/plain; charset=utf-8"})
    assert str(exc) == f"{DOING}: Example refused the request (HTTP 400 bad input)"


def test_a_words_hook_that_raises_falls_back_to_the_reason_phrase():
    def broken(document: Any) -> str:
        raise KeyError("code")

    exc = error_for_response(
        answer(400, {"x": 1}),
        service="Example",
        doing=DOING,
        credentials=CREDS,
        idempotent=True,
        words=broken,
    )
    assert str(exc) == f"{DOING}: Example refused the request (HTTP 400 Bad Request)"


def test_a_429_is_a_retryable_throttle_with_the_services_wait():
    exc = error(429, {"message": "slow down"}, **{"retry-after": "2.5"})
    assert str(exc) == (
        f"{DOING}: throttled by Example (HTTP 429 slow down); Example asked to retry after 2.5s"
    )
    assert (exc.kind, exc.status, exc.retryable, exc.retry_after_s) == (
        "throttled",
        RunStatus.THROTTLED,
        True,
        2.5,
    )
    plain = error(429)
    assert str(plain) == f"{DOING}: throttled by Example (HTTP 429 Too Many Requests)"
    assert plain.retry_after_s is None


def test_a_5xx_is_retried_only_when_repeating_cannot_repeat_the_effect():
    read = error(500, idempotent=True)
    assert (str(read), read.kind, read.retryable) == (
        f"{DOING}: HTTP 500 Internal Server Error",
        "server",
        True,
    )
    start = error(502, idempotent=False)
    assert str(start) == (
        f"{DOING}: HTTP 502 Bad Gateway; Example may have acted on the request, "
        "so it is not repeated"
    )
    assert (start.kind, start.retryable) == ("server", False)
    assert start_failure(start).outcome_unknown is True
    assert start_failure(read).outcome_unknown is False
    assert start_failure(error(429)).outcome_unknown is False


def test_a_redirect_says_where_it_points_and_keeps_the_run_id():
    exc = error(302, **{"location": "https://sso.example/login"})
    assert str(exc) == (
        f"{DOING}: HTTP 302 Found, redirecting to https://sso.example/login: "
        "not an Example API answer; check --base-url"
    )
    assert (exc.kind, exc.http_status, exc.run_id) == ("invalid_answer", 302, "r1")
    bare = foreign_answer(answer(307), service="Fivetran", doing=DOING)
    assert bare is not None and str(bare) == (
        f"{DOING}: HTTP 307 Temporary Redirect, redirecting without a Location: "
        "not a Fivetran API answer; check --base-url"
    )


@pytest.mark.parametrize(
    ("body", "headers", "shown"),
    [
        (b"<html>sign in</html>", {"content-type": "text/html; charset=utf-8"}, "text/html"),
        (b"  <!doctype html>", {}, "no content type"),
        (b"<x/>", {"content-type": "application/XHTML+xml"}, "application/xhtml+xml"),
    ],
)
def test_an_html_page_is_not_an_api_answer(body, headers, shown):
    exc = foreign_answer(answer(200, body, **headers), service="Example", doing=DOING)
    assert exc is not None and str(exc) == (
        f"{DOING}: HTTP 200 with an HTML page ({shown}): not an Example API answer; "
        "check --base-url"
    )
    assert (exc.kind, exc.http_status) == ("invalid_answer", 200)


def test_json_starting_with_a_bracket_is_not_taken_for_html():
    assert foreign_answer(answer(200, [1]), service="Example", doing=DOING) is None
    body, headers = b"<x/>", {"content-type": "application/problem+json"}
    assert foreign_answer(answer(400, body, **headers), service="Example", doing=DOING) is None


def exception(exc: httpx.HTTPError, *, idempotent: bool) -> ApiError:
    return error_for_exception(
        exc,
        service="Example",
        base_url="http://127.0.0.1:9",
        doing=DOING,
        idempotent=idempotent,
        run_id="r1",
    )


@pytest.mark.parametrize("kind", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_a_request_that_never_left_is_retryable_even_for_a_start(kind):
    exc = exception(kind("refused\n here"), idempotent=False)
    assert str(exc) == (
        f"{DOING}: could not connect to http://127.0.0.1:9: {kind.__name__}: refused here"
    )
    assert (exc.kind, exc.retryable, exc.run_id) == ("network", True, "r1")
    assert start_failure(exc).outcome_unknown is False


def test_a_lost_answer_is_retried_only_when_idempotent():
    read = exception(httpx.ReadTimeout(""), idempotent=True)
    assert str(read) == f"{DOING}: no answer from Example (ReadTimeout: ReadTimeout)"
    assert (read.kind, read.retryable) == ("network", True)
    start = exception(httpx.RemoteProtocolError("closed"), idempotent=False)
    assert str(start) == (
        f"{DOING}: no answer from Example (RemoteProtocolError: closed); "
        "Example may have acted on the request, so it is not repeated"
    )
    assert start.retryable is False and start_failure(start).outcome_unknown is True


def test_another_http_failure_is_final_and_named():
    exc = exception(httpx.TooManyRedirects("too many"), idempotent=True)
    assert str(exc) == f"{DOING}: TooManyRedirects: too many"
    assert (exc.kind, exc.retryable, exc.run_id) == ("network", False, "r1")


def test_a_token_without_lifetime_left_is_due_at_once():
    assert refresh_at(5.0, 0.0) == 5.0
    assert refresh_at(5.0, -10.0) == 5.0


def test_a_new_token_is_handed_to_on_token_and_is_due_at_its_refresh_time_exactly():
    now = [0.0]
    seen: list[str] = []
    issued = iter(["tok-1", "tok-2"])

    def token_request() -> httpx.Request:
        return httpx.Request("POST", "http://127.0.0.1/token")

    def read_token(response: httpx.Response) -> tuple[str, float | None]:
        return response.json()["token"], 100.0

    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"token": next(issued)})
        return httpx.Response(200, text=request.headers["authorization"])

    auth = TokenAuth(token_request, read_token, on_token=seen.append, clock=lambda: now[0])
    with httpx.Client(transport=httpx.MockTransport(serve), auth=auth) as client:
        assert client.get("http://127.0.0.1/jobs").text == "Bearer tok-1"
        now[0] = 79.9
        assert client.get("http://127.0.0.1/jobs").text == "Bearer tok-1"
        now[0] = refresh_at(0.0, 100.0)
        assert client.get("http://127.0.0.1/jobs").text == "Bearer tok-2"
    assert seen == ["tok-1", "tok-2"] and auth.exchanges == 2


@pytest.mark.parametrize(
    ("code", "idempotent"),
    [(401, True), (403, True), (404, True), (409, True), (422, True), (429, True), (502, False)],
)
def test_every_refusal_carries_its_status_its_document_and_the_run_id(code, idempotent):
    exc = error(code, {"message": "no"}, idempotent=idempotent)
    assert (exc.http_status, exc.details, exc.run_id) == (code, {"http_status": code}, "r1")
    assert exc.document == {"message": "no"}


def test_an_html_error_page_is_still_the_refusal_its_status_says():
    exc = error(400, b"<html>bad</html>", **{"content-type": "text/html"})
    assert (exc.kind, str(exc)) == (
        "client",
        f"{DOING}: Example refused the request (HTTP 400 Bad Request)",
    )


def test_a_status_without_a_reason_phrase_ends_the_words_without_a_space():
    assert str(error(599)) == f"{DOING}: HTTP 599"


@pytest.mark.parametrize("content_type", ["text/html", "application/xhtml+xml"])
def test_an_html_content_type_is_html_whatever_the_body_starts_with(content_type):
    exc = foreign_answer(
        answer(200, b"Sign in", **{"content-type": content_type}), service="Xero", doing=DOING
    )
    assert exc is not None and str(exc).endswith(": not a Xero API answer; check --base-url")


def test_a_300_is_a_redirect_too():
    exc = foreign_answer(answer(300), service="Example", doing=DOING)
    assert exc is not None and ", redirecting without a Location" in str(exc)


def test_a_date_with_an_offset_keeps_it():
    assert server_time({"date": "Mon, 01 Jun 2026 14:00:00 +0200"}) == NOW


def test_api_words_take_only_text_as_the_message():
    assert api_words({"code": "E", "message": {"nested": 1}}) == "E"


def test_a_failure_without_an_answer_has_no_status_but_keeps_the_run_id():
    exc = exception(httpx.ReadError("reset"), idempotent=False)
    assert (exc.http_status, exc.details, exc.run_id) == (None, {}, "r1")
