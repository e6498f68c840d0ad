"""AWS errors to run statuses: what is retried, what is final, and how it reads.

* Throttles (``ThrottlingException``, ``TooManyRequestsException``...) are retryable: AWS did not
  act on the request. They end ``THROTTLED`` only when the retries are exhausted.
* A poll that hit a 5xx or a network fault (any of botocore's network error classes: TLS, proxy,
  connection, streaming, timeouts) is retryable: polls change nothing remotely.
* A trigger that hit a 5xx or a read timeout is NOT retried by core when the provider says it may
  have reached the service (a Lambda invoke): see each provider.
* A call whose connection was never made (a refused connection, a failed DNS lookup, a connect
  timeout, an unreachable proxy) sent nothing: retryable, whether or not the call is idempotent.
* Credentials and permission errors are final: retrying cannot fix them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from paradime.api import RunError, RunStatus

# What every AWS provider catches around a boto3 call: an answer AWS gave (ClientError) or a
# fault on the way (BotoCoreError: network, credentials, parameter validation). Anything else
# is a bug, left to core, which reports it as the target's ERROR row, never as a traceback.
AWS_ERRORS = (BotoCoreError, ClientError)
# "Did an earlier attempt make this run?": a run stamped by AWS up to this much before the
# local clock's moment is taken as made at that moment. AWS refuses a request signed with a
# clock more than 5 minutes off (SigV4's RequestTimeTooSkewed), so no answer can come from
# a skew beyond it.
CLOCK_SKEW = timedelta(minutes=5)

THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "LimitExceededException",
        "EC2ThrottledException",
        "PriorRequestNotComplete",
    }
)
AUTH_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "AccessDenied",
        "AccessDeniedException",
        "AuthFailure",
        "MissingAuthenticationToken",
        "IncompleteSignature",
        "NotAuthorized",
    }
)

# A call refused by IAM: for an optional call (one that only adds detail), a reason to go on
# without it.
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException"})


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def http_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return int(status) if status else None
    return None


def request_id(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        rid = response.get("ResponseMetadata", {}).get("RequestId")
        return str(rid) if rid else None
    return None


def describe(exc: BaseException) -> str:
    """``Code: message`` for AWS errors; the exception's own words otherwise."""
    code = error_code(exc)
    if code is not None:
        response: dict[str, Any] = getattr(exc, "response", {})
        message = response.get("Error", {}).get("Message") or ""
        return f"{code}: {message}".rstrip(": ").strip()
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def is_throttle(exc: BaseException) -> bool:
    return error_code(exc) in THROTTLE_CODES or http_status(exc) == 429


def is_auth(exc: BaseException) -> bool:
    return error_code(exc) in AUTH_CODES


def is_transient(exc: BaseException) -> bool:
    """5xx answers and network faults: the request may or may not have been processed.

    Network faults are botocore's classes, which wrap urllib3's and the socket's:
    ``HTTPClientError`` (``ConnectionClosedError``, ``ReadTimeoutError``,
    ``ResponseStreamingError`` and any other failure of the HTTP exchange) and botocore's own
    ``ConnectionError`` (``EndpointConnectionError``, ``ConnectTimeoutError``, ``SSLError``,
    ``ProxyConnectionError``), not Python's built-in ``ConnectionError``.
    """
    status = http_status(exc)
    if status is not None:
        return status >= 500
    try:
        from botocore.exceptions import ConnectionError as NetworkError
        from botocore.exceptions import HTTPClientError
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return False
    from urllib3.exceptions import ProtocolError

    # ProtocolError: a streamed body (Lambda's Payload) read after botocore handed it over.
    return isinstance(exc, (HTTPClientError, NetworkError, ProtocolError))


def never_sent(exc: BaseException) -> bool:
    """No connection was made, so the request never left (refused, DNS failure, connect
    timeout, a proxy that could not be reached): repeating it cannot repeat its effect.

    A TLS failure (``SSLError``) is not counted: it may come after the request was written.
    """
    try:
        from botocore.exceptions import (
            ConnectTimeoutError,
            EndpointConnectionError,
            ProxyConnectionError,
        )
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return False
    import urllib3

    if isinstance(exc, ProxyConnectionError):
        # urllib3 2 reports a proxy error only when the proxy was never reached; urllib3 1
        # also for a connection that failed after the request was sent through it.
        return int(urllib3.__version__.split(".")[0]) >= 2  # type: ignore[attr-defined]
    return isinstance(exc, (EndpointConnectionError, ConnectTimeoutError))


def to_run_error(
    exc: BaseException,
    *,
    subject: str | None = None,
    idempotent: bool = True,
    run_id: str | None = None,
    start: bool = False,
) -> RunError:
    """Map an exception from a boto3 call to a :class:`RunError`.

    :param subject: what the call was about, to prefix the message (``function 'x'``).
    :param idempotent: False for a call that could start a second run if repeated after a
        5xx or a timeout; then only throttles and calls that were never sent are retryable.
    :param start: the call is a run-creating start (``Runner.start``): a 5xx or a network
        fault after sending is an unknown outcome (``outcome_unknown``), for core to recover.
    """
    text = describe(exc)
    if subject:
        text = f"{subject}: {text}"
    rid = request_id(exc)
    details = {"aws_error_code": error_code(exc)} if error_code(exc) else {}
    if rid:
        details["aws_request_id"] = rid
    if is_throttle(exc):
        return RunError(
            text, status=RunStatus.THROTTLED, retryable=True, run_id=run_id, details=details
        )
    if is_auth(exc):
        return RunError(text, status=RunStatus.ERROR, run_id=run_id, details=details)
    if is_transient(exc):
        sent_nothing = never_sent(exc)
        return RunError(
            text,
            status=RunStatus.ERROR,
            retryable=(idempotent and not start) or sent_nothing,
            run_id=run_id,
            details=details,
            outcome_unknown=start and not sent_nothing,
        )
    return RunError(text, status=RunStatus.ERROR, run_id=run_id, details=details)
