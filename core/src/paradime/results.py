"""Internal: the result on stdout: the results table, the ``--json`` document, a list's rows.

Every value is redacted one by one (:mod:`paradime.redaction`), never the headings, the
document's keys or the command's name, and columns are padded after masking. Written through
:func:`paradime.log.write_stdout`, which remembers a result that could not be written.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import textwrap
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from paradime import log
from paradime.api import Column, RunResult, RunStatus, TriggerDisplay
from paradime.redaction import REDACTOR, json_safe

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
# The results table: the first column is at least this wide (longer targets widen it up to the
# maximum, then get a line of their own), the status column this wide.
TARGET_WIDTH = 40
TARGET_WIDTH_MAX = 60
STATUS_WIDTH = 15
# The last column (run id, error) gets the rest of the terminal, and at least this much: a
# line may then be wider than a narrow terminal, but a run id keeps its output preview beside it.
DETAIL_WIDTH_MIN = 60
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


# -- results ---------------------------------------------------------------------------
def results_document(command: str, results: Sequence[RunResult], ok: bool) -> dict[str, Any]:
    return {"command": command, "ok": ok, "results": [r.to_json() for r in results]}


def print_results_json(command: str, results: Sequence[RunResult], ok: bool) -> None:
    """The ``--json`` document: the results' values redacted one by one, never its keys nor
    the command's name (a short secret that is also a word would rewrite them)."""
    document = results_document(command, results, ok)
    document["results"] = json_safe(document["results"], REDACTOR)
    log.write_stdout(json_text(document, REDACTOR), redacted=True)


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
    columns = _Columns(target_w, max(DETAIL_WIDTH_MIN, width - _fixed_width(target_w)))
    lines = [
        "",
        RULE,
        display.results_title,
        RULE,
        f"{_pad(display.target_header, target_w)} {_pad('STATUS', STATUS_WIDTH)} "
        f"{'DURATION':>9}  RUN ID / ERROR",
        f"{'-' * target_w} {'-' * STATUS_WIDTH} {'-' * 9}  {'-' * 14}",
    ]
    emoji = stdout_has_emoji()
    for r in results:
        lines.extend(_row_lines(_redacted(r), columns, emoji))
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    lines.append(RULE)
    lines.append(", ".join(f"{n} {status.lower()}" for status, n in counts.items()))
    log.write_stdout("\n".join(lines), redacted=True)


@dataclasses.dataclass(frozen=True)
class _Columns:
    """The widths of the results table's first and last columns."""

    target: int
    detail: int


def _fixed_width(target_w: int) -> int:
    """Where the last column starts: target, status and duration columns with their gaps."""
    return target_w + 1 + STATUS_WIDTH + 1 + 9 + 2


def _redacted(r: RunResult) -> RunResult:
    """The row's values redacted one by one, so that the headings and columns stay as built."""
    return dataclasses.replace(
        r,
        target=REDACTOR(r.target),
        run_id=REDACTOR(r.run_id) if r.run_id else r.run_id,
        error=REDACTOR(r.error) if r.error else r.error,
        output=json_safe(r.output, REDACTOR),
    )


def _row_lines(r: RunResult, columns: _Columns, emoji: bool) -> list[str]:
    """One result's lines: targets and run ids are never cut (they are what a reader searches
    for). A target too long for its column gets a line of its own; a long run id runs past the
    column; what does not fit beside the run id goes on lines below it."""
    lines: list[str] = []
    target = r.target
    first = r.run_id or ""
    name = arn_name(target)
    if name is not None:
        # An ARN would break the row: its name goes first, the ARN where ids go (a run id
        # that is an ARN, as an execution's, names the target's region and account too).
        target = name
        if not first.startswith("arn:"):
            first = f"{r.target}  {first}".rstrip()
    if len(target) > columns.target:
        lines.append(target)
        target = ""
    first, more = _detail(r, first, columns.detail)
    lines.append(
        f"{_pad(target, columns.target)} {_pad(status_cell(r.status, emoji), STATUS_WIDTH)} "
        f"{format_duration(r.duration_s):>9}  {first}".rstrip()
    )
    indent = " " * _fixed_width(columns.target)
    lines.extend(f"{indent}{line}" for line in more)
    return lines


def _detail(r: RunResult, first: str, detail_w: int) -> tuple[str, list[str]]:
    """The last column: ``first`` (the run id) with the error, or a successful run's output
    preview, beside it when it fits; and the lines below it."""
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
            return first, wrapped
        return (f"{first}  {wrapped[0]}" if first else wrapped[0]), wrapped[1:]
    if r.output is not None and r.status is RunStatus.SUCCEEDED:
        output = r.output if isinstance(r.output, str) else json.dumps(r.output, default=str)
        room = detail_w - len(first) - 2 if first else detail_w
        if room < OUTPUT_PREVIEW_MIN:
            return first, [_ellipsis(f"output: {output}", detail_w)]
        preview = _ellipsis(f"output: {output}", room)
        return (f"{first}  {preview}" if first else preview), []
    return first, []


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
    redact = REDACTOR
    if as_json:
        document = json_safe([dict(row) for row in rows], redact)
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


def json_text(document: Any, redact: Callable[[str], str] | None = None) -> str:
    """``--json`` output: standard JSON only. JSON has no NaN or infinity, yet a function's
    answer may hold them (Python's parser reads them): each is written as the string ``"NaN"``,
    ``"Infinity"`` or ``"-Infinity"``, which keeps what was returned and stays parseable."""

    def other(value: Any) -> str:  # a value JSON has no type for (a datetime): its text
        return redact(str(value)) if redact is not None else str(value)

    return json.dumps(json_safe(document), indent=2, default=other, allow_nan=False)
