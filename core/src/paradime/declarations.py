"""Internal: the data a provider declares (commands, options, displays) and the
:class:`RunContext` core hands its factory.

Part of the plugin API: providers import these names from :mod:`paradime.api`, never from here.
Nothing here imports anything heavy: every installed provider's declarations are built for
``paradime run --help``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from paradime.idempotency import IDEMPOTENCY_KEY_ENVVAR, IDEMPOTENCY_KEY_OPTION
from paradime.operations import Lister, Runner
from paradime.outcomes import UsageError

__all__ = [
    "Choice",
    "Column",
    "Command",
    "ListCommand",
    "ListDisplay",
    "ListerFactory",
    "Option",
    "OptionSource",
    "OptionType",
    "RunContext",
    "RunnerFactory",
    "TargetOption",
    "TriggerCommand",
    "TriggerDisplay",
    "lazy",
]


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
    from paradime.redaction import REDACTOR

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


RunnerFactory = Callable[[Mapping[str, Any], RunContext], Runner]
ListerFactory = Callable[[Mapping[str, Any], RunContext], Lister]


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
