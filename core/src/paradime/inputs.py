"""Internal: reading what users hand a command: JSON text, files, standard input.

The one place where command input is read and parsed, for core and for providers'
``Option.parse`` functions: every error is a :class:`~paradime.api.UsageError` naming the source
and the problem, raised before any remote call, never a traceback. Standard JSON only:

* ``NaN``, ``Infinity`` and ``-Infinity`` are refused (Python's parser accepts them; they are not
  JSON, and the services' parsers refuse them);
* nesting deeper than Python's parser can follow (``[`` repeated 100,000 times) is refused;
* an integer of more than 4,300 digits is refused (Python 3.11's default limit for reading one,
  applied on every Python version and whatever ``PYTHONINTMAXSTRDIGITS`` says);
* a file or standard input is read up to a size limit and no further (``/dev/zero`` ends);
* text that is not UTF-8 (a file, or an argument holding bytes that are not UTF-8) is refused.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from paradime.api import UsageError

STDIN = "-"
MAX_INT_DIGITS = 4300


@dataclass(frozen=True)
class InputText:
    """Text read from a file or standard input: the text, its UTF-8 bytes, and its name."""

    text: str
    data: bytes
    source: str


def source_name(path: str) -> str:
    """How errors name ``path``: ``standard input`` for ``-``, else the quoted path."""
    return "standard input" if path == STDIN else f"'{path}'"


def check_text(value: str) -> str:
    """Refuse a string that is not valid Unicode text: an argument or environment variable
    holding bytes that are not UTF-8 (Python keeps them as lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(value[exc.start])
        what = (
            f"the byte 0x{code - 0xDC00:02x}"  # how Python keeps a byte it could not decode
            if 0xDC80 <= code <= 0xDCFF
            else f"U+{code:04X}, half of a surrogate pair"
        )
        raise UsageError(f"not UTF-8 text (character {exc.start + 1} is {what})") from None
    return value


def read_input(path: str, max_bytes: int, limit: str | None = None) -> InputText:
    """Read UTF-8 text from ``path``, or from standard input when ``path`` is ``-``.

    At most ``max_bytes`` are accepted, and little more is read (room for a byte order mark and
    one byte to tell), so an endless source (``/dev/zero``) cannot fill memory; ``limit`` says
    whose limit it is in the error (``"Step Functions accepts at most ..."``). A byte order
    mark is dropped (editors on Windows write one; JSON parsers refuse it).
    """
    source = source_name(path)
    try:
        if path == STDIN:
            if sys.stdin is None:  # started with standard input closed (<&-)
                raise UsageError("standard input is closed: pipe the input in, or name a file")
            stream = getattr(sys.stdin, "buffer", None)
            if stream is not None:
                raw = stream.read(max_bytes + 4)
            else:  # a text stream (tests replace sys.stdin with one)
                raw = sys.stdin.read(max_bytes + 4).encode("utf-8", "surrogateescape")
        else:
            with open(path, "rb") as handle:
                raw = handle.read(max_bytes + 4)
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror or exc}") from None
    bom = raw.startswith(b"\xef\xbb\xbf")
    data = raw[3:] if bom else raw
    if len(data) > max_bytes:
        limit = limit or f"at most {max_bytes:,} bytes are read"
        raise UsageError(f"{source} is more than {max_bytes:,} bytes; {limit}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{source} is not UTF-8 text") from None
    return InputText(text, data, source)


class _NotJson(ValueError):
    """A value Python's parser accepts and JSON does not have."""


class _TooLong(ValueError):
    """An integer of more than MAX_INT_DIGITS digits."""


def _refuse_constant(name: str) -> Any:
    raise _NotJson(name)


def _int(text: str) -> int:
    if len(text) - text.startswith("-") > MAX_INT_DIGITS:
        raise _TooLong(text)
    return int(text)


def load_json(text: str, source: str) -> Any:
    """Parse standard JSON text; the error names ``source`` and, for a syntax error, the line
    and column."""
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except _NotJson as exc:
        raise UsageError(
            f"{source} is not valid JSON: {exc} is not a JSON value (JSON has no NaN or "
            "Infinity; send a string or null)"
        ) from None
    except RecursionError:
        raise UsageError(
            f"{source} is nested too deeply: arrays and objects within each other more than "
            "Python can read"
        ) from None
    except _TooLong:
        raise UsageError(
            f"{source} holds an integer of more than {MAX_INT_DIGITS:,} digits"
        ) from None
