"""HTTP answers and network faults to paradime outcomes: the one mapping every HTTP-API
provider uses.

| answer | status | retried by core |
|---|---|---|
| 401 | ``ERROR``, naming the credential options | no: repeating cannot fix credentials |
| 403 | ``ERROR``, naming the credential options | no |
| 404 | ``ERROR``, naming what was asked for | no |
| 409 | ``ERROR`` as a :class:`ConflictError` the caller may act on first | no |
| 429 | ``THROTTLED`` with the answer's ``Retry-After`` | yes, waiting at least that long |
| 5xx | ``ERROR`` | reads and calls the caller says are idempotent; not other starts |
| other 4xx | ``ERROR`` with the API's own code and message | no |
| 3xx; HTML with 2xx | ``ERROR`` "not a <service> API answer; check --base-url" | no |
| no connection made | ``ERROR`` | yes: nothing was sent |
| sent, answer lost | ``ERROR`` | only when idempotent, as for 5xx |

Messages name the service, the HTTP status and the API's own error code and message; they
never carry a request header, and a credential echoed by the API is masked by the redactor the
client registered it with.

The API's own words come from its error document through an :data:`ErrorWords` hook:
:func:`api_words` reads the common shapes (``{"code", "message"}``, problem+json,
``{"error": {...}}``); an API with another shape passes its own, usually made with
:func:`words_at` (``words_at("status.user_message")`` for ``{"status": {"user_message": ...}}``).
"""

from __future__ import annotations

import email.utils
import json
import math
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from paradime.api import RunError, RunStatus

if TYPE_CHECKING:
    import httpx

__all__ = [
    "MESSAGE_LIMIT",
    "ApiError",
    "ConflictError",
    "ErrorWords",
    "api_words",
    "dig",
    "error_for_exception",
    "error_for_response",
    "foreign_answer",
    "never_sent",
    "parse_retry_after",
    "read_document",
    "server_time",
    "start_failure",
    "words_at",
]

ErrorWords = Callable[[Any], str]
"""A hook reading the API's own words (``code: message``) from its error document (any JSON
value, ``None`` when the answer had none); ``""`` when it finds none. An exception it raises
counts as ``""``: the message then falls back to the HTTP reason phrase."""

# The API's own words are kept to this many characters: enough for any real error message, not
# enough to paste a whole HTML error page into a result row.
MESSAGE_LIMIT = 300


class ApiError(RunError):
    """An HTTP-API call that failed, as paradime reports it.

    :param http_status: the answer's status, or ``None`` when there was no answer.
    :param kind: ``auth``, ``forbidden``, ``not_found``, ``conflict``, ``throttled``,
        ``server``, ``client``, ``network`` or ``invalid_answer``.
    :param document: the answer's JSON document, when it had one.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        http_status: int | None = None,
        document: Any = None,
        status: RunStatus = RunStatus.ERROR,
        retryable: bool = False,
        run_id: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        details = {"http_status": http_status} if http_status is not None else {}
        super().__init__(
            message,
            status=status,
            retryable=retryable,
            run_id=run_id,
            details=details,
            retry_after_s=retry_after_s,
        )
        self.kind = kind
        self.http_status = http_status
        self.document = document


class ConflictError(ApiError):
    """HTTP 409: the request clashes with the resource's state (a sync already running, say).

    Final unless the caller catches it and acts on it (joins the running job, for instance).
    """


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP-date
    (RFC 9110 §10.2.3). ``None`` when absent or unreadable; never negative."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def server_time(headers: Mapping[str, str]) -> datetime | None:
    """The answer's ``Date`` header as an aware datetime, if it has a readable one."""
    value = headers.get("date") or headers.get("Date")
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def api_words(document: Any) -> str:
    """``code: message`` from an API error document: Fivetran's ``{"code", "message"}``,
    problem+json's ``{"title", "detail"}`` (Airbyte), or ``{"error": {...}}``; ``""`` if none."""
    if not isinstance(document, Mapping):
        return ""
    inner = document.get("error")
    if isinstance(inner, Mapping):
        document = inner
    code = next(
        (str(document[k]) for k in ("code", "title") if isinstance(document.get(k), str)), ""
    )
    message = next(
        (
            str(document[k])
            for k in ("message", "detail", "error_description", "error")
            if isinstance(document.get(k), str) and document.get(k)
        ),
        "",
    )
    if code and message and code != message:
        return _one_line(f"{code}: {message}")
    return _one_line(code or message)


def dig(document: Any, path: str) -> Any:
    """The value at a dotted ``path`` of a JSON document (``"status.user_message"``; a number
    indexes a list: ``"errors.0.detail"``), or ``None`` when any step is missing."""
    value = document
    for step in path.split(".") if path else ():
        if isinstance(value, Mapping):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def words_at(*paths: str) -> ErrorWords:
    """An :data:`ErrorWords` hook for an API whose message sits at a dotted path: the strings
    found at ``paths`` (in that order, empty ones skipped) joined by ``": "``.

    ``words_at("status.code", "status.user_message")`` reads ``{"status": {"code": 400,
    "user_message": "Job is paused"}}`` as ``400: Job is paused``.
    """

    def words(document: Any) -> str:
        found = [dig(document, path) for path in paths]
        texts = [str(value) for value in found if isinstance(value, (str, int)) and value != ""]
        return _one_line(": ".join(texts))

    return words


def read_document(response: httpx.Response) -> Any:
    """The answer's JSON document, or ``None`` if it has none (or none that parses)."""
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _status_words(response: httpx.Response, document: Any, read_words: ErrorWords) -> str:
    """``HTTP 404 NotFound_Connector: ...`` or ``HTTP 502 Bad Gateway``."""
    try:
        words = _one_line(str(read_words(document) or ""))
    except Exception:  # a hook surprised by a shape it did not expect (an HTML error page)
        words = ""
    if not words:
        content_type = response.headers.get("content-type", "")
        if content_type.startswith("text/plain") and response.text.strip():
            words = _one_line(response.text)
        else:
            words = response.reason_phrase
    return f"HTTP {response.status_code} {words}".rstrip()


def foreign_answer(response: httpx.Response, *, service: str, doing: str) -> ApiError | None:
    """The :class:`ApiError` for an answer no JSON API gives: a redirect, or an HTML page (a
    sign-in page, a web server's default page); ``None`` for any other answer.

    Final: the base URL points somewhere else, which no retry changes. A redirect says where
    it points, since the clients follow none (a redirect would drop or leak the credentials)."""
    code = response.status_code
    article = "an" if service[:1].lower() in "aeiou" else "a"
    fix = f"not {article} {service} API answer; check --base-url"
    if 300 <= code < 400:
        where = response.headers.get("location")
        to = f" to {_one_line(where)}" if where else " without a Location"
        return ApiError(
            f"{doing}: HTTP {code} {response.reason_phrase}, redirecting{to}: {fix}",
            kind="invalid_answer",
            http_status=code,
        )
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    html = content_type in ("text/html", "application/xhtml+xml") or (
        not content_type.endswith("json") and response.content.lstrip()[:1] == b"<"
    )
    if html:
        return ApiError(
            f"{doing}: HTTP {code} with an HTML page ({content_type or 'no content type'}): {fix}",
            kind="invalid_answer",
            http_status=code,
        )
    return None


def error_for_response(
    response: httpx.Response,
    *,
    service: str,
    doing: str,
    credentials: str,
    idempotent: bool,
    run_id: str | None = None,
    words: ErrorWords = api_words,
) -> ApiError:
    """The :class:`ApiError` for an answer that is not a success.

    :param service: the API's name in messages (``Fivetran``).
    :param doing: what failed, naming the resource (``could not read connector 'orders'``).
    :param credentials: where the credentials come from, for 401/403 messages
        (``--api-key/--api-secret (FIVETRAN_API_KEY/FIVETRAN_API_SECRET)``); never their values.
    :param idempotent: repeating the call cannot repeat its effect (reads; a start the API
        deduplicates); decides whether a 5xx is retryable.
    :param words: reads the API's own words from its error document (:data:`ErrorWords`).
    """
    foreign = foreign_answer(response, service=service, doing=doing)
    if foreign is not None and response.status_code < 400:  # a redirect
        foreign.run_id = run_id
        return foreign
    code = response.status_code
    document = read_document(response)
    text = _status_words(response, document, words)
    common: dict[str, Any] = {"http_status": code, "document": document, "run_id": run_id}
    if code == 401:
        return ApiError(
            f"{doing}: {service} rejected the credentials ({text}); check {credentials}",
            kind="auth",
            **common,
        )
    if code == 403:
        return ApiError(
            f"{doing}: {service} refused access ({text}); the credentials given by "
            f"{credentials} lack the permission for this",
            kind="forbidden",
            **common,
        )
    if code == 404:
        return ApiError(f"{doing}: not found ({text})", kind="not_found", **common)
    if code == 409:
        return ConflictError(f"{doing}: {text}", kind="conflict", **common)
    if code == 429:
        wait = parse_retry_after(response.headers.get("retry-after"))
        hint = f"; {service} asked to retry after {wait:g}s" if wait is not None else ""
        return ApiError(
            f"{doing}: throttled by {service} ({text}){hint}",
            kind="throttled",
            status=RunStatus.THROTTLED,
            retryable=True,
            retry_after_s=wait,
            **common,
        )
    if code >= 500:
        if idempotent:
            return ApiError(f"{doing}: {text}", kind="server", retryable=True, **common)
        return ApiError(
            f"{doing}: {text}; {service} may have acted on the request, so it is not repeated",
            kind="server",
            **common,
        )
    return ApiError(f"{doing}: {service} refused the request ({text})", kind="client", **common)


def never_sent(exc: BaseException) -> bool:
    """No connection was made (refused, DNS, connect timeout, no free pooled connection): the
    request never left, so repeating it cannot repeat its effect."""
    import httpx

    return isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def error_for_exception(
    exc: httpx.HTTPError,
    *,
    service: str,
    base_url: str,
    doing: str,
    idempotent: bool,
    run_id: str | None = None,
) -> ApiError:
    """The :class:`ApiError` for a call that got no answer (network fault, timeout)."""
    import httpx

    reason = " ".join(str(exc).split()) or type(exc).__name__
    if never_sent(exc):
        return ApiError(
            f"{doing}: could not connect to {base_url}: {type(exc).__name__}: {reason}",
            kind="network",
            retryable=True,
            run_id=run_id,
        )
    if isinstance(exc, httpx.TransportError):
        text = f"{doing}: no answer from {service} ({type(exc).__name__}: {reason})"
        if not idempotent:
            text += f"; {service} may have acted on the request, so it is not repeated"
        return ApiError(text, kind="network", retryable=idempotent, run_id=run_id)
    return ApiError(f"{doing}: {type(exc).__name__}: {reason}", kind="network", run_id=run_id)


def start_failure(exc: ApiError) -> ApiError:
    """A run-creating call's failure, as core's stepped trigger reads it (``Runner.start``).

    A 5xx or a lost answer after the request was sent (not retryable, as the call is not
    idempotent) may have made the run: it is marked ``outcome_unknown``, so that core asks the
    provider's recovery look-up before it sends anything else. Any other failure is returned
    as it is (a throttle or a refused connection: nothing was made, core may repeat it).
    """
    if exc.kind in ("server", "network") and not exc.retryable:
        exc.outcome_unknown = True
    return exc
