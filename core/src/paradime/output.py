"""Internal: what the user reads while a command runs: its progress on stderr.

Progress, for a trigger command: a banner with the command's heading; for each target, as its
trigger call starts, a ``[i/n] <emoji> target`` block with its ``HH:MM:SS <emoji> [target]
message`` lines (structlog events, so ``--log-format json`` turns them into JSON lines); then a
LIVE PROGRESS section for the runs being waited for, with a "Running..." line now and then
rather than one per poll. The words that name a provider's own things (its heading, trigger
lines, results title, first column) come from the command's :class:`~paradime.api.TriggerDisplay`.
The result on stdout is :mod:`paradime.results`'s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from paradime import log
from paradime.api import ListDisplay, RunResult, RunState, RunStatus, TriggerDisplay
from paradime.results import RULE, STATUS_EMOJI, format_duration

TARGET_RULE = "-" * 40
# Runs named one by one in a "Running..." report; above this, one summary line.
STILL_RUNNING_DETAIL_LIMIT = 10
# "Running..." reports: this often for the first LATER_AFTER seconds, then every LATER_EVERY.
STILL_RUNNING_EVERY_S = 30.0
STILL_RUNNING_LATER_AFTER_S = 300.0
STILL_RUNNING_LATER_EVERY_S = 300.0


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
