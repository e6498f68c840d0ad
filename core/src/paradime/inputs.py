"""Reading what users hand a command: JSON text, files, standard input.

For providers' ``Option.parse`` functions: every error is a :class:`~paradime.api.UsageError`
naming the source and the problem, raised before any remote call.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from paradime.api import UsageError


@dataclass(frozen=True)
class InputText:
    """Text read from a file or standard input: the text, its UTF-8 bytes, and its name."""

    text: str
    data: bytes
    source: str


def source_name(path: str) -> str:
    """How errors name ``path``: ``standard input`` for ``-``, else the quoted path."""
    return "standard input" if path == "-" else f"'{path}'"


def read_input(path: str) -> InputText:
    """Read UTF-8 text from ``path``, or from standard input when ``path`` is ``-``.

    A byte order mark is dropped (editors on Windows write one; JSON parsers refuse it).
    """
    source = source_name(path)
    try:
        if path == "-":
            stream = getattr(sys.stdin, "buffer", None)
            raw = stream.read() if stream is not None else sys.stdin.read().encode("utf-8")
        else:
            with open(path, "rb") as handle:
                raw = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{source} is not UTF-8 text") from None
    data = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    return InputText(text, data, source)


def load_json(text: str, source: str) -> Any:
    """Parse JSON text; the error names ``source`` and the line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
