"""Click commands built from provider declarations, and what happens when one runs."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from paradime.api import (
    Choice,
    Command,
    ListCommand,
    Option,
    RunContext,
    RunResult,
    RunStatus,
    SetupError,
    TargetOption,
    TriggerCommand,
    UsageError,
)

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 120}
DEFAULT_MAX_CONCURRENCY = 10
ENGINE_KEYS = (
    "wait_for_completion",
    "timeout_minutes",
    "max_concurrency",
    "cancel_on_exit",
    "json_output",
    "log_level",
    "log_format",
)


def _alias_key(key: str, alias: str) -> str:
    return f"_alias__{key}__{alias.lstrip('-').replace('-', '_')}"


def _click_type(option: Option) -> Any:
    if isinstance(option.type, Choice):
        return click.Choice(list(option.type.values), case_sensitive=option.type.case_sensitive)
    return {str: click.STRING, int: click.INT, float: click.FLOAT}.get(option.type, click.STRING)


def _to_click(option: Option, names: list[str], *, hidden: bool, dest: str) -> click.Option:
    common: dict[str, Any] = {
        "help": option.help,
        "hidden": hidden,
        "metavar": option.metavar,
        "envvar": None if hidden else option.envvar,
        "show_envvar": option.envvar is not None and not hidden,
    }
    if option.type is bool:
        decl = f"{names[0]}/{option.secondary}" if option.secondary else names[0]
        return click.Option(
            [decl, dest],
            is_flag=True,
            default=None if hidden else bool(option.default),
            show_default=option.secondary is not None and not hidden,
            **common,
        )
    return click.Option(
        [*names, dest],
        type=_click_type(option),
        multiple=option.multiple,
        default=None if (hidden or option.multiple) else option.default,
        show_default=option.default is not None and not option.secret and not hidden,
        **common,
    )


def _option_params(option: Option) -> list[click.Option]:
    params = [_to_click(option, [option.name], hidden=option.hidden, dest=option.key)]
    for alias in option.aliases:
        params.append(_to_click(option, [alias], hidden=True, dest=_alias_key(option.key, alias)))
    return params


def _target_params(target: TargetOption) -> list[click.Option]:
    params = [
        click.Option(
            [target.name, target.key],
            multiple=True,
            metavar=target.metavar,
            help=f"{target.help} Repeat it, or separate values with commas.",
        )
    ]
    for alias in target.aliases:
        params.append(
            click.Option(
                [alias, _alias_key(target.key, alias)], multiple=True, hidden=True, metavar="LIST"
            )
        )
    return params


def _engine_params(command: TriggerCommand) -> list[click.Option]:
    return [
        click.Option(
            ["--wait-for-completion/--no-wait-for-completion", "wait_for_completion"],
            default=True,
            show_default=True,
            help="Wait for every run to finish, or report STARTED once triggered.",
        ),
        click.Option(
            ["--timeout-minutes", "timeout_minutes"],
            type=click.FLOAT,
            default=command.default_timeout_minutes,
            show_default=True,
            help="Give up waiting after this many minutes; unfinished runs are TIMED_OUT.",
        ),
        click.Option(
            ["--max-concurrency", "max_concurrency"],
            type=click.INT,
            default=DEFAULT_MAX_CONCURRENCY,
            show_default=True,
            help="Trigger calls in flight at once.",
        ),
        click.Option(
            ["--cancel-on-exit", "cancel_on_exit"],
            is_flag=True,
            default=False,
            help="Stop remote runs still running when the timeout is reached or on SIGINT/SIGTERM.",
        ),
        click.Option(
            ["--json", "json_output"], is_flag=True, help="Print the result as one JSON document."
        ),
    ]


def build_command(declared: Command, invoked_as: str | None = None) -> click.Command:
    """A click command for a declaration; ``invoked_as`` keeps a hidden alias's own name."""
    from paradime.cli import _log_options

    params: list[click.Parameter] = []
    if isinstance(declared, TriggerCommand):
        params.extend(_target_params(declared.target))
    for option in declared.options:
        params.extend(_option_params(option))
    if isinstance(declared, TriggerCommand):
        params.extend(_engine_params(declared))
    else:
        params.append(
            click.Option(["--json", "json_output"], is_flag=True, help="Print one JSON array.")
        )
    params.extend(_log_options())

    def callback(**values: Any) -> int:
        if isinstance(declared, TriggerCommand):
            return run_trigger(declared, values)
        return run_list(declared, values)

    return click.Command(
        name=invoked_as or declared.name,
        params=params,
        callback=callback,
        help=declared.help,
        short_help=declared.help.split("\n")[0],
        context_settings=CONTEXT,
    )


# -- parsing ------------------------------------------------------------------------------
def _merge_alias(key: str, names: Sequence[str], values: Mapping[str, Any], main: str) -> Any:
    """The value of an option given under its name or one hidden alias, never both."""
    given = [(main, values.get(key))] + [
        (alias, values.get(_alias_key(key, alias))) for alias in names
    ]
    present = [(n, v) for n, v in given if v not in (None, ())]
    if len(present) > 1:
        spelled = " and ".join(n for n, _ in present)
        raise UsageError(f"{spelled} are the same option; give it once")
    return present[0][1] if present else values.get(key)


def parse_targets(target: TargetOption, values: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Targets in order, duplicates dropped; returns (targets, warnings)."""
    raw: list[str] = []
    keys = [target.key] + [_alias_key(target.key, alias) for alias in target.aliases]
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


def parse_options(options: Sequence[Option], values: Mapping[str, Any]) -> dict[str, Any]:
    """Provider option values after aliases, comma splitting and each option's ``parse``."""
    from paradime.log import REDACTOR

    params: dict[str, Any] = {}
    for option in options:
        value = _merge_alias(option.key, option.aliases, values, option.name)
        if option.multiple:
            items = list(value or ())
            if option.split_commas:
                items = [part.strip() for item in items for part in item.split(",")]
            value = tuple(items)
        if option.secret and value:
            for item in value if isinstance(value, tuple) else (value,):
                REDACTOR.add(item)
        if option.parse is not None and value not in (None, ()):
            try:
                value = option.parse(value)
            except UsageError as exc:
                raise UsageError(f"invalid value for '{option.name}': {exc}") from None
        params[option.key] = value
    return params


def _check_engine_values(values: Mapping[str, Any]) -> None:
    timeout = values["timeout_minutes"]
    if not timeout > 0 or timeout != timeout or timeout == float("inf"):
        raise UsageError(f"invalid value for '--timeout-minutes': {timeout:g} (must be above 0)")
    if values["max_concurrency"] < 1:
        given = values["max_concurrency"]
        raise UsageError(f"invalid value for '--max-concurrency': {given} (must be 1 or more)")


# -- running ------------------------------------------------------------------------------
def _echo_error(text: str) -> None:
    """One ``Error:`` line on stderr, redacted like every other output."""
    from paradime.log import REDACTOR

    click.echo(REDACTOR(f"Error: {' '.join(text.split())}"), err=True)


def _usage_exit(exc: UsageError) -> int:
    _echo_error(str(exc))
    return 2


def run_trigger(command: TriggerCommand, values: Mapping[str, Any]) -> int:
    from paradime import log
    from paradime.engine import Engine
    from paradime.output import Reporter

    log.configure(values.get("log_level"), values.get("log_format"))
    try:
        _check_engine_values(values)
        params = parse_options(command.options, values)
        targets, warnings = parse_targets(command.target, values)
    except UsageError as exc:
        return _usage_exit(exc)
    logger = log.get_logger(command=command.name)
    wait = bool(values["wait_for_completion"])
    timeout_s = float(values["timeout_minutes"]) * 60
    context = RunContext(
        command=command.name,
        wait=wait,
        timeout_s=timeout_s,
        max_concurrency=int(values["max_concurrency"]),
        logger=logger,
        add_secret=log.REDACTOR.add,
    )
    reporter = Reporter(
        command.name, command.emoji, display=command.display, params=params, wait=wait
    )
    try:
        runner = command.factory(params, context)
    except UsageError as exc:
        return _usage_exit(exc)  # the one line of a usage error: no warnings before it
    except SetupError as exc:
        message = " ".join(str(exc).split())
        logger.error(message)
        results = [
            RunResult(target=t, status=RunStatus.ERROR, error=f"not triggered: {message}")
            for t in targets
        ]
        return _report(command, results, values, exit_override=None)

    for warning in warnings:
        logger.warning(warning)
    reporter.banner(targets)
    engine = Engine(
        command,
        runner,
        targets,
        wait=wait,
        timeout_s=timeout_s,
        max_concurrency=context.max_concurrency,
        cancel_on_exit=bool(values["cancel_on_exit"]),
        reporter=reporter,
    )
    try:
        results = engine.run()
    finally:
        try:
            runner.close()
        except Exception as exc:  # closing must not change the outcome
            logger.debug("runner close failed", error=str(exc))
    return _report(command, results, values, exit_override=engine.exit_code_override)


def exit_code_for(results: Sequence[RunResult], wait: bool) -> int:
    ok_statuses = {RunStatus.SUCCEEDED} | (set() if wait else {RunStatus.STARTED})
    return 0 if results and all(r.status in ok_statuses for r in results) else 1


def _report(
    command: TriggerCommand,
    results: list[RunResult],
    values: Mapping[str, Any],
    exit_override: int | None,
) -> int:
    from paradime.output import print_results_json, print_results_table
    from paradime.plugins import get_manager

    code = exit_code_for(results, bool(values["wait_for_completion"]))
    if values.get("json_output"):
        print_results_json(command.name, results, ok=code == 0)
    else:
        print_results_table(results, command.display)
    if exit_override is not None:
        code = exit_override
    # Each observer on its own, in pluggy's order: one failing must neither change the outcome
    # nor silence the others (a single hook call stops at the first exception).
    arguments = {"command": command.name, "results": results, "exit_code": code}
    for impl in reversed(get_manager().pm.hook.paradime_run_finished.get_hookimpls()):
        try:
            impl.function(*(arguments[name] for name in impl.argnames))
        except Exception as exc:
            print(
                f"Warning: a paradime_run_finished hook failed (provider '{impl.plugin_name}'): "
                f"{exc}",
                file=sys.stderr,
            )
    return code


def run_list(command: ListCommand, values: Mapping[str, Any]) -> int:
    import time

    from paradime import log
    from paradime.api import RunError
    from paradime.output import ListReporter, print_rows

    log.configure(values.get("log_level"), values.get("log_format"))
    logger = log.get_logger(command=command.name)
    reporter = ListReporter(command.name, command.display)
    try:
        params = parse_options(command.options, values)
        context = RunContext(
            command=command.name,
            wait=False,
            timeout_s=0.0,
            max_concurrency=1,
            logger=logger,
            add_secret=log.REDACTOR.add,
        )
        lister = command.factory(params, context)
    except UsageError as exc:
        return _usage_exit(exc)
    except SetupError as exc:
        _echo_error(str(exc))
        return 1
    reporter.heading()
    started = time.monotonic()
    try:
        rows = list(lister.list())
    except RunError as exc:
        _echo_error(exc.message)
        return 1
    except Exception as exc:
        logger.debug("unexpected error", exc_info=exc)
        _echo_error(f"{type(exc).__name__}: {exc}")
        return 1
    reporter.found(len(rows), time.monotonic() - started)
    print_rows(command.columns, rows, as_json=bool(values.get("json_output")))
    return 0
