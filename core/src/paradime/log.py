"""Internal: logging, configured once per process: paradime's lines, and libraries' (stdlib).

Console lines (the default) are rendered here, by :class:`ConsoleRenderer`; JSON lines go through
structlog's processors and JSON renderer. structlog is imported only when JSON lines are asked
for: importing it imports its stdlib integration and asyncio with it, a tenth of the start of a
short run, for nothing the console format uses. :func:`get_logger` gives the same bound-logger
interface either way (``bind``, ``debug`` ... ``error`` with key/value fields, ``exc_info``).

Every line written to stderr or stdout passes through
:data:`paradime.redaction.REDACTOR` (the secrets and patterns live there), on the final text.
"""

from __future__ import annotations

import codecs
import functools
import logging
import os
import sys
import threading
from datetime import datetime
from typing import IO, Any

from paradime.redaction import REDACTOR

LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("console", "json")


class _NoHeaders(logging.Filter):
    """Libraries' debug lines that list response headers (httpcore's trace of
    ``receive_response_headers``, botocore's ``Response headers``) keep their event, not the
    headers: a ``Set-Cookie`` or a token a service sends back is never written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(("httpcore", "httpx", "botocore", "urllib3")):
            return True
        message = record.getMessage()
        head, found, _ = message.partition(" return_value=")
        if found and "headers" in head:
            record.msg, record.args = f"{head} (headers not shown)", ()
        elif message.startswith("Response headers:"):
            record.msg, record.args = "Response headers not shown", ()
        return True


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
    """A minimal thread-safe logger for structlog (JSON lines), writing whole lines."""

    def __init__(self, stream: IO[str], lock: threading.Lock) -> None:
        self.stream = stream
        self.lock = lock

    def msg(self, message: str) -> None:
        write_to(self.stream, message + "\n")

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


_WRITE_LOCK = threading.Lock()
_config: dict[str, Any] = {"level": "info", "format": "console", "colour": False}


_LEVEL_NUMBERS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


def _exception_text(exc_info: Any) -> str | None:
    """The traceback text of ``exc_info`` (an exception, an exc_info tuple, or True for the one
    being handled), as structlog's ``format_exc_info`` writes it."""
    import traceback

    if exc_info is True:
        exc_info = sys.exc_info()
    if isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if not isinstance(exc_info, tuple) or exc_info[0] is None:
        return None
    return "".join(traceback.format_exception(*exc_info)).rstrip("\n")


class BoundLogger:
    """paradime's logger: key/value fields bound to every line; the format is the one
    configured when a line is written (console here, JSON through structlog)."""

    def __init__(self, context: dict[str, Any]) -> None:
        self._context = context

    def bind(self, **fields: Any) -> BoundLogger:
        return BoundLogger({**self._context, **fields})

    def _log(self, level: str, event: Any, fields: dict[str, Any]) -> None:
        if _LEVEL_NUMBERS[level] < _LEVEL_NUMBERS[_config["level"]]:
            return
        if _config["format"] == "json":
            import structlog

            getattr(structlog.get_logger("paradime").bind(**self._context), level)(event, **fields)
            return
        event_dict = {**self._context, **fields, "event": event}
        exc_info = event_dict.pop("exc_info", None)
        if exc_info:
            event_dict["exception"] = _exception_text(exc_info)
        _write_line(REDACTOR(ConsoleRenderer(colour_enabled())(None, level, event_dict)))

    def debug(self, event: Any, **fields: Any) -> None:
        self._log("debug", event, fields)

    def info(self, event: Any, **fields: Any) -> None:
        self._log("info", event, fields)

    def warning(self, event: Any, **fields: Any) -> None:
        self._log("warning", event, fields)

    warn = warning

    def error(self, event: Any, **fields: Any) -> None:
        self._log("error", event, fields)

    def critical(self, event: Any, **fields: Any) -> None:
        self._log("critical", event, fields)

    def exception(self, event: Any, **fields: Any) -> None:
        fields.setdefault("exc_info", True)
        self._log("error", event, fields)


def _write_line(line: str) -> None:
    write_to(_config.get("stream") or sys.stderr, line + "\n")


# What a stream that cannot encode emoji (PYTHONIOENCODING=ascii, LC_ALL=C) reads instead.
EMOJI_WORDS = {
    "✅": "OK",
    "❌": "ERROR",
    "⏰": "TIMEOUT",
    "🛑": "STOP",
    "⚠️": "WARNING",
    "⚠": "WARNING",
    "🚀": "START",
    "🔄": "RUNNING",
    "🔗": "ATTACHED",
    "📝": "NOTE",
    "⚡": "",
    "ℹ️": "INFO",
    "ℹ": "INFO",
    "🔍": "DEBUG",
    "🐢": "SLOW",
    "📊": "",
    "📋": "",
    "🐙": "",
    "🧠": "",
    "🔀": "",
    "📜": "",
    "…": "...",
    "→": "->",
    "≤": "<=",
}
# The exit code of a command whose result could not be written to standard output (closed, or
# a full disk): the runs happened, their ids are on stderr (sysexits' EX_IOERR).
OUTPUT_LOST_EXIT = 74
_lost: dict[str, str] = {}


def encodable(text: str, stream: Any) -> str:
    """``text`` as ``stream``'s encoding can carry it: emoji become words, any other character
    it has no code for becomes ``?``."""
    encoding = _codec(getattr(stream, "encoding", None) or "utf-8")
    if encoding.startswith("utf"):
        return text
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        pass
    for emoji, word in EMOJI_WORDS.items():
        text = text.replace(emoji, word)
    # Stripped: a word replaced an emoji at the start of a heading ("📊 RESULTS").
    lines = (line.strip(" ") if line[:1] == " " else line for line in text.split("\n"))
    return "\n".join(lines).encode(encoding, "replace").decode(encoding)


@functools.lru_cache(maxsize=8)
def _codec(encoding: str) -> str:
    """The codec's own name (``ANSI_X3.4-1968`` is ``ascii``); ASCII for an unknown one."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return "ascii"


def can_encode(text: str, stream: Any) -> bool:
    """True when ``stream`` (or standard output, when None) can write ``text`` as it is."""
    return encodable(text, stream) == text


def write_to(stream: Any, text: str, *, result: bool = False) -> bool:
    """Write ``text`` to ``stream`` and flush it, in what its encoding can carry. Never raises:
    a pipe closed by its reader (``| head``) is ignored; a stream that cannot be written (closed,
    ``>&-``; a full disk, ``>/dev/full``) is remembered when it held the ``result``
    (:func:`output_lost`). False when the text did not reach it."""
    with _WRITE_LOCK:
        try:
            if stream is None:
                raise OSError("it is closed")
            stream.write(encodable(text, stream))
            stream.flush()
            return True
        except BrokenPipeError:
            return False
        except (OSError, ValueError) as exc:
            if result:
                _lost.setdefault("stdout", getattr(exc, "strerror", None) or str(exc) or "closed")
            return False


def output_lost() -> str | None:
    """Why standard output could not be written, when it could not; else None."""
    return _lost.get("stdout")


def report_lost_output(run_ids: str = "") -> bool:
    """When the result could not be written to standard output, say so once on stderr, with
    ``run_ids`` (what a scheduler needs to find the runs); True when it could not."""
    lost = output_lost()
    if lost is None:
        return False
    if not _lost.get("reported"):
        _lost["reported"] = "yes"
        ids = f"; run ids: {run_ids}" if run_ids else ""
        write_error(
            f"Error: the result could not be written to standard output ({lost}); "
            f"exit {OUTPUT_LOST_EXIT}{ids}"
        )
    return True


def write_error(text: str) -> None:
    """One line on stderr, redacted, whatever the log settings (errors, usage errors)."""
    write_to(sys.stderr, REDACTOR(text) + "\n")


class _SafeStream:
    """The stream of library log records: :func:`write_to` (never a "Logging error")."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.encoding = getattr(stream, "encoding", None)

    def write(self, text: str) -> None:
        write_to(self.stream, text)

    def flush(self) -> None:
        pass


class _ConsoleFormatter(logging.Formatter):
    """Library records (botocore, urllib3) as console lines, like paradime's own."""

    def format(self, record: logging.LogRecord) -> str:
        event_dict: dict[str, Any] = {"event": record.getMessage(), "logger": record.name}
        if record.exc_info:
            event_dict["exception"] = _exception_text(record.exc_info)
        level = record.levelname.lower()
        return REDACTOR(ConsoleRenderer(colour_enabled())(None, level, event_dict))


def _json_formatter(stream: IO[str], numeric: int) -> logging.Formatter:
    """Configure structlog for JSON lines; the formatter of library records."""
    import structlog

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = _Redacting(structlog.processors.JSONRenderer(default=str))
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=lambda *args: _StreamLogger(stream, _WRITE_LOCK),
        cache_logger_on_first_use=False,
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )


def configure(
    level: str | None = None, fmt: str | None = None, stream: IO[str] | None = None
) -> None:
    """Configure paradime's lines and the stdlib root logger. Later calls reconfigure."""
    stream = stream or sys.stderr
    _lost.clear()  # a command run in-process after another (tests) starts with its own output
    level_name = resolve_level(level)
    fmt_name = resolve_format(fmt)
    colour = fmt_name == "console" and use_colour(stream)
    _config.update(level=level_name, format=fmt_name, colour=colour, stream=stream)
    numeric = getattr(logging, level_name.upper())
    formatter = _json_formatter(stream, numeric) if fmt_name == "json" else _ConsoleFormatter()

    # Libraries (botocore, urllib3) log through the stdlib: same renderer, same redaction.
    handler = logging.StreamHandler(_SafeStream(stream))
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_paradime", False):
            root.removeHandler(old)
    handler.addFilter(_NoHeaders())
    handler._paradime = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    # Library INFO chatter ("Found credentials in ...") is noise unless debugging.
    root.setLevel(numeric if level_name == "debug" else max(numeric, logging.WARNING))


def get_logger(**bind: Any) -> BoundLogger:
    """A logger with ``bind`` fields on every line (``get_logger(command=...)``)."""
    return BoundLogger(dict(bind))


def is_console() -> bool:
    return bool(_config["format"] == "console")


def colour_enabled() -> bool:
    return _config["colour"] is True


def write_stderr(text: str) -> None:
    """Raw console text (banners, sections) on stderr, redacted; only for console logs at
    info level or below (they are progress, like info lines)."""
    if not is_console() or _config["level"] not in ("debug", "info"):
        return
    write_to(_config.get("stream") or sys.stderr, REDACTOR(text) + "\n")


def write_stdout(text: str, *, redacted: bool = False) -> None:
    """The command's result on stdout, redacted (``redacted``: its values already were, one by
    one, so that the document's keys and the command's own words stay as written)."""
    write_to(sys.stdout, (text if redacted else REDACTOR(text)) + "\n", result=True)
