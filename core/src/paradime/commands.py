"""Internal: click commands built from provider declarations.

A provider declares options as data (:class:`~paradime.api.Option`); this module turns them, the
target option and core's common options into one :class:`click.Command` whose callback hands the
values to :mod:`paradime.runs`. Nothing here runs anything.
"""

from __future__ import annotations

from typing import Any

import click

from paradime.api import (
    IDEMPOTENCY_KEY_ENVVAR,
    IDEMPOTENCY_KEY_OPTION,
    Choice,
    Command,
    Option,
    TargetOption,
    TriggerCommand,
)
from paradime.listing import run_list
from paradime.runs import MAX_CONCURRENCY, MAX_POLL_RATE, alias_key, run_trigger

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 120}
LOG_LEVEL_CHOICE = click.Choice(["debug", "info", "warning", "error"], case_sensitive=False)
LOG_FORMAT_CHOICE = click.Choice(["console", "json"], case_sensitive=False)


class NoEchoCommand(click.Command):
    """A command that never echoes an unexpected extra argument: it is most often a value whose
    option name was left out, and that value may be a secret (``--aws-session-token`` forgotten
    before a token)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        self._refuse_repeats(ctx, args)
        allowed = ctx.allow_extra_args
        ctx.allow_extra_args = True
        rest = super().parse_args(ctx, args)
        ctx.allow_extra_args = allowed
        if ctx.args and not allowed:
            count = len(ctx.args)
            plural = "s" if count > 1 else ""
            ctx.fail(
                f"got {count} unexpected extra argument{plural}, not shown as it may be a "
                "secret: is an option name missing before a value?"
            )
        return rest

    def _refuse_repeats(self, ctx: click.Context, args: list[str]) -> None:
        """A single-valued option typed twice (``--timeout-minutes 5 --timeout-minutes 1e-9``)
        is refused: click would keep the last, silently, and which was meant cannot be told."""
        takes_value: dict[str, click.Option | None] = {}  # None: repeatable
        for param in self.get_params(ctx):
            if isinstance(param, click.Option) and not param.is_flag and not param.count:
                for name in param.opts:
                    takes_value[name] = None if param.multiple else param
        seen: dict[str, str] = {}
        index = 0
        while index < len(args):
            name, eq, _ = args[index].partition("=")
            if args[index] == "--":
                break
            if name in takes_value:
                single = takes_value[name]
                if single is not None and single.name is not None:
                    if single.name in seen:
                        ctx.fail(f"{name} is given twice; give it once")
                    seen[single.name] = name
                index += 0 if eq else 1  # its value, whatever it looks like
            index += 1
        return None


def log_options() -> list[click.Option]:
    """``--log-level`` and ``--log-format``, on every provider command."""
    return [
        click.Option(
            ["--log-level"],
            type=LOG_LEVEL_CHOICE,
            envvar="PARADIME_LOG_LEVEL",
            show_envvar=True,
            help="Log level (also PYTHONLOGLEVEL). Default: info.",
        ),
        click.Option(
            ["--log-format"],
            type=LOG_FORMAT_CHOICE,
            envvar="PARADIME_LOG_FORMAT",
            show_envvar=True,
            help="Human console lines or JSON lines on stderr. Default: console.",
        ),
    ]


def _click_type(option: Option) -> Any:
    if isinstance(option.type, Choice):
        return click.Choice(list(option.type.values), case_sensitive=option.type.case_sensitive)
    return {str: click.STRING, int: click.INT, float: click.FLOAT}.get(option.type, click.STRING)


def _to_click(option: Option, names: list[str], *, hidden: bool, dest: str) -> click.Option:
    common: dict[str, Any] = {
        "help": f"{option.help} [required]" if option.required and not hidden else option.help,
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
        params.append(_to_click(option, [alias], hidden=True, dest=alias_key(option.key, alias)))
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
                [alias, alias_key(target.key, alias)], multiple=True, hidden=True, metavar="LIST"
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
            help="Give up waiting after this many minutes (fractions allowed: 0.5 is 30 s); "
            "unfinished runs are TIMED_OUT.",
        ),
        click.Option(
            ["--max-concurrency", "max_concurrency"],
            type=click.INT,
            default=command.default_max_concurrency,
            show_default=True,
            help=f"Trigger calls in flight at once (at most {MAX_CONCURRENCY}).",
        ),
        click.Option(
            ["--poll-rate", "poll_rate"],
            type=click.FLOAT,
            default=command.poll_rate_per_s,
            show_default=True,
            metavar="PER_SECOND",
            help="Status checks a second, at most, for all runs together (the service's "
            "request quota is shared with the account's other clients; raise it when yours "
            f"allows, at most {MAX_POLL_RATE:g}). Each run is checked every 2 to 30 s while "
            "the rate allows; more runs than 30 x the rate are each checked less often.",
        ),
        click.Option(
            ["--cancel-on-exit", "cancel_on_exit"],
            is_flag=True,
            default=False,
            help="Stop remote runs still running when the timeout is reached or on SIGINT/SIGTERM."
            if command.can_cancel
            # Accepted (schedules pass it to every command), but it must not promise a stop.
            else f"Stops nothing here: {command.name} cannot stop its runs. A run still going "
            "at the timeout (TIMED_OUT) or on SIGINT/SIGTERM (RUNNING) is left running.",
        ),
        click.Option(
            ["--json", "json_output"], is_flag=True, help="Print the result as one JSON document."
        ),
        click.Option(
            [IDEMPOTENCY_KEY_OPTION, "idempotency_key"],
            envvar=IDEMPOTENCY_KEY_ENVVAR,
            show_envvar=True,
            metavar="KEY",
            help=idempotency_help(command),
        ),
    ]


def idempotency_help(command: TriggerCommand) -> str:
    """The help of ``--idempotency-key``: what it promises, then what it does for ``command``."""
    if command.idempotent:
        # Only what holds for every provider: what a rerun under the key finds is the
        # provider's to say (some services forget a run once it has ended).
        text = (
            "For a scheduler's retries: run again with the same key, command and targets, and "
            "this command does not start a run the service can tell was started under the key; "
            "what it can tell follows. A new key starts new runs."
        )
    else:
        text = (
            "This command cannot honour a key: typed here it is refused (exit 2); set in "
            f"{IDEMPOTENCY_KEY_ENVVAR} it is ignored with a warning."
        )
    return f"{text} {command.idempotency_help}".strip()


def build_command(declared: Command, invoked_as: str | None = None) -> click.Command:
    """A click command for a declaration; ``invoked_as`` keeps a hidden alias's own name."""
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
    params.extend(log_options())

    def callback(**values: Any) -> int:
        if isinstance(declared, TriggerCommand):
            return run_trigger(declared, values)
        return run_list(declared, values)

    return NoEchoCommand(
        name=invoked_as or declared.name,
        params=params,
        callback=callback,
        help=declared.help,
        short_help=declared.help.split("\n")[0],
        context_settings=CONTEXT,
    )
