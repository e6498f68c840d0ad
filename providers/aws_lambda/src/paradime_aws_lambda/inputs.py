"""The invocation's inputs, checked before any AWS call: payload, client context, limits."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from paradime.api import UsageError
from paradime.inputs import load_json, read_input

# Lambda's request limits: 6 MB for a synchronous invocation, 1 MB for an asynchronous one;
# the client context is at most 3583 bytes once base64-encoded.
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
CLIENT_CONTEXT_LIMIT = 3583
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
LOG_TYPES = ("None", "Tail")


@dataclass(frozen=True)
class Payload:
    """The request body: the user's JSON text, byte for byte, and where it came from."""

    data: bytes
    source: str


def parse_payload(value: str) -> Payload:
    """``--payload``: JSON text, sent as given."""
    load_json(value, "the payload")
    return Payload(value.encode("utf-8"), "--payload")


def parse_payload_file(path: str) -> Payload:
    """``--payload-file``: a file of JSON, or ``-`` for standard input."""
    limit = (
        f"Lambda accepts at most {SYNC_PAYLOAD_LIMIT:,} bytes for RequestResponse invocations "
        f"({ASYNC_PAYLOAD_LIMIT:,} for Event)"
    )
    read = read_input(path, SYNC_PAYLOAD_LIMIT, limit)
    load_json(read.text, read.source)
    return Payload(read.data, read.source)


def parse_client_context(value: str) -> str:
    """``--client-context``: a JSON object, returned base64-encoded as Lambda wants it."""
    document = load_json(value, "the client context")
    if not isinstance(document, dict):
        raise UsageError('must be a JSON object, e.g. {"custom": {"key": "value"}}')
    compact = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    encoded = base64.b64encode(compact).decode("ascii")
    if len(encoded) > CLIENT_CONTEXT_LIMIT:
        raise UsageError(
            f"{len(encoded)} bytes once base64-encoded; Lambda accepts at most "
            f"{CLIENT_CONTEXT_LIMIT}"
        )
    return encoded


def check_payload_size(payload: Payload | None, invocation_type: str) -> None:
    """Reject a payload Lambda would refuse for this invocation type."""
    if payload is None:
        return
    limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
    if len(payload.data) > limit:
        raise UsageError(
            f"the payload from {payload.source} is {len(payload.data):,} bytes; Lambda accepts "
            f"at most {limit:,} bytes for {invocation_type} invocations"
        )
