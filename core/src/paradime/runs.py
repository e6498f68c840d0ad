"""Internal: what happens when a ``paradime run`` trigger command runs.

The click values are read once into :class:`CommonSettings` and the provider's own ``params``;
then a trigger command builds its runner and hands it to the :class:`~paradime.engine.Engine`
(a list command builds its lister and prints the rows: :mod:`paradime.listing`). Usage errors
are one line and exit code 2, before any remote call; the result goes to stdout; observers hear
about it last.
"""

from __future__ import annotations

import dataclasses
import gc
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from paradime.api import (
    IDEMPOTENCY_KEY_ENVVAR,
    IDEMPOTENCY_KEY_OPTION,
    Option,
    OptionSource,
    RunContext,
    Runner,
    RunResult,
    RunStatus,
    SetupError,
    TargetOption,
    TriggerCommand,
    UsageError,
)
from paradime.inputs import STDIN, check_text
from paradime.redaction import REDACTOR, add_url_password

if TYPE_CHECKING:
    from paradime.engine import Capacity

# Above this, --max-concurrency is a usage error: each unit is a trigger thread, a poll thread
# and pooled connections, and a typo of a few zeros would start that many before any call.
MAX_CONCURRENCY = 1000
# Above this, --poll-rate is a usage error: no API paradime calls publishes a status-check quota
# near it, and a typo would spend the account's quota for every other client.
MAX_POLL_RATE = 1000.0


def alias_key(key: str, alias: str) -> str:
    """The click destination of a hidden alias, so that both spellings can be told apart."""
    return f"_alias__{key}__{alias.lstrip('-').replace('-', '_')}"


@dataclass(frozen=True)
class CommonSettings:
    """The options core adds to every command, checked."""

    log_level: str | None
    log_format: str | None
    json_output: bool
    wait: bool = False
    timeout_minutes: float = 0.0
    max_concurrency: int = 1
    cancel_on_exit: bool = False
    poll_rate: float = 0.0
    idempotency_key: str | None = None
    idempotency_key_source: OptionSource = OptionSource.DEFAULT

    @property
    def timeout_s(self) -> float:
        return self.timeout_minutes * 60

    @classmethod
    def of(cls, values: Mapping[str, Any], *, trigger: bool) -> CommonSettings:
        """Read (and for a trigger command, check) the common options; raises UsageError."""
        logs = cls(
            log_level=values.get("log_level"),
            log_format=values.get("log_format"),
            json_output=bool(values.get("json_output")),
        )
        if not trigger:
            return logs
        timeout = values["timeout_minutes"]
        if not timeout > 0 or timeout != timeout or timeout == float("inf"):
            raise UsageError(
                f"invalid value for '--timeout-minutes': {timeout:g} (must be above 0)"
            )
        concurrency = values["max_concurrency"]
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise UsageError(
                f"invalid value for '--max-concurrency': {concurrency} "
                f"(from 1 to {MAX_CONCURRENCY})"
            )
        poll_rate = values["poll_rate"]
        if not 0 < poll_rate <= MAX_POLL_RATE:  # NaN fails too
            raise UsageError(
                f"invalid value for '--poll-rate': {poll_rate:g} (above 0, at most "
                f"{MAX_POLL_RATE:g} status checks a second)"
            )
        return dataclasses.replace(
            logs,
            wait=bool(values["wait_for_completion"]),
            timeout_minutes=float(timeout),
            max_concurrency=int(concurrency),
            cancel_on_exit=bool(values["cancel_on_exit"]),
            poll_rate=float(poll_rate),
            **_idempotency_key(values.get("idempotency_key")),
        )


# An Airflow run id is at most 250 characters; a key is hashed into each token, so its length
# only bounds what a user may paste.
MAX_IDEMPOTENCY_KEY_LENGTH = 256


def _idempotency_key(value: Any) -> dict[str, Any]:
    """``--idempotency-key`` checked, surrounding blanks dropped, and where it came from."""
    source = _source("idempotency_key")
    if value is None:
        return {}
    where = IDEMPOTENCY_KEY_ENVVAR if source is OptionSource.ENVIRONMENT else IDEMPOTENCY_KEY_OPTION
    key = str(value).strip()
    problem = None
    if not key:
        problem = "empty"
    elif len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        problem = f"{len(key)} characters (at most {MAX_IDEMPOTENCY_KEY_LENGTH})"
    elif any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in key):
        problem = "it contains control characters"
    if problem:
        raise UsageError(f"invalid value for '{where}': {problem}")
    return {"idempotency_key": key, "idempotency_key_source": source}


# -- parsing ------------------------------------------------------------------------------
def _merge_alias(key: str, names: Sequence[str], values: Mapping[str, Any], main: str) -> Any:
    """The value of an option given under its name or one hidden alias, never both."""
    given = [(main, values.get(key))] + [
        (alias, values.get(alias_key(key, alias))) for alias in names
    ]
    present = [(n, v) for n, v in given if v not in (None, ())]
    if len(present) > 1:
        spelled = " and ".join(n for n, _ in present)
        raise UsageError(f"{spelled} are the same option; give it once")
    return present[0][1] if present else values.get(key)


def parse_targets(target: TargetOption, values: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Targets in order, duplicates dropped; returns (targets, warnings)."""
    raw: list[str] = []
    keys = [target.key] + [alias_key(target.key, alias) for alias in target.aliases]
    for key in keys:  # old and new spellings together: both are lists of targets
        for value in values.get(key) or ():
            raw.extend(value.split(","))
    if not raw:
        raise UsageError(f"missing option '{target.name}': name at least one target")
    targets: list[str] = []
    warnings: list[str] = []
    for item in raw:
        name = item.strip()
        if not name:
            raise UsageError(f"{target.name}: empty target name")
        try:
            check_text(name)
        except UsageError as exc:
            raise UsageError(f"{target.name}: {exc}") from None
        if target.validate is not None:
            try:
                name = target.validate(name)
            except UsageError as exc:
                raise UsageError(f"{target.name}: {exc}") from None
        if name in targets:
            warnings.append(f"duplicate target '{name}' given more than once; triggering it once")
            continue
        targets.append(name)
    return targets, warnings


def check_same_targets(
    target: TargetOption, targets: Sequence[str], params: Mapping[str, Any]
) -> None:
    """Refuse two spellings of one target (a name and its ARN): each would start a run.
    Parts the provider cannot know offline (``None``) agree with anything."""
    if target.canonical is None:
        return
    by_last: dict[str | None, list[tuple[str, tuple[str | None, ...]]]] = {}
    for spelled in targets:
        parts = target.canonical(spelled, params)
        # The last part (the bare name) is always known: only those sharing it can agree.
        same_name = by_last.setdefault(parts[-1] if parts else None, [])
        for other, other_parts in same_name:
            if len(parts) == len(other_parts) and all(
                a is None or b is None or a == b for a, b in zip(parts, other_parts, strict=True)
            ):
                raise UsageError(
                    f"{target.name}: '{other}' and '{spelled}' name the same target; give it once"
                )
        same_name.append((spelled, parts))


def parse_options(options: Sequence[Option], values: Mapping[str, Any]) -> dict[str, Any]:
    """Provider option values after aliases, comma splitting and each option's ``parse``.

    Every value must be UTF-8 text. An option given ``-`` (standard input, by convention) is
    parsed after every other one, so that a usage error elsewhere is reported without waiting
    on standard input.
    """
    raw: dict[str, Any] = {}
    for option in options:
        value = _merge_alias(option.key, option.aliases, values, option.name)
        if option.multiple:
            items = list(value or ())
            if option.split_commas:
                items = [part.strip() for item in items for part in item.split(",")]
            value = tuple(items)
        for item in value if isinstance(value, tuple) else (value,):
            if option.secret and value:
                REDACTOR.add(item)
            add_url_password(item)  # a base or endpoint URL's userinfo
        if option.required and value in (None, (), ""):
            where = f" (or set {_envvar_names(option)})" if option.envvar else ""
            raise UsageError(f"missing option '{option.name}'{where}")
        raw[option.key] = value
    parsed: dict[str, Any] = {}
    for stdin_pass in (False, True):
        for option in options:
            value = raw[option.key]
            if (value == STDIN) is stdin_pass:
                parsed[option.key] = _parse_option(option, value)
    return {option.key: parsed[option.key] for option in options}


def _parse_option(option: Option, value: Any) -> Any:
    try:
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, str):
                check_text(item)
        if option.parse is not None and value not in (None, ()):
            return option.parse(value)
    except UsageError as exc:
        raise UsageError(f"invalid value for '{option.name}': {exc}") from None
    return value


def option_sources(options: Sequence[Option]) -> dict[str, OptionSource]:
    """Where each option's value came from, as click saw it (an alias typed counts as the
    option typed)."""
    return {
        option.key: _source(option.key, *(alias_key(option.key, alias) for alias in option.aliases))
        for option in options
    }


def _source(*names: str) -> OptionSource:
    """Where the value of the click parameter(s) ``names`` came from; without a click context
    (a command run by hand, in a test), the command line."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return OptionSource.COMMAND_LINE
    seen = {ctx.get_parameter_source(name) for name in names}
    if ParameterSource.COMMANDLINE in seen:
        return OptionSource.COMMAND_LINE
    if ParameterSource.ENVIRONMENT in seen:
        return OptionSource.ENVIRONMENT
    return OptionSource.DEFAULT


def _envvar_names(option: Option) -> str:
    names = [option.envvar] if isinstance(option.envvar, str) else list(option.envvar or ())
    return " or ".join(names)


# -- running ------------------------------------------------------------------------------
def echo_error(text: str) -> None:
    """One ``Error:`` line on stderr, redacted like every other output."""
    from paradime import log

    log.write_error(f"Error: {' '.join(text.split())}")


def usage_exit(exc: UsageError) -> int:
    echo_error(str(exc))
    return 2


def run_context(
    command: str,
    settings: CommonSettings,
    logger: Any,
    options: Sequence[Option],
    take_poll_request: Callable[[], bool] | None = None,
    concurrent_calls: int = 0,
) -> RunContext:
    context = RunContext(
        command=command,
        wait=settings.wait,
        timeout_s=settings.timeout_s,
        max_concurrency=settings.max_concurrency,
        logger=logger,
        add_secret=REDACTOR.add,
        option_sources={
            **option_sources(options),
            "idempotency_key": settings.idempotency_key_source,
        },
        add_secret_pattern=REDACTOR.add_pattern,
        concurrent_calls=concurrent_calls,
        idempotency_key=settings.idempotency_key,
    )
    if take_poll_request is not None:
        context.take_poll_request = take_poll_request
    return context


def run_trigger(command: TriggerCommand, values: Mapping[str, Any]) -> int:
    """Run a trigger command from its click values; returns the exit code.

    The steps: read and check every value (a usage error is one line, exit 2, before any
    remote call); size the engine and build the runner; run the engine; report."""
    from paradime import log
    from paradime.engine import capacity

    log.configure(values.get("log_level"), values.get("log_format"))
    try:
        settings = CommonSettings.of(values, trigger=True)
        targets, warnings = parse_targets(command.target, values)
        params = parse_options(command.options, values)  # standard input last
        check_same_targets(command.target, targets, params)
    except UsageError as exc:
        return usage_exit(exc)
    logger = log.get_logger(command=command.name)
    # The engine's threads and rate caps, set up once: its poll cap also limits the further
    # requests a poll may send, and its threads size the clients' connection pools.
    calls = capacity(command, len(targets), settings.max_concurrency, settings.poll_rate)
    context = run_context(
        command.name,
        settings,
        logger,
        command.options,
        lambda: calls.limiter.acquire(command.service, time.monotonic()) == 0.0,
        calls.threads,
    )
    try:
        runner = _build_runner(command, params, context)
    except UsageError as exc:
        return usage_exit(exc)  # the one line of a usage error: no warnings before it
    except SetupError as exc:
        return _not_set_up(command, targets, settings, logger, exc)
    collect_garbage_from_now_on()
    for warning in warnings:
        logger.warning(warning)
    results, exit_override = _run_engine(
        command, runner, targets, params, settings, context, calls, logger
    )
    return _report(command, results, settings, exit_override=exit_override)


def _build_runner(
    command: TriggerCommand, params: Mapping[str, Any], context: RunContext
) -> Runner:
    """The command's runner, from its factory; a key the command cannot honour is declined
    first (a usage error when typed). Raises UsageError or SetupError."""
    if not command.idempotent:
        context.decline_idempotency_key(
            command.idempotency_help.rstrip(".")
            or f"{command.name} does not support idempotency keys"
        )
    return command.factory(params, context)


def _not_set_up(
    command: TriggerCommand,
    targets: Sequence[str],
    settings: CommonSettings,
    logger: Any,
    exc: SetupError,
) -> int:
    """The command cannot run at all (no credentials): one message, an ERROR row a target."""
    message = " ".join(str(exc).split())
    logger.error(message)
    results = [
        RunResult(target=t, status=RunStatus.ERROR, error=f"not triggered: {message}")
        for t in targets
    ]
    return _report(command, results, settings, exit_override=None)


def _run_engine(
    command: TriggerCommand,
    runner: Runner,
    targets: list[str],
    params: Mapping[str, Any],
    settings: CommonSettings,
    context: RunContext,
    calls: Capacity,
    logger: Any,
) -> tuple[list[RunResult], int | None]:
    """The progress banner, the engine's run, the runner closed: the results and the exit
    code a signal imposes (None without one)."""
    from paradime.engine import Engine
    from paradime.output import Reporter

    reporter = Reporter(
        command.name, command.emoji, display=command.display, params=params, wait=settings.wait
    )
    reporter.banner(targets)
    key = context.idempotency_key
    if key is not None:
        logger.info(
            f"idempotency key '{key}': a run already made under it is attached to and reported, "
            "not started again"
        )
    engine = Engine(
        command,
        runner,
        targets,
        wait=settings.wait,
        timeout_s=settings.timeout_s,
        max_concurrency=settings.max_concurrency,
        cancel_on_exit=settings.cancel_on_exit,
        reporter=reporter,
        calls=calls,
    )
    try:
        results = engine.run()
    finally:
        try:
            runner.close()
        except Exception as exc:  # closing must not change the outcome
            logger.debug("runner close failed", error=str(exc))
    if key is not None:
        for result in results:
            result.details = {"idempotency_key": key, "attached": result.attached, **result.details}
    return results, engine.exit_code_override


def collect_garbage_from_now_on() -> None:
    """Once a command has started (its runner built), turn the cycle collector back on if the
    console script kept it off while starting (:func:`paradime.cli.main`), with everything that
    exists by then frozen out of its view: a long wait collects only what the wait creates."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def exit_code_for(results: Sequence[RunResult], wait: bool) -> int:
    """0 when every target succeeded (or started, when not waiting), else 1."""
    ok_statuses = {RunStatus.SUCCEEDED} | (set() if wait else {RunStatus.STARTED})
    return 0 if results and all(r.status in ok_statuses for r in results) else 1


def _report(
    command: TriggerCommand,
    results: list[RunResult],
    settings: CommonSettings,
    exit_override: int | None,
) -> int:
    from paradime import log
    from paradime.plugins import get_manager
    from paradime.results import print_results_json, print_results_table

    code = exit_code_for(results, settings.wait)
    if settings.json_output:
        # "ok" says what the exit code says: after a signal (130/143) it is false, however
        # the runs ended.
        ok = code == 0 and exit_override in (None, 0)
        print_results_json(command.name, results, ok=ok)
    else:
        print_results_table(results, command.display)
    ids = ", ".join(f"{r.target} {r.run_id}" for r in results if r.run_id)
    if log.report_lost_output(ids):
        code = log.OUTPUT_LOST_EXIT
    if exit_override is not None:  # a signal's code says more than a lost result
        code = exit_override
    get_manager().notify_run_finished(command=command.name, results=results, exit_code=code)
    return code
