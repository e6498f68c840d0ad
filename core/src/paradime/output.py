"""What the user reads: progress on stderr, the result on stdout.

Progress is a banner, then a LIVE PROGRESS section of ``HH:MM:SS <emoji> [target] message``
lines (structlog events, so ``--log-format json`` turns them into JSON lines), with a "still
running" line now and then rather than one per poll. The result is a table, or with ``--json``
one JSON document with the same keys for every provider.
"""

from __future__ import annotations

import json
import shutil
import textwrap
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from paradime import log
from paradime.api import Column, RunResult, RunState, RunStatus

STATUS_EMOJI = {
    RunStatus.SUCCEEDED: "✅",
    RunStatus.FAILED: "❌",
    RunStatus.TIMED_OUT: "⌛",
    RunStatus.STOPPED: "🛑",
    RunStatus.THROTTLED: "🐢",
    RunStatus.ERROR: "💥",
    RunStatus.STARTED: "🚀",
    RunStatus.RUNNING: "⏳",
}
RULE = "=" * 60
# Runs named one by one in a "still running" report; above this, one summary line.
STILL_RUNNING_DETAIL_LIMIT = 10
# The narrowest room beside a run id for a preview of the output ("output: x…"); else below it.
OUTPUT_PREVIEW_MIN = 10


def format_duration(seconds: float | None) -> str:
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


class Reporter:
    """Progress for one trigger command. Thread-safe: workers report triggers as they start."""

    def __init__(self, command: str, emoji: str = "🚀") -> None:
        self.command = command
        self.emoji = emoji
        self.logger = log.get_logger(command=command)
        self.lock = threading.Lock()
        self.next_progress_at = float("inf")
        self._progress_every = 30.0

    # -- sections -----------------------------------------------------------------------
    def banner(self, targets: Sequence[str], description: str) -> None:
        log.write_stderr(f"\n{RULE}\n{self.emoji} {description}\n{RULE}")
        for i, target in enumerate(targets, 1):
            log.write_stderr(f"[{i}/{len(targets)}] {self.emoji} {target}")

    def live_progress(self) -> None:
        log.write_stderr(f"\n{RULE}\n⚡ LIVE PROGRESS\n{RULE}")

    def start_clock(self, now: float) -> None:
        self.next_progress_at = now + self._progress_every

    # -- events -------------------------------------------------------------------------
    def triggering(self, target: str) -> None:
        self.logger.info("triggering", target=target, emoji=self.emoji)

    def triggered(self, target: str, state: RunState) -> None:
        fields: dict[str, Any] = {"run_id": state.run_id} if state.run_id else {}
        if state.attached:  # found under the idempotency key (or joined): nothing was started
            self.logger.info("attached", target=target, emoji="🔗", **fields)
            return
        self.logger.info("started", target=target, emoji="⏳", **fields)

    def message(self, target: str, message: str) -> None:
        self.logger.info(message, target=target, emoji="🔄")

    def retrying(self, target: str, reason: str, delay: float, attempt: int) -> None:
        self.logger.warning(
            f"{reason}; retrying in {delay:.1f}s (attempt {attempt + 1})", target=target, emoji="🐢"
        )

    def poll_failed(self, target: str, reason: str, delay: float, failures: int) -> None:
        self.logger.warning(
            f"status check failed ({failures} in a row): {reason}; retrying in {delay:.1f}s",
            target=target,
        )

    def unexpected(self, target: str, exc: BaseException) -> None:
        # The traceback helps a provider author; users see the one-line error in the result.
        self.logger.debug("unexpected error", target=target, exc_info=exc)

    def finished(self, result: RunResult) -> None:
        words = {
            RunStatus.SUCCEEDED: "succeeded",
            RunStatus.FAILED: "failed",
            RunStatus.TIMED_OUT: "timed out",
            RunStatus.STOPPED: "stopped",
            RunStatus.THROTTLED: "throttled",
            RunStatus.ERROR: "error",
            RunStatus.STARTED: "started (not waiting for completion)",
            RunStatus.RUNNING: "still running",
        }
        text = words[result.status]
        if result.duration_s is not None and result.status is not RunStatus.STARTED:
            text += f" after {format_duration(result.duration_s)}"
        if result.error:
            text += f": {result.error}"
        fields: dict[str, Any] = {"status": result.status.value}
        if result.run_id:
            fields["run_id"] = result.run_id
        level = "info" if result.status in (RunStatus.SUCCEEDED, RunStatus.STARTED) else "warning"
        getattr(self.logger, level)(
            text, target=result.target, emoji=STATUS_EMOJI[result.status], **fields
        )

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
        self._progress_every = 30.0 if elapsed < 300 else 300.0
        self.next_progress_at = now + self._progress_every
        running = running_runs()
        if not running:
            return
        if len(running) <= STILL_RUNNING_DETAIL_LIMIT:
            for target, age in running:
                self.logger.info(
                    f"still running ({format_duration(age)} elapsed)", target=target, emoji="⏳"
                )
        else:
            self.logger.info(
                f"{len(running)} runs still running ({format_duration(elapsed)} elapsed)",
                emoji="⏳",
            )

    def deadline(self, minutes: float) -> None:
        self.logger.warning(f"timeout of {minutes:g} minutes reached", emoji="⌛")

    def interrupted(self, signal_name: str) -> None:
        self.logger.warning(
            f"{signal_name} received: finishing up (send it again to exit at once)", emoji="🛑"
        )

    def stopping(self, target: str) -> None:
        self.logger.info("stopping the remote run", target=target, emoji="🛑")


# -- results ---------------------------------------------------------------------------
def results_document(command: str, results: Sequence[RunResult], ok: bool) -> dict[str, Any]:
    return {"command": command, "ok": ok, "results": [r.to_json() for r in results]}


def print_results_json(command: str, results: Sequence[RunResult], ok: bool) -> None:
    log.write_stdout(json.dumps(results_document(command, results, ok), indent=2, default=str))


def print_results_table(results: Sequence[RunResult]) -> None:
    width = max(80, min(shutil.get_terminal_size((120, 24)).columns, 200))
    target_w = min(max([len("TARGET")] + [len(r.target) for r in results]), 50)
    status_w = len("THROTTLED") + 3
    fixed = target_w + status_w + 10 + 4
    detail_w = max(20, width - fixed)
    lines = [
        "",
        RULE,
        "📊 RESULTS",
        RULE,
        f"{'TARGET':<{target_w}}  {'STATUS':<{status_w}}{'DURATION':>9}  RUN ID / ERROR",
    ]
    indent = " " * (fixed - 2)
    for r in results:
        status = f"{STATUS_EMOJI[r.status]} {r.status.value}"
        # Targets and run ids are never cut: they are what a reader searches for. A target too
        # long for its column gets a line of its own; a long run id runs past the column.
        target = r.target
        if len(target) > target_w:
            lines.append(target)
            target = ""
        first = r.run_id or ""
        more: list[str] = []
        if r.error:
            # The error is why the row is not green: never cut it; wrap it under the run id.
            wrapped = textwrap.wrap(" ".join(r.error.split()), detail_w) or [""]
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
            f"{target:<{target_w}}  {status:<{status_w - 1}}"
            f"{format_duration(r.duration_s):>9}  {first}".rstrip()
        )
        lines.extend(f"{indent}{line}" for line in more)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    lines.append(RULE)
    lines.append(", ".join(f"{n} {status.lower()}" for status, n in counts.items()))
    log.write_stdout("\n".join(lines))


def print_rows(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], as_json: bool) -> None:
    """Print a list command's rows: a table, or a JSON array with the column keys."""
    if as_json:
        log.write_stdout(json.dumps([dict(row) for row in rows], indent=2, default=str))
        return
    cells = [[_cell(row.get(c.key)) for c in columns] for row in rows]
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
    log.write_stdout("\n".join(lines))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
