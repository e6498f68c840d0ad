"""What the user reads: progress on stderr, the result on stdout.

Progress, for a trigger command: a banner with the command's heading; for each target, as its
trigger call starts, a ``[i/n] <emoji> target`` block with its ``HH:MM:SS <emoji> [target]
message`` lines (structlog events, so ``--log-format json`` turns them into JSON lines); then a
LIVE PROGRESS section for the runs being waited for, with a "Running..." line now and then
rather than one per poll. The words that name a provider's own things (its heading, trigger
lines, results title, first column) come from the command's :class:`~paradime.api.TriggerDisplay`.
The result is a table, or with ``--json`` one JSON document with the same keys for every provider.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import textwrap
import threading
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from paradime import log
from paradime.api import Column, ListDisplay, RunResult, RunState, RunStatus, TriggerDisplay

# The console's status words and emojis (the JSON keeps the RunStatus values).
STATUS_EMOJI = {
    RunStatus.SUCCEEDED: "✅",
    RunStatus.FAILED: "❌",
    RunStatus.TIMED_OUT: "⏰",
    RunStatus.STOPPED: "🛑",
    RunStatus.THROTTLED: "⚠️",
    RunStatus.ERROR: "❌",
    RunStatus.STARTED: "🚀",
    RunStatus.RUNNING: "🔄",
}
STATUS_WORD = {status: status.value for status in RunStatus} | {RunStatus.SUCCEEDED: "SUCCESS"}
RULE = "=" * 60
TARGET_RULE = "-" * 40
# The results table: the first column is at least this wide (longer targets widen it up to the
# maximum, then get a line of their own), the status column this wide.
TARGET_WIDTH = 40
TARGET_WIDTH_MAX = 60
STATUS_WIDTH = 15
# The last column (run id, error) gets the rest of the terminal, and at least this much: a
# line may then be wider than a narrow terminal, but a run id keeps its output preview beside it.
DETAIL_WIDTH_MIN = 60
# Runs named one by one in a "Running..." report; above this, one summary line.
STILL_RUNNING_DETAIL_LIMIT = 10
# "Running..." reports: this often for the first LATER_AFTER seconds, then every LATER_EVERY.
STILL_RUNNING_EVERY_S = 30.0
STILL_RUNNING_LATER_AFTER_S = 300.0
STILL_RUNNING_LATER_EVERY_S = 300.0
# The narrowest room beside a run id for a preview of the output ("output: x…"); else below it.
OUTPUT_PREVIEW_MIN = 10


def format_duration(seconds: float | None) -> str:
    """A duration for the results table: ``0.4s``, ``1m 39s``, ``2h 05m``."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def format_clock(seconds: float | None) -> str:
    """A duration for progress lines, as the spec writes it: ``0m 30s``, ``1h 2m 5s``."""
    if seconds is None:
        return "-"
    hours, rest = divmod(max(0, round(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes}m {secs}s" if hours else f"{minutes}m {secs}s"


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


# The line of a run the trigger found instead of starting (RunState.attached).
ATTACHED = "Attached: {run_id}"


def fill(template: str, **fields: Any) -> str:
    """``template`` with the fields it names filled in; unknown fields stay as written."""
    try:
        return template.format_map(_Fields(fields))
    except (ValueError, IndexError, AttributeError, TypeError):
        return template


def _ellipsis(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def display_width(text: str) -> int:
    """Terminal columns of ``text``: wide characters and emoji presentation count two."""
    width = 0
    for i, char in enumerate(text):
        if char == "\ufe0f" or unicodedata.combining(char):
            continue
        wide = unicodedata.east_asian_width(char) in "WF"
        emoji = i + 1 < len(text) and text[i + 1] == "\ufe0f"
        width += 2 if wide or emoji else 1
    return width


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def status_cell(status: RunStatus, emoji: bool = True) -> str:
    """``✅ SUCCESS``: the console's word for a status (the word alone without ``emoji``)."""
    return f"{STATUS_EMOJI[status]} {STATUS_WORD[status]}" if emoji else STATUS_WORD[status]


def stdout_has_emoji() -> bool:
    """Whether standard output's encoding holds the status emojis (not under
    ``PYTHONIOENCODING=ascii`` or a C locale): else the table says words alone."""
    import sys

    return log.can_encode("".join(STATUS_EMOJI.values()), sys.stdout)


class Reporter:
    """Progress for one trigger command. Thread-safe: workers report triggers as they start.

    :param display: the command's words (its heading, trigger lines, error label...).
    :param params: the command's option values, for the display's templates.
    :param wait: False under ``--no-wait-for-completion``.
    """

    def __init__(
        self,
        command: str,
        emoji: str = "🚀",
        *,
        display: TriggerDisplay | None = None,
        params: Mapping[str, Any] | None = None,
        wait: bool = True,
    ) -> None:
        self.command = command
        self.emoji = emoji
        self.display = display or TriggerDisplay()
        self.params = {k: "" if v is None else v for k, v in (params or {}).items()}
        self.wait = wait
        self.logger = log.get_logger(command=command)
        self.lock = threading.RLock()
        self.next_progress_at = float("inf")
        self._progress_every = STILL_RUNNING_EVERY_S
        self._index: dict[str, int] = {}
        self._answered: set[str] = set()  # the trigger call answered (or the run ended)
        self._waited: set[str] = set()  # went on remotely after its trigger call
        self._ended: set[str] = set()
        self._live = False  # the LIVE PROGRESS section is open
        self._deadline_minutes: str | None = None

    # -- sections -----------------------------------------------------------------------
    def banner(self, targets: Sequence[str], description: str | None = None) -> None:
        """The command's heading; each target's block follows when its trigger starts."""
        self._index = {target: i for i, target in enumerate(targets, 1)}
        heading = description or fill(
            self.display.heading, command=self.command, count=len(targets)
        )
        log.write_stderr(f"\n{RULE}\n{heading}\n{RULE}")

    def live_progress(self) -> None:
        """The engine starts waiting. The LIVE PROGRESS section opens once every trigger call
        has answered while a run goes on remotely, or before the first "Running..." report,
        whichever comes first; a command whose runs all ended in their trigger call
        (synchronous invocations) has none."""

    def _open_live(self) -> None:
        with self.lock:
            if self._live or not self.wait:
                return
            self._live = True
            log.write_stderr(f"\n{RULE}\n⚡ LIVE PROGRESS\n{RULE}\n")

    def _answer(self, target: str) -> None:
        self._answered.add(target)
        if len(self._answered) >= len(self._index) and self._waited - self._ended:
            self._open_live()

    def start_clock(self, now: float) -> None:
        self.next_progress_at = now + self._progress_every

    # -- events -------------------------------------------------------------------------
    def triggering(self, target: str) -> None:
        fields = {**self.params, "target": target}
        with self.lock:
            index = self._index.get(target)
            if index is not None:
                log.write_stderr(
                    f"\n[{index}/{len(self._index)}] {self.emoji} {target}\n{TARGET_RULE}"
                )
            self.logger.info(fill(self.display.trigger, **fields), target=target, emoji="🚀")
            for line in self.display.details:
                self.logger.info(fill(line, **fields), target=target, emoji="📝")

    def triggered(self, target: str, state: RunState) -> None:
        template = self.display.started
        emoji = "✅"
        if state.attached:  # found under the idempotency key (or joined): nothing was started
            template, emoji = ATTACHED, "🔗"
        extra: dict[str, Any] = {}
        if state.run_id and "{run_id}" not in template:
            extra["run_id"] = state.run_id
        with self.lock:
            self._waited.add(target)
            self.logger.info(
                fill(template, target=target, run_id=state.run_id or "-"),
                target=target,
                emoji=emoji,
                **extra,
            )
            self._answer(target)

    def message(self, target: str, message: str) -> None:
        self.logger.info(message, target=target, emoji="🔄")

    def retrying(self, target: str, reason: str, delay: float, attempt: int) -> None:
        self.logger.warning(
            f"{reason}; retrying in {delay:.1f}s (attempt {attempt + 1})", target=target, emoji="⚠️"
        )

    def poll_failed(self, target: str, reason: str, delay: float, failures: int) -> None:
        self.logger.warning(
            f"status check failed ({failures} in a row): {reason}; retrying in {delay:.1f}s",
            target=target,
        )

    def poll_budget(
        self, *, waiting: int, rate: float, keeps: int, every_s: float, interval_s: float
    ) -> None:
        """More runs wait than ``--poll-rate`` can check every ``interval_s``: said once."""
        self.logger.warning(
            f"{waiting} runs to wait for, more than {keeps} (what --poll-rate {rate:g} checks "
            f"every {interval_s:g} s): each run is checked about every {every_s:.0f} s, so its "
            f"end may be reported up to that late. Raise --poll-rate if the service's quota "
            "allows more status checks a second.",
            emoji="🐢",
        )

    def unexpected(self, target: str, exc: BaseException) -> None:
        # The traceback helps a provider author; users see the one-line error in the result.
        self.logger.debug("unexpected error", target=target, exc_info=exc)

    def _error_code(self, result: RunResult) -> str | None:
        key = self.display.error_code_key
        code = result.details.get(key) if key else None
        return str(code) if code else None

    def _finished_text(self, result: RunResult) -> str | None:
        """The console line of a run's end, the spec's words first, then the product's detail."""
        status, error = result.status, result.error
        took = format_clock(result.duration_s)
        detail = f" - {error}" if error else ""
        if status is RunStatus.SUCCEEDED:
            # Under LIVE PROGRESS, the spec's words, whether or not its trigger call answered.
            if result.target in self._waited or self._live:
                return f"Completed successfully ({took})"
            return f"{fill(self.display.succeeded_at_trigger, target=result.target)} ({took})"
        if status is RunStatus.ERROR:
            code = self._error_code(result)
            if code:
                return f"{self.display.error_label}: {code}{detail}"
            return f"Error: {error or 'unknown error'}"
        if status is RunStatus.THROTTLED:
            code = self._error_code(result)
            return f"THROTTLED ({code}){detail}" if code else f"THROTTLED{detail}"
        if status is RunStatus.TIMED_OUT:
            if self._deadline_minutes is not None:
                return fill(self.display.timeout, minutes=self._deadline_minutes) + detail
            return f"Timed out ({took}){detail}"
        if status is RunStatus.STARTED:
            # Not waited for: its start was said already. Waited for: it could not be followed.
            return f"Started; {error}" if self.wait and error else None
        words = {
            RunStatus.FAILED: f"Failed ({took})",
            RunStatus.STOPPED: "Stopped",
            RunStatus.RUNNING: "Still running",
        }
        return words[status] + (f": {error}" if error else "")

    def finished(self, result: RunResult) -> None:
        text = self._finished_text(result)
        fields: dict[str, Any] = {"status": result.status.value}
        if result.run_id:
            fields["run_id"] = result.run_id
        ok = result.status in (RunStatus.SUCCEEDED, RunStatus.STARTED)
        emoji = STATUS_EMOJI[result.status]
        if result.status is RunStatus.STARTED and self.wait:
            emoji = "⚠️"
            ok = False
        with self.lock:
            self._ended.add(result.target)
            if text is not None:
                getattr(self.logger, "info" if ok else "warning")(
                    text, target=result.target, emoji=emoji, **fields
                )
            self._answer(result.target)

    def maybe_still_running(
        self, running_runs: Callable[[], Sequence[tuple[str, float]]], elapsed: float, now: float
    ) -> None:
        """Report runs still running when a report is due; ``running_runs`` is called only then
        (the engine calls this on every loop turn, with thousands of runs)."""
        if self.next_progress_at == float("inf"):
            self.start_clock(now)
            return
        if now < self.next_progress_at:
            return
        # Every 30 s for the first five minutes, then every five minutes.
        self._progress_every = (
            STILL_RUNNING_EVERY_S
            if elapsed < STILL_RUNNING_LATER_AFTER_S
            else STILL_RUNNING_LATER_EVERY_S
        )
        self.next_progress_at = now + self._progress_every
        running = running_runs()
        if not running:
            return
        with self.lock:
            self._open_live()
            if len(running) <= STILL_RUNNING_DETAIL_LIMIT:
                for target, age in running:
                    self.logger.info(
                        f"Running... ({format_clock(age)} elapsed)", target=target, emoji="🔄"
                    )
            else:
                self.logger.info(
                    f"{len(running)} runs running... ({format_clock(elapsed)} elapsed)",
                    emoji="🔄",
                )

    def deadline(self, minutes: float) -> None:
        with self.lock:
            self._deadline_minutes = f"{minutes:g}"
            self._open_live()
            self.logger.warning(f"timeout of {minutes:g} minutes reached", emoji="⏰")

    def interrupted(self, signal_name: str) -> None:
        self.logger.warning(
            f"{signal_name} received: finishing up (send it again to exit at once)", emoji="🛑"
        )

    def stopping(self, target: str) -> None:
        self.logger.info("stopping the remote run", target=target, emoji="🛑")


class ListReporter:
    """Progress of a list command on stderr: its heading, then how many rows were found."""

    def __init__(self, command: str, display: ListDisplay | None = None) -> None:
        self.command = command
        self.display = display or ListDisplay()
        self.logger = log.get_logger(command=command)

    def heading(self) -> None:
        title = fill(self.display.heading, command=self.command)
        log.write_stderr(f"\n{RULE}\n{title}\n{RULE}")

    def found(self, count: int, seconds: float) -> None:
        self.logger.info(f"{self.display.count(count)} ({format_duration(seconds)})", emoji="✅")


# -- results ---------------------------------------------------------------------------
def results_document(command: str, results: Sequence[RunResult], ok: bool) -> dict[str, Any]:
    return {"command": command, "ok": ok, "results": [r.to_json() for r in results]}


def print_results_json(command: str, results: Sequence[RunResult], ok: bool) -> None:
    """The ``--json`` document: the results' values redacted one by one, never its keys nor
    the command's name (a short secret that is also a word would rewrite them)."""
    document = results_document(command, results, ok)
    document["results"] = _finite(document["results"], log.REDACTOR)
    log.write_stdout(json_text(document, log.REDACTOR), redacted=True)


def print_results_table(
    results: Sequence[RunResult], display: TriggerDisplay | None = None
) -> None:
    """The spec's results table: the target and its status first, under the command's own
    headings, then the product's columns (duration, run id or error)."""
    display = display or TriggerDisplay()
    width = max(80, min(shutil.get_terminal_size((120, 24)).columns, 200))
    longest = max(
        [len(display.target_header)] + [len(arn_name(r.target) or r.target) for r in results]
    )
    target_w = max(TARGET_WIDTH, min(longest, TARGET_WIDTH_MAX))
    fixed = target_w + 1 + STATUS_WIDTH + 1 + 9 + 2
    detail_w = max(DETAIL_WIDTH_MIN, width - fixed)
    lines = [
        "",
        RULE,
        display.results_title,
        RULE,
        f"{_pad(display.target_header, target_w)} {_pad('STATUS', STATUS_WIDTH)} "
        f"{'DURATION':>9}  RUN ID / ERROR",
        f"{'-' * target_w} {'-' * STATUS_WIDTH} {'-' * 9}  {'-' * 14}",
    ]
    indent = " " * fixed
    emoji = stdout_has_emoji()
    redact = log.REDACTOR
    for r in results:
        # Targets and run ids are never cut: they are what a reader searches for. A target too
        # long for its column gets a line of its own; a long run id runs past the column.
        # Values are redacted one by one, so the headings and the columns stay as built.
        r = dataclasses.replace(
            r,
            target=redact(r.target),
            run_id=redact(r.run_id) if r.run_id else r.run_id,
            error=redact(r.error) if r.error else r.error,
            output=_finite(r.output, redact),
        )
        target = r.target
        first = r.run_id or ""
        name = arn_name(target)
        if name is not None:
            # An ARN would break the row: its name goes first, the ARN where ids go (a run id
            # that is an ARN, as an execution's, names the target's region and account too).
            target = name
            if not first.startswith("arn:"):
                first = f"{r.target}  {first}".rstrip()
        if len(target) > target_w:
            lines.append(target)
            target = ""
        more: list[str] = []
        if r.error:
            # The error is why the row is not green: never cut it; wrap it under the run id.
            # Words (error codes, ARNs) are never split: a long one overflows its line.
            wrapped = textwrap.wrap(
                " ".join(r.error.split()),
                detail_w,
                break_long_words=False,
                break_on_hyphens=False,
            ) or [""]
            if first and len(first) + 2 + len(wrapped[0]) > detail_w:
                more = wrapped
            else:
                first = f"{first}  {wrapped[0]}" if first else wrapped[0]
                more = wrapped[1:]
        elif r.output is not None and r.status is RunStatus.SUCCEEDED:
            output = r.output if isinstance(r.output, str) else json.dumps(r.output, default=str)
            room = detail_w - len(first) - 2 if first else detail_w
            if room >= OUTPUT_PREVIEW_MIN:
                preview = _ellipsis(f"output: {output}", room)
                first = f"{first}  {preview}" if first else preview
            else:
                more = [_ellipsis(f"output: {output}", detail_w)]
        lines.append(
            f"{_pad(target, target_w)} {_pad(status_cell(r.status, emoji), STATUS_WIDTH)} "
            f"{format_duration(r.duration_s):>9}  {first}".rstrip()
        )
        lines.extend(f"{indent}{line}" for line in more)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    lines.append(RULE)
    lines.append(", ".join(f"{n} {status.lower()}" for status, n in counts.items()))
    log.write_stdout("\n".join(lines), redacted=True)


def arn_name(target: str) -> str | None:
    """The resource name of an ARN target (``...:stateMachine:nightly`` is ``nightly``,
    ``...:function:f1:live`` is ``f1:live``); None for a target that is not an ARN."""
    parts = target.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    kind_and_name = re.split(r"[:/]", parts[5], maxsplit=1)
    return kind_and_name[1] if len(kind_and_name) == 2 and kind_and_name[1] else None


def print_rows(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], as_json: bool) -> None:
    """Print a list command's rows: a table, or a JSON array with the column keys."""
    redact = log.REDACTOR
    if as_json:
        document = _finite([dict(row) for row in rows], redact)
        log.write_stdout(json_text(document, redact), redacted=True)
        return
    cells = [[redact(_cell(row.get(c.key))) for c in columns] for row in rows]
    widths = [
        min(max([len(c.header)] + [len(cell[i]) for cell in cells]), 80)
        for i, c in enumerate(columns)
    ]
    lines = ["  ".join(f"{c.header:<{w}}" for c, w in zip(columns, widths, strict=False)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for cell in cells:
        padded = (f"{_ellipsis(v, w):<{w}}" for v, w in zip(cell, widths, strict=False))
        lines.append("  ".join(padded).rstrip())
    lines.append(f"({len(rows)} {'row' if len(rows) == 1 else 'rows'})")
    log.write_stdout("\n".join(lines), redacted=True)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


# -- JSON output ----------------------------------------------------------------------
_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def json_text(document: Any, redact: Callable[[str], str] | None = None) -> str:
    """``--json`` output: standard JSON only. JSON has no NaN or infinity, yet a function's
    answer may hold them (Python's parser reads them): each is written as the string ``"NaN"``,
    ``"Infinity"`` or ``"-Infinity"``, which keeps what was returned and stays parseable."""

    def other(value: Any) -> str:  # a value JSON has no type for (a datetime): its text
        return redact(str(value)) if redact is not None else str(value)

    return json.dumps(_finite(document), indent=2, default=other, allow_nan=False)


def _finite(value: Any, redact: Callable[[str], str] | None = None) -> Any:
    """A copy of ``value`` with non-finite floats named, and with ``redact`` its strings
    (values, never keys); iterative, for deeply nested answers."""
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
