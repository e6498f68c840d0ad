"""The plugin API: everything a provider imports, in one module.

``from paradime import api`` gives the data a provider declares (:class:`TriggerCommand`,
:class:`ListCommand`, :class:`Option`, :class:`TargetOption`, :class:`Column`), the operations it
implements (:class:`Runner`, :class:`Lister`), what those return or raise (:class:`RunState`,
:class:`RunStatus`, :class:`RunError`, :class:`UsageError`, :class:`SetupError`), the
:data:`hookimpl` marker for its hook implementations, and :func:`lazy` for factories that import
heavy libraries only when a command runs. The hook specs themselves are in
:mod:`paradime.hookspecs`.

Nothing here imports anything heavy, so that loading every installed provider to build
``paradime run --help`` stays cheap.
"""

from __future__ import annotations

import abc
import enum
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pluggy

__all__ = [
    "IDEMPOTENCY_KEY_ENVVAR",
    "IDEMPOTENCY_KEY_OPTION",
    "Choice",
    "Column",
    "Command",
    "ListCommand",
    "ListDisplay",
    "Lister",
    "ListerFactory",
    "Option",
    "OptionSource",
    "OptionType",
    "Page",
    "Prepared",
    "Rows",
    "RunContext",
    "RunError",
    "RunResult",
    "RunState",
    "RunStatus",
    "Runner",
    "RunnerFactory",
    "SetupError",
    "TargetOption",
    "TriggerCommand",
    "TriggerDisplay",
    "UsageError",
    "hookimpl",
    "idempotency_token",
    "lazy",
]

hookimpl = pluggy.HookimplMarker("paradime")
"""Marks a provider's hook implementations (project name ``paradime``)."""


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
class Prepared:
    """What a trigger's read-only look-ups found: everything the one run-creating call needs,
    and what identifies the run before it exists.

    Returned by :meth:`Runner.prepare`, handed back unchanged to :meth:`Runner.start` (every
    attempt) and :meth:`Runner.recover`. Core shows ``run_id``, ``console_url`` and ``details``
    in the target's row from the moment it has them, whatever happens next (a start that is
    never answered, a stop before the retry), and stops the run named by ``run_id`` and
    ``handle`` with ``--cancel-on-exit`` when the start's outcome is unknown.

    :param run_id: the run's id when it is chosen before the call (an execution name's ARN, a
        client token); ``None`` when only the start's answer will tell it.
    :param handle: what :meth:`Runner.cancel` needs to stop that run.
    :param details: keys added to the row (``execution_name``, ``client_token``, a baseline).
    :param data: the provider's own data for ``start`` and ``recover`` (core never reads it).
    :param found: the look-ups found the run already there (one started earlier under the
        idempotency key, a sync already running that the service would not start twice): core
        sends no start and reports this state as the trigger's answer (``attached`` says
        whether this command started it).
    """

    run_id: str | None = None
    handle: Any = None
    console_url: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    data: Any = None
    found: RunState | None = None


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


@dataclass(frozen=True)
class Choice:
    """An option whose value is one of ``values``; matched case-insensitively by default and
    normalised to the declared spelling."""

    values: tuple[str, ...]
    case_sensitive: bool = False


OptionType = type | Choice


@dataclass(frozen=True)
class Option:
    """A command-line option a provider declares; core turns it into a click option.

    :param name: the long flag, ``--payload``; its key in ``params`` is ``payload``.
    :param type: ``str``, ``int``, ``float``, ``bool`` (a flag) or a :class:`Choice`.
    :param envvar: environment variable(s) read when the option is not given, first found wins.
    :param secondary: for boolean flags, the negative spelling (``--no-wait``).
    :param aliases: hidden spellings kept for old schedules; giving both is a usage error.
    :param split_commas: for ``multiple`` options, also accept ``a,b`` in one value.
    :param secret: the value is redacted from every output and log line.
    :param parse: converts and validates the raw value; raise :class:`UsageError` to reject it
        (the error names the option). Runs before any remote call.
    :param required: a value must come from the option, an alias or ``envvar``; when none
        does, the command stops with a usage error naming the option and its variables.
    """

    name: str
    help: str
    type: OptionType = str
    default: Any = None
    envvar: str | Sequence[str] | None = None
    multiple: bool = False
    split_commas: bool = False
    secondary: str | None = None
    hidden: bool = False
    aliases: tuple[str, ...] = ()
    secret: bool = False
    metavar: str | None = None
    parse: Callable[[Any], Any] | None = None
    required: bool = False

    @property
    def key(self) -> str:
        return self.name.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class TargetOption:
    """The repeatable option naming what to trigger (``--function-name``).

    Core accepts it repeated and comma-separated, keeps the order, drops duplicates with a
    warning, and rejects an empty list or an empty name. ``validate`` checks one target before any
    remote call (raise :class:`UsageError`) and may return a normalised spelling.

    ``canonical`` gives what identifies a (validated) target, from it and the command's parsed
    option values: a tuple of parts, ``None`` for a part that cannot be known without a remote
    call (the account a bare name resolves in). Two spellings whose parts agree, ``None``
    agreeing with anything, are one target: a usage error naming both, before any call.
    """

    name: str
    help: str
    metavar: str = "NAME"
    aliases: tuple[str, ...] = ()
    validate: Callable[[str], str] | None = None
    canonical: Callable[[str, Mapping[str, Any]], tuple[str | None, ...]] | None = None

    @property
    def key(self) -> str:
        return self.name.lstrip("-").replace("-", "_")


class OptionSource(str, enum.Enum):
    """Where an option's value came from."""

    COMMAND_LINE = "command_line"
    ENVIRONMENT = "environment"  # its ``envvar``
    DEFAULT = "default"  # not given: the declared default, or None

    def __str__(self) -> str:
        return self.value


def _redact_pattern(pattern: str) -> None:
    from paradime.log import REDACTOR

    REDACTOR.add_pattern(pattern)


def _no_cap() -> bool:
    return True


@dataclass
class RunContext:
    """What core tells a runner when it is built (in the main thread, before any trigger).

    :param option_sources: for each option key in ``params``, where its value came from: a
        provider whose tools rank a flag above an environment variable (AWS's ``--profile``
        above ``AWS_ACCESS_KEY_ID``) needs to know which one the user typed.
    :param add_secret_pattern: redact everything a regular expression matches from all output
        (only its group named ``secret`` when it has one), for secrets whose value cannot be
        known in advance (credentials a library refreshes on its own).
    :param take_poll_request: take one request from the command's rate cap
        (``poll_rate_per_s`` per ``service``) without waiting; ``True`` when it may be sent now.
        Core counts each poll as one request: a poll that sends more (following pages) asks
        before each further request, and stops, to go on at its next poll, on ``False``.
    :param concurrent_calls: the most calls the engine makes at once (its trigger and
        status-check threads): the size a connection pool needs. ``0`` when unknown (a runner
        built by hand); :attr:`pool_size` then assumes two calls per unit of concurrency.
    :param idempotency_key: ``--idempotency-key`` (or ``PARADIME_IDEMPOTENCY_KEY``), or ``None``.
        A runner of a command declared ``idempotent=True`` starts each target's run at most once
        per key: it derives a per-target token with :func:`idempotency_token`, and a trigger
        that finds the run already made under it returns that run's state with
        ``attached=True`` instead of starting one. ``option_source("idempotency_key")`` says
        whether the key was typed or came from the environment.
    """

    command: str
    wait: bool
    timeout_s: float
    max_concurrency: int
    logger: Any
    add_secret: Callable[[str], None]
    option_sources: Mapping[str, OptionSource] = field(default_factory=dict)
    add_secret_pattern: Callable[[str], None] = _redact_pattern
    take_poll_request: Callable[[], bool] = _no_cap
    concurrent_calls: int = 0
    idempotency_key: str | None = None

    @property
    def pool_size(self) -> int:
        """Connections a client shared by every thread of the run may need at once."""
        return self.concurrent_calls or 2 * self.max_concurrency

    def option_source(self, key: str) -> OptionSource:
        """Where option ``key``'s value came from; a key core did not parse (a runner built by
        hand, in a test) counts as given on the command line."""
        return self.option_sources.get(key, OptionSource.COMMAND_LINE)

    def decline_idempotency_key(self, reason: str) -> None:
        """This run cannot honour :attr:`idempotency_key`, because of ``reason`` (a clause:
        "Lambda cannot recognise a repeated invocation").

        A key typed as ``--idempotency-key`` is a promise the run cannot keep: raises
        :class:`UsageError` (exit 2, before any remote call). A key from
        ``PARADIME_IDEMPOTENCY_KEY``, which a scheduler sets for every task, only warns, once,
        and the run goes on as without a key (``idempotency_key`` becomes ``None``). Call it
        from the factory; without a key it does nothing.
        """
        if self.idempotency_key is None:
            return
        if self.option_source("idempotency_key") is OptionSource.COMMAND_LINE:
            raise UsageError(f"{IDEMPOTENCY_KEY_OPTION} cannot be honoured: {reason}")
        self.logger.warning(
            f"{IDEMPOTENCY_KEY_ENVVAR} is set, but {self.command} cannot honour it: {reason}; "
            "running without it, so a retry of this command starts its runs again"
        )
        self.idempotency_key = None


IDEMPOTENCY_KEY_OPTION = "--idempotency-key"
IDEMPOTENCY_KEY_ENVVAR = "PARADIME_IDEMPOTENCY_KEY"
# The shortest token idempotency_token makes has this many hexadecimal digits of the hash.
TOKEN_DIGEST_CHARS = 16
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def idempotency_token(
    key: str, target: str, *, max_length: int, min_length: int = 1, label: str | None = None
) -> str:
    """The token of one target's run under an idempotency key: the same key and target always
    give the same token, and different ones (in practice) never do.

    The token is ``<key>-<label>-<hash>``, made of ASCII letters, digits and ``-`` only (valid as
    a Step Functions execution name, a SageMaker client request token or display name):

    * ``<key>`` and ``<label>`` (``label`` defaults to ``target``: give the short name a user
      recognises, such as a state machine's name for its ARN) are written with every run of
      other characters as one ``-``, without ``-`` at either end; together they are cut to
      leave room for the hash, and a ``-`` left at the cut is dropped;
    * ``<hash>`` is the start of the lowercase hexadecimal SHA-256 of ``key``, a newline and
      ``target`` (the full target, whatever the label): 16 digits, or more when the token would
      be shorter than ``min_length``. It alone tells tokens apart, so keys or targets that read
      the same once shortened still get different tokens.

    ``idempotency_token("scheduled__2024-06-01T02:00:00+00:00", arn, max_length=80,
    label="nightly-load")`` is ``scheduled-2024-06-01T02-00-00-00-00-nightly-load-`` followed by
    16 hexadecimal digits.
    """
    if max_length <= TOKEN_DIGEST_CHARS + 1:
        raise ValueError(f"max_length must be above {TOKEN_DIGEST_CHARS + 1}, not {max_length}")
    digest = hashlib.sha256(f"{key}\n{target}".encode()).hexdigest()
    words = [_NOT_ALNUM.sub("-", part).strip("-") for part in (key, label or target)]
    readable = "-".join(word for word in words if word)
    readable = readable[: max_length - TOKEN_DIGEST_CHARS - 1].rstrip("-")
    size = max(TOKEN_DIGEST_CHARS, min_length - len(readable) - (1 if readable else 0))
    if size > len(digest):
        raise ValueError(f"min_length {min_length} is beyond what a token can reach")
    return f"{readable}-{digest[:size]}" if readable else digest[:size]


RunnerFactory = Callable[[Mapping[str, Any], RunContext], "Runner"]
ListerFactory = Callable[[Mapping[str, Any], RunContext], "Lister"]


def lazy(path: str) -> Callable[[Mapping[str, Any], RunContext], Any]:
    """A command factory that imports ``"package.module:Name"`` only when the command runs,
    then calls ``Name(params, context)``: heavy libraries stay out of start-up.

    ``TriggerCommand(..., factory=lazy("my_provider.runner:MyRunner"))``
    """
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ValueError(f"lazy() takes 'package.module:Name', not {path!r}")

    def factory(params: Mapping[str, Any], context: RunContext) -> Any:
        import importlib

        return getattr(importlib.import_module(module_name), attr)(params, context)

    factory.__qualname__ = f"lazy({path!r})"
    return factory


@dataclass(frozen=True)
class TriggerDisplay:
    """The words a trigger command's progress (stderr) and results table (stdout) use.

    Each text is a template filled with ``str.format`` fields; a field it does not know is left
    as written. Core supplies everything else (timestamps, ``[target]``, durations, run ids,
    statuses), so a provider declares only what names its own things. The defaults are neutral,
    for providers that declare nothing.

    :param heading: the banner's title. Fields: ``{command}``, ``{count}`` (targets).
    :param trigger: the line printed as a target's trigger call starts, after ``🚀 [target]``.
        Fields: ``{target}`` and every option's value by its key (``{invocation_type}``).
    :param details: more lines printed with it, each after ``📝 [target]``; same fields. A line
        naming how the run is made (``"Invocation type: {invocation_type}"``) makes a dry run
        visibly different from a real one.
    :param started: the line when the trigger call answers and the run goes on remotely, after
        ``✅ [target]``. Fields: ``{target}``, ``{run_id}``.
    :param succeeded_at_trigger: the line when the trigger call itself carried a success (a
        synchronous invocation), after ``✅ [target]``; a run that was waited for reads
        ``Completed successfully``.
    :param timeout: the line of a run still unfinished at ``--timeout-minutes``. Field:
        ``{minutes}``.
    :param error_label: the word before an error code (``AWS Error: ResourceNotFoundException``).
    :param error_code_key: the key of :attr:`RunResult.details` holding the remote error code
        (``aws_error_code``); ``None``: errors are shown without a code.
    :param results_title: the title above the results table.
    :param target_header: the heading of the table's first column.
    """

    heading: str = "🚀 TRIGGERING {command}"
    trigger: str = "Triggering..."
    details: tuple[str, ...] = ()
    started: str = "Started: {run_id}"
    succeeded_at_trigger: str = "Completed successfully"
    timeout: str = "Timeout waiting for the run to complete after {minutes} minutes"
    error_label: str = "Error"
    error_code_key: str | None = None
    results_title: str = "📊 RESULTS"
    target_header: str = "TARGET"


@dataclass(frozen=True)
class ListDisplay:
    """The words of a list command's progress on stderr (its table or JSON stays on stdout).

    :param heading: the banner's title. Field: ``{command}``.
    :param noun: what one row is, in the closing count (``Found 3 functions``).
    :param plural: the plural of ``noun``; default ``noun + "s"``.
    """

    heading: str = "📋 LISTING {command}"
    noun: str = "item"
    plural: str | None = None

    def count(self, n: int) -> str:
        """``Found 1 item`` / ``Found 3 items``."""
        word = self.noun if n == 1 else (self.plural or f"{self.noun}s")
        return f"Found {n} {word}"


@dataclass(frozen=True)
class TriggerCommand:
    """A ``paradime run`` command that triggers targets, optionally waits, and reports.

    :param name: the command name, ``aws-lambda-invoke``.
    :param provider: the name of the provider that registered the command; core fills it in
        with the provider's entry point name, so a provider need not give it.
    :param service: the key of the per-service poll rate cap (commands of one remote API share it).
    :param target: the target option.
    :param options: the provider's own options, in help order.
    :param factory: builds the :class:`Runner` once per command run; import
        heavy libraries inside it, not at module level.
    :param default_timeout_minutes: default of ``--timeout-minutes``.
    :param default_max_concurrency: default of ``--max-concurrency``, the trigger calls in flight
        at once. Where a trigger call is the whole run (a synchronous invocation), it is how many
        runs go on at once: a command whose runs are such calls declares more than the default.
    :param poll_rate_per_s: default of ``--poll-rate``: the most status checks per second this
        command sends to ``service``, for all its runs together. Declare a fraction of the
        remote API's published rate limit and say which in the provider's docs; the user may
        raise it with the option when their quota allows.
    :param start_rate_per_s: the most trigger calls per second, for an API whose starts have a
        published rate limit below what ``--max-concurrency`` calls at once can reach; ``None``
        (the default): triggers are bounded by ``--max-concurrency`` alone.
    :param start_burst: how many trigger calls may go at once under ``start_rate_per_s`` before
        the rate applies (the remote token bucket's headroom); default one second's worth.
    :param aliases: hidden command names kept for old schedules.
    :param emoji: the emoji of this provider's progress lines.
    :param can_cancel: ``False`` when the remote system cannot stop a run.
    :param display: the words of the command's progress lines and results table.
    :param idempotent: the runner honours :attr:`RunContext.idempotency_key` (each target's run
        started at most once per key). ``False`` (the default, and the case of a provider
        written before keys existed): core refuses a typed ``--idempotency-key`` (exit 2) and
        ignores ``PARADIME_IDEMPOTENCY_KEY`` with a warning; the runner never sees a key.
    :param idempotency_help: what the key does for this command (or why it cannot honour one),
        added to the help of ``--idempotency-key``.
    """

    name: str
    help: str
    service: str
    target: TargetOption
    factory: RunnerFactory
    provider: str = ""
    options: tuple[Option, ...] = ()
    default_timeout_minutes: float = 60.0
    default_max_concurrency: int = 10
    poll_rate_per_s: float = 10.0
    start_rate_per_s: float | None = None
    start_burst: int | None = None
    aliases: tuple[str, ...] = ()
    emoji: str = "🚀"
    can_cancel: bool = True
    display: TriggerDisplay = TriggerDisplay()
    idempotent: bool = False
    idempotency_help: str = ""


@dataclass(frozen=True)
class Column:
    """One column of a list command's table: ``key`` in each row, ``header`` shown."""

    key: str
    header: str


@dataclass(frozen=True)
class ListCommand:
    """A ``paradime run`` command that lists what a provider can trigger.

    ``provider`` is filled in by core, as for :class:`TriggerCommand`.

    :param display: the words of the command's progress lines on stderr.
    :param sort_by: the key of a column to sort the rows by once every page is read (for an API
        whose pages come in no useful order); ``None`` keeps the order the pages gave.
    """

    name: str
    help: str
    columns: tuple[Column, ...]
    factory: ListerFactory
    provider: str = ""
    options: tuple[Option, ...] = ()
    aliases: tuple[str, ...] = ()
    display: ListDisplay = ListDisplay()
    sort_by: str | None = None


Command = TriggerCommand | ListCommand
Rows = Iterable[Mapping[str, Any]]


class Runner(abc.ABC):  # noqa: B024 - either start or trigger, checked by core
    """The operations of a trigger command: built by the command's factory once per run.

    A trigger comes in steps that core drives, so that its promises hold for every provider:

    1. :meth:`prepare`: the read-only look-ups (resolve a name, read a baseline or a
       configuration). Retried by core when they fail retryably; never called once a stop
       (signal, deadline) has come.
    2. :meth:`start`: the one call that creates the run. Core sends it only after checking,
       under the same lock as the stop itself, that no stop has come; it decides every retry
       (turn the SDK's own retries off for this call).
    3. :meth:`recover`: after a start whose outcome is unknown (``RunError(outcome_unknown=
       True)``), a read-only look-up for the run that start may have made. Core starts again
       only when it says no run was made.

    A provider whose trigger is one call with nothing to look up may implement :meth:`trigger`
    alone instead (the form of plugin API 7.x): core then sends it as the run-creating call.

    Core calls ``prepare``/``start``/``recover``/``trigger`` from a pool of at most
    ``--max-concurrency`` threads and :meth:`poll` / :meth:`cancel` from its poll scheduler, so
    a runner must be safe to call from several threads at once (share thread-safe clients; keep
    no per-call state on ``self``). Each method makes one attempt and returns: no sleeping, no
    retry loops, no threads. Raise :class:`RunError` for an outcome the provider understood
    (with ``retryable=True`` only when repeating the call cannot start a second run); any other
    exception is reported as ``ERROR`` with its message, never as a traceback.
    """

    def prepare(self, target: str) -> Prepared:
        """Make the read-only look-ups of one target's start; return what :meth:`start` needs.

        Choose here whatever identifies the run before it exists (an execution name, a client
        token, the baseline a sync will be judged against) and put it in the
        :class:`Prepared`: core keeps it from the first attempt on. Return
        ``Prepared(found=state)`` when the look-ups found the run already there. Raise a
        retryable :class:`RunError` for a look-up that may be repeated (a throttle, a lost
        answer: reads are always safe to repeat). The default prepares nothing.
        """
        return Prepared()

    def start(self, target: str, prepared: Prepared) -> RunState:
        """Send the one call that creates the run of ``target``; return its state.

        Return ``RUNNING`` with a ``run_id`` and a ``handle`` when the run goes on remotely
        (core then polls it, or reports ``STARTED`` under ``--no-wait-for-completion``), or a
        terminal state when the call itself carried the outcome (a synchronous invocation).
        Raise ``RunError(retryable=True)`` when the service certainly did not act (a throttle),
        ``RunError(outcome_unknown=True)`` when it may have (the answer lost, a timeout or a 5xx
        after sending). The default sends :meth:`trigger`, for providers written against 7.x.
        """
        return self.trigger(target)

    def recover(self, target: str, prepared: Prepared) -> RunState | None:
        """After a start whose outcome is unknown: find the run it may have made, read-only.

        Return the run's state (core adopts it and follows it to its end), or ``None`` when the
        look-up shows that no run was made (core may then start again). Raise a retryable
        :class:`RunError` when the look-up itself failed transiently. The default cannot look:
        core then never starts again and ends the row ``ERROR`` "may have started", with the
        run id, name or token the :class:`Prepared` gave.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot look for a run it may have made")

    def trigger(self, target: str) -> RunState:
        """The whole trigger in one call, for a provider with no look-ups (plugin API 7.x):
        start one run of ``target`` and return its state, as :meth:`start` does.

        A provider implements either this or :meth:`start`.
        """
        raise NotImplementedError(f"{type(self).__name__} implements neither start nor trigger")

    def poll(self, target: str, state: RunState) -> RunState:
        """Check once, without blocking, how the run described by ``state`` is doing.

        Return the new state; ``run_id``, ``console_url`` and ``handle`` left as ``None`` keep
        their previous values. A transient failure should raise a retryable
        :class:`RunError`; core retries it with backoff a bounded number of times.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot poll runs")

    def cancel(self, target: str, state: RunState, reason: str) -> RunState | None:
        """Ask the remote system to stop the run, saying ``reason``.

        Called only when the user opted in (``--cancel-on-exit``) and the run is still running at
        the deadline or on SIGINT/SIGTERM. Return the state after the request (or ``None`` if
        unknown). The default says the provider cannot stop runs.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot stop runs")

    def close(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Release resources; called once when the command ends."""


@dataclass
class Page:
    """One page of a list: its rows, and the token of the next page (``None``: the last)."""

    rows: Sequence[Mapping[str, Any]]
    next: Any = None


class Lister(abc.ABC):  # noqa: B024 - either page or list
    """The operation of a list command: enumerate what the provider can trigger.

    Implement :meth:`page` (one request a page; core reads every page and retries a page that
    failed retryably, honouring ``Retry-After``, within the command's budget, so a list is
    complete or an error, never a partial table), or, as in plugin API 7.x, :meth:`list`.
    """

    def page(self, token: Any) -> Page:
        """Read one page: ``token`` is ``None`` for the first, then the previous page's ``next``.

        Raise ``RunError(retryable=True)`` for a read worth repeating (throttled, 5xx, answer
        lost): core asks for the same page again after a backoff.
        """
        raise NotImplementedError(f"{type(self).__name__} implements neither page nor list")

    def list(self) -> Rows:
        """Return (or yield) one mapping per target, keyed by the command's column keys.

        Read every page: core prints what this returns and nothing more. The default reads
        :meth:`page` after page, once each (core's retrying reader is used instead whenever a
        lister implements :meth:`page`).
        """
        token: Any = None
        while True:
            page = self.page(token)
            yield from page.rows
            if page.next is None:
                return
            token = page.next

    def close(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Release resources; called once when the command ends."""
