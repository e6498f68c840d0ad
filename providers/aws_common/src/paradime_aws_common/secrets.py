"""Keeping AWS credentials out of every output, including the ones botocore obtains on its own.

Credentials from SSO, an assumed role or a ``credential_process`` expire and are replaced while a
command runs; botocore fetches the new set itself and, at debug level, logs the requests it signs
with them (``X-Amz-Security-Token``, ``Credential=``) and the answers that carried them (STS's
``<SessionToken>``, SSO's ``"sessionToken"``). Two defences, both needed:

* :func:`watch_credentials` registers every set the command's credentials hand out for signing,
  the first and each refreshed one, before the request that uses it is logged;
* :data:`SECRET_PATTERNS` mask anything shaped like a credential, whichever credentials object it
  came from (the role's source credentials, a set fetched before it was ever used to sign).

Nothing here imports botocore.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

# A quote as written in a repr (') or in JSON (" or \"), and a bytes literal's b.
_QUOTE = r"""(?:\\?["'])?"""
_VALUE_QUOTE = r"""(?:b?\\?["'])?"""
# Session tokens and secret keys: base64 (also URL-encoded); at least 16 characters, so that
# prose such as "session token: missing" is left alone.
_CREDENTIAL = r"[A-Za-z0-9+/=%_\-]{16,}"
_FIELD_NAMES = (
    r"x-amz-security-token|security[-_]?token|session[-_]?token|secret[-_]?access[-_]?key"
    r"|aws_secret_access_key|aws_session_token"
)

SECRET_PATTERNS: tuple[str, ...] = (
    # A header, a query parameter, a canonical request line, a JSON, XML or INI field:
    # 'X-Amz-Security-Token': b'...', X-Amz-Security-Token=..., x-amz-security-token:...,
    # "sessionToken":"...", <SecretAccessKey>...</SecretAccessKey>, aws_session_token = ...
    rf"(?i)(?:{_FIELD_NAMES}){_QUOTE}\s*[:=>]\s*{_VALUE_QUOTE}(?P<secret>{_CREDENTIAL})",
    # The access key id of a SigV4 credential scope: Credential=AKIA.../20240101/...
    # (also X-Amz-Credential=AKIA...%2F20240101 in a presigned URL).
    r"(?i)credential=(?P<secret>[A-Z0-9]{16,128})(?=/|%2F)",
)


def watch_credentials(credentials: Any, add_secret: Callable[[str], None]) -> None:
    """Register the secret key and session token of every set ``credentials`` hands out.

    botocore signs each request with ``credentials.get_frozen_credentials()``, which refreshes
    expiring credentials first; wrapping that method on this object sees every set as it is
    used, before the request carrying it is sent or logged.
    """
    original = credentials.get_frozen_credentials
    lock = threading.Lock()
    seen: list[Any] = []

    def get_frozen_credentials() -> Any:
        frozen = original()
        with lock:
            if seen and seen[-1] == frozen:  # the same set as last time: nothing new
                return frozen
            seen[:] = [frozen]
        add_secret(frozen.secret_key)
        if frozen.token:
            add_secret(frozen.token)
        return frozen

    credentials.get_frozen_credentials = get_frozen_credentials
