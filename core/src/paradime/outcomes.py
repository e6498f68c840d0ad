"""Internal: what a provider's operations return or raise, and the row of each target.

Part of the plugin API: providers import these names from :mod:`paradime.api`, never from here
(this module's place may change). :class:`RunStatus`, :class:`RunState`, :class:`RunError`,
:class:`UsageError`, :class:`SetupError` and :class:`RunResult` import nothing of paradime.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["RunError", "RunResult", "RunState", "RunStatus", "SetupError", "UsageError"]


class RunStatus(str, enum.Enum):
    """The status of one target's run, shared by every provider."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    STOPPED = "STOPPED"
    THROTTLED = "THROTTLED"
    ERROR = "ERROR"  # could not trigger or could not track
    STARTED = "STARTED"  # triggered and not waited for
    RUNNING = "RUNNING"  # in progress

    @property
    def is_terminal(self) -> bool:
        """True when nothing more will happen to the run as far as paradime knows."""
        return self is not RunStatus.RUNNING

    def __str__(self) -> str:
        return self.value


class UsageError(Exception):
    """Bad input found before any remote call: printed on one line, exit code 2."""


class SetupError(Exception):
    """The command cannot run at all (no credentials, say): one message, every target ERROR."""


class RunError(Exception):
    """A trigger, poll or cancel that failed, as the provider understood it.

    :param message: what went wrong, naming the remote error code and message.
    :param status: the status the run ends with when the error is final.
    :param retryable: True when repeating the same call cannot cause a second run (throttles,
        a poll that hit a transient fault). The engine then retries with backoff and reports
        ``status`` only when its retries are exhausted.
    :param run_id: the run id when one is known, so that the summary never loses it. On a
        retryable ``trigger`` error it names the run the failed attempt may have started (an
        execution name chosen before the call): core keeps it in the row if the retry never
        comes, and stops that run with ``--cancel-on-exit``.
    :param handle: with ``run_id``, what :meth:`Runner.cancel` needs to stop that run.
    :param outcome_unknown: from :meth:`Runner.start` only: the call may have reached the remote
        system and made the run, but its answer never came back whole (lost, timed out after
        sending, a 5xx after sending). Core sends no second start until
        :meth:`Runner.recover` has said that no run was made; a run it finds is followed.
    :param not_found: from :meth:`Runner.poll` only: the remote system says the run does not
        exist. For a run this command started or adopted, a read right after the start may lag
        (eventual consistency): core asks again, backing off, for
        ``NOT_FOUND_GRACE_S`` after the start before it gives the run up with this error.
    :param retry_after_s: for a retryable error, the remote system's own word on when to try
        again (an HTTP ``Retry-After``): core waits at least this long before the retry, instead
        of only its own backoff, and never past the deadline.
    """

    def __init__(
        self,
        message: str,
        *,
        status: RunStatus = RunStatus.ERROR,
        retryable: bool = False,
        run_id: str | None = None,
        details: Mapping[str, Any] | None = None,
        retry_after_s: float | None = None,
        handle: Any = None,
        outcome_unknown: bool = False,
        not_found: bool = False,
    ) -> None:
        super().__init__(message)
        self.outcome_unknown = outcome_unknown
        self.not_found = not_found
        self.message = message
        self.status = status
        self.retryable = retryable
        self.run_id = run_id
        self.details = dict(details or {})
        self.retry_after_s = retry_after_s
        self.handle = handle


@dataclass
class RunState:
    """What a provider knows about one run after a trigger or a poll.

    ``handle`` is the provider's own data needed to poll or cancel the run later (an ARN, a
    request id, a start time): core keeps it and hands it back, it never reads it.
    ``details`` are extra keys added to the run's JSON result (for example ``log_tail``).
    ``attached`` (from :meth:`Runner.trigger` only): the trigger started nothing, it found the run
    already there (one an earlier attempt started under the idempotency key, or one running that
    the service would not start twice) and reports that run: running, or already ended.
    """

    status: RunStatus
    run_id: str | None = None
    error: str | None = None
    output: Any = None
    console_url: str | None = None
    message: str | None = None
    handle: Any = None
    details: dict[str, Any] = field(default_factory=dict)
    attached: bool = False


@dataclass
class RunResult:
    """One row of the summary: every target gets exactly one, whatever happened.

    ``attached``: this command started nothing for the target; it attached to a run already
    there (see :attr:`RunState.attached`).
    """

    target: str
    status: RunStatus
    run_id: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    output: Any = None
    console_url: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    attached: bool = False

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "target": self.target,
            "status": self.status.value,
            "run_id": self.run_id,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_s": self.duration_s,
            "error": self.error,
            "output": self.output,
            "console_url": self.console_url,
        }
        for key, value in self.details.items():
            doc.setdefault(key, value)
        return doc
