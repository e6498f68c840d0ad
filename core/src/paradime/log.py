"""Logging, configured once per process: structlog for paradime, the stdlib for libraries.

Every line written to stderr or stdout passes through :data:`REDACTOR`, which replaces the values
of secret options (and any value a provider adds, such as credentials resolved from a profile),
and whatever a provider's patterns match (credentials a library obtains on its own), with
``****``. Redaction works on the final text, so a secret cannot escape through a library's
debug log, an exception message or a repr.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from datetime import datetime
from typing import IO, Any

LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("console", "json")


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


def resolve_level(option: str | None) -> str:
    """Level from the option, then PARADIME_LOG_LEVEL, then PYTHONLOGLEVEL, then info."""
    for candidate in (
        option,
        os.environ.get("PARADIME_LOG_LEVEL"),
        os.environ.get("PYTHONLOGLEVEL"),
    ):
        if candidate:
            value = candidate.strip().lower()
            if value == "warn":
                value = "warning"
            if value == "critical":
                value = "error"
            if value in LEVELS:
                return value
    return "info"


def resolve_format(option: str | None) -> str:
    for candidate in (option, os.environ.get("PARADIME_LOG_FORMAT")):
        if candidate and candidate.strip().lower() in FORMATS:
            return candidate.strip().lower()
    return "console"


def use_colour(stream: IO[str]) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    if "NO_COLOR" in os.environ:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


_LEVEL_EMOJI = {"debug": "🔍", "info": "ℹ️ ", "warning": "⚠️ ", "error": "❌", "critical": "❌"}
_COLOURS = {"warning": "\x1b[33m", "error": "\x1b[31m", "critical": "\x1b[31m", "debug": "\x1b[2m"}
_RESET = "\x1b[0m"
# Fields the console line already says (the emoji is the status) or that never vary in a run;
# JSON lines keep them.
_CONSOLE_HIDDEN = frozenset({"command", "status"})


class ConsoleRenderer:
    """``HH:MM:SS <emoji> [target] message key=value``: the progress line format."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, logger: Any, method_name: str, event_dict: dict[str, Any]) -> str:
        level = event_dict.pop("level", method_name)
        event_dict.pop("timestamp", None)
        emoji = event_dict.pop("emoji", None) or _LEVEL_EMOJI.get(level, "")
        target = event_dict.pop("target", None)
        message = str(event_dict.pop("event", ""))
        exc = event_dict.pop("exception", None)
        logger_name = event_dict.pop("logger", None)
        parts = [datetime.now().strftime("%H:%M:%S"), emoji]
        if target is not None:
            parts.append(f"[{target}]")
        elif logger_name and level == "debug":
            parts.append(f"[{logger_name}]")
        parts.append(message)
        extras = " ".join(
            f"{k}={v}"
            for k, v in event_dict.items()
            if not k.startswith("_") and k not in _CONSOLE_HIDDEN
        )
        if extras:
            parts.append(extras)
        line = " ".join(p for p in parts if p)
        if exc:
            line += "\n" + str(exc)
        if self.colour and level in _COLOURS:
            line = f"{_COLOURS[level]}{line}{_RESET}"
        return line


class _Redacting:
    """Wraps the final renderer so its output is redacted."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, logger: Any, method_name: str, event_dict: Any) -> str:
        return REDACTOR(str(self.inner(logger, method_name, event_dict)))


class _StreamLogger:
    """A minimal thread-safe structlog logger writing whole lines to a stream."""

    def __init__(self, stream: IO[str], lock: threading.Lock) -> None:
        self.stream = stream
        self.lock = lock

    def msg(self, message: str) -> None:
        with self.lock:
            try:
                self.stream.write(message + "\n")
                self.stream.flush()
            except (BrokenPipeError, ValueError):
                pass

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


_WRITE_LOCK = threading.Lock()
_config: dict[str, Any] = {"level": "info", "format": "console", "colour": False}


def configure(
    level: str | None = None, fmt: str | None = None, stream: IO[str] | None = None
) -> None:
    """Configure structlog and the stdlib root logger. Later calls reconfigure."""
    import structlog

    stream = stream or sys.stderr
    level_name = resolve_level(level)
    fmt_name = resolve_format(fmt)
    colour = fmt_name == "console" and use_colour(stream)
    _config.update(level=level_name, format=fmt_name, colour=colour, stream=stream)
    numeric = getattr(logging, level_name.upper())

    renderer: Any
    if fmt_name == "json":
        renderer = structlog.processors.JSONRenderer(default=str)
    else:
        renderer = ConsoleRenderer(colour)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, _Redacting(renderer)],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=lambda *args: _StreamLogger(stream, _WRITE_LOCK),
        cache_logger_on_first_use=False,
    )

    # Libraries (botocore, urllib3) log through the stdlib: same renderer, same redaction.
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _Redacting(renderer),
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_paradime", False):
            root.removeHandler(old)
    handler._paradime = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    # Library INFO chatter ("Found credentials in ...") is noise unless debugging.
    root.setLevel(numeric if level_name == "debug" else max(numeric, logging.WARNING))


def get_logger(**bind: Any) -> Any:
    import structlog

    return structlog.get_logger("paradime").bind(**bind)


def is_console() -> bool:
    return bool(_config["format"] == "console")


def colour_enabled() -> bool:
    return _config["colour"] is True


def write_stderr(text: str) -> None:
    """Raw console text (banners, sections) on stderr, redacted; only for console logs at
    info level or below (they are progress, like info lines)."""
    if not is_console() or _config["level"] not in ("debug", "info"):
        return
    stream = _config.get("stream") or sys.stderr
    with _WRITE_LOCK:
        try:
            stream.write(REDACTOR(text) + "\n")
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass


def write_stdout(text: str) -> None:
    """The command's result on stdout, redacted."""
    try:
        sys.stdout.write(REDACTOR(text) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass
