"""Internal: the per-target token of an idempotency key, and the key's option and variable.

Part of the plugin API: providers import :func:`idempotency_token` from :mod:`paradime.api`.
Pure: no I/O, nothing of paradime imported.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["IDEMPOTENCY_KEY_ENVVAR", "IDEMPOTENCY_KEY_OPTION", "idempotency_token"]

IDEMPOTENCY_KEY_OPTION = "--idempotency-key"
IDEMPOTENCY_KEY_ENVVAR = "PARADIME_IDEMPOTENCY_KEY"
# The shortest token idempotency_token makes has this many hexadecimal digits of the hash.
TOKEN_DIGEST_CHARS = 16
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def idempotency_token(
    key: str, target: str, *, max_length: int, min_length: int = 1, label: str | None = None
) -> str:
    """The token of one target's run under an idempotency key: the same key and target always
    give the same token, and different ones (in practice) never do.

    The token is ``<key>-<label>-<hash>``, made of ASCII letters, digits and ``-`` only (valid as
    a Step Functions execution name, a SageMaker client request token or display name):

    * ``<key>`` and ``<label>`` (``label`` defaults to ``target``: give the short name a user
      recognises, such as a state machine's name for its ARN) are written with every run of
      other characters as one ``-``, without ``-`` at either end; together they are cut to
      leave room for the hash, and a ``-`` left at the cut is dropped;
    * ``<hash>`` is the start of the lowercase hexadecimal SHA-256 of ``key``, a newline and
      ``target`` (the full target, whatever the label): 16 digits, or more when the token would
      be shorter than ``min_length``. It alone tells tokens apart, so keys or targets that read
      the same once shortened still get different tokens.

    ``idempotency_token("scheduled__2024-06-01T02:00:00+00:00", arn, max_length=80,
    label="nightly-load")`` is ``scheduled-2024-06-01T02-00-00-00-00-nightly-load-`` followed by
    16 hexadecimal digits.
    """
    if max_length <= TOKEN_DIGEST_CHARS + 1:
        raise ValueError(f"max_length must be above {TOKEN_DIGEST_CHARS + 1}, not {max_length}")
    digest = hashlib.sha256(f"{key}\n{target}".encode()).hexdigest()
    words = [_NOT_ALNUM.sub("-", part).strip("-") for part in (key, label or target)]
    readable = "-".join(word for word in words if word)
    readable = readable[: max_length - TOKEN_DIGEST_CHARS - 1].rstrip("-")
    size = max(TOKEN_DIGEST_CHARS, min_length - len(readable) - (1 if readable else 0))
    if size > len(digest):
        raise ValueError(f"min_length {min_length} is beyond what a token can reach")
    return f"{readable}-{digest[:size]}" if readable else digest[:size]
