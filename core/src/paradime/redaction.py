"""Internal: redaction, what keeps secrets out of every line paradime writes.

:data:`REDACTOR` replaces the values of secret options (and any value a provider adds, such as
credentials resolved from a profile), every spelling a line may give them
(:func:`written_forms`), a URL's password, and whatever a provider's patterns match (credentials a
library obtains on its own), with ``****``. :mod:`paradime.log` passes every line through it, on
the final text, so a secret cannot escape through a library's debug log, an exception message or
a repr; a JSON result is redacted value by value (:func:`json_safe`), never its keys.
Pure but for the registry's lock: nothing of paradime imported.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any


class Redactor:
    """Replaces registered secret values, and text matching registered patterns, in text."""

    MASK = "****"

    def __init__(self) -> None:
        self._secrets: list[str] = []
        self._patterns: list[re.Pattern[str]] = []
        self._lock = threading.Lock()

    def add(self, value: object) -> None:
        # Very short values would mask ordinary text; real secrets are long.
        if not isinstance(value, str) or len(value) < 4:
            return
        with self._lock:
            new = [form for form in written_forms(value) if form not in self._secrets]
            if new:
                # A new list, so that a line being redacted meanwhile reads a whole one.
                self._secrets = sorted([*self._secrets, *new], key=len, reverse=True)

    def add_pattern(self, pattern: str) -> None:
        """Mask what ``pattern`` matches: its group named ``secret`` when it has one (so
        ``Token: (?P<secret>\\S+)`` keeps the word ``Token:``), else the whole match."""
        compiled = re.compile(pattern)
        with self._lock:
            if all(known.pattern != compiled.pattern for known in self._patterns):
                self._patterns = [*self._patterns, compiled]

    def clear(self) -> None:
        with self._lock:
            self._secrets = []
            self._patterns = []

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, self.MASK)
        if "@" in text:  # a password in a URL (http://user:pw@host), however short
            text = URL_PASSWORD.sub(self._masked, text)
        for pattern in self._patterns:
            text = pattern.sub(self._masked, text)
        return text

    def _masked(self, match: re.Match[str]) -> str:
        if "secret" not in match.re.groupindex or match.start("secret") < 0:
            return self.MASK
        start, end = match.start("secret") - match.start(), match.end("secret") - match.start()
        whole = match.group()
        return whole[:start] + self.MASK + whole[end:]


REDACTOR = Redactor()
# The password of a URL's userinfo; the user name is not a secret and stays readable.
URL_PASSWORD = re.compile(r"(?<=://)[^\s/?#@:]*:(?P<secret>[^\s/?#@]+)@")


def add_url_password(value: object) -> None:
    """Register the password of a URL's userinfo (``http://user:pw@host``) as a secret, in
    the spellings other lines may use (percent-decoded)."""
    if not isinstance(value, str) or "@" not in value:
        return
    import urllib.parse

    try:
        password = urllib.parse.urlsplit(value.strip()).password
    except ValueError:
        return
    if password:
        REDACTOR.add(password)
        REDACTOR.add(urllib.parse.unquote(password))


def written_forms(secret: str) -> set[str]:
    """The ways a line can spell ``secret``: as is, in a ``repr`` of it or of its bytes (how
    libraries log header values), and each of those escaped in a JSON string (JSON log lines)."""
    plain = {secret, repr(secret)[1:-1]}
    for encoding in ("utf-8", "latin-1"):
        try:
            plain.add(repr(secret.encode(encoding))[2:-1])
        except UnicodeEncodeError:
            pass
    forms = set(plain)
    for form in plain:
        forms.add(json.dumps(form)[1:-1])
        forms.add(json.dumps(form, ensure_ascii=False)[1:-1])
    return {form for form in forms if len(form) >= 4}


_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def json_safe(value: Any, redact: Callable[[str], str] | None = None) -> Any:
    """A copy of ``value`` (a JSON document to be) with non-finite floats named (``"NaN"``,
    ``"Infinity"``, ``"-Infinity"``: JSON has no others) and, with ``redact``, its strings
    redacted one by one: values, never keys, so that a short secret that is also a word never
    rewrites the document's shape. Iterative, for deeply nested answers."""
    if isinstance(value, float):
        return _NON_FINITE.get(repr(value), value)
    if isinstance(value, str):
        return redact(value) if redact is not None else value
    if not isinstance(value, (dict, list, tuple)):
        return value
    root: Any = {} if isinstance(value, dict) else []
    stack = [(value, root)]
    while stack:
        source, copy = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in items:
            if isinstance(item, (dict, list, tuple)):
                inner: Any = {} if isinstance(item, dict) else []
                stack.append((item, inner))
                item = inner
            elif isinstance(item, float):
                item = _NON_FINITE.get(repr(item), item)
            elif isinstance(item, str) and redact is not None:
                item = redact(item)
            if isinstance(copy, dict):
                copy[key] = item
            else:
                copy.append(item)
    return root
