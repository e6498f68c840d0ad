"""Internal: the ``paradime`` console script.

``paradime run`` is a click group whose commands are built from the declarations providers
register; nothing provider-specific is written here. Errors caught before any remote call are
one line and exit code 2; an expected failure never prints a traceback.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from paradime import __version__
from paradime.commands import CONTEXT, NoEchoCommand, build_command

# click 8.2+ signals "no arguments, show help" with this UsageError subclass.
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", None)
PLUGIN_ENV_VARS = ("PARADIME_LOAD_PLUGINS", "PARADIME_DISABLE_PLUGINS")


def no_providers_reason() -> str:
    """Why no provider is loaded: none is installed, or an environment variable selected none."""
    import os

    selected = {k: os.environ[k] for k in PLUGIN_ENV_VARS if k in os.environ}
    if not selected:
        return "no providers are installed"
    settings = ", ".join(f"{k}={v!r}" for k, v in selected.items())
    return f"no providers are loaded: {settings} selected none"


def no_providers_hint() -> str:
    """What to do when no provider is loaded."""
    reason = no_providers_reason()
    return (
        f"{reason[0].upper()}{reason[1:]}. Install one to add commands, for example:\n"
        "  pip install paradime-aws-lambda paradime-aws-stepfunctions paradime-aws-sagemaker\n"
        "then see 'paradime providers'."
    )


class RunGroup(click.Group):
    """``paradime run``: the commands of every installed provider, built on first use."""

    def _manager(self) -> Any:
        from paradime.plugins import get_manager

        manager = get_manager()
        manager.collect_commands()
        manager.emit_warnings()
        return manager

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._manager().commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        manager = self._manager()
        name = manager.aliases.get(cmd_name, cmd_name)
        declared = manager.commands.get(name)
        if declared is None:
            return None
        return build_command(declared, invoked_as=cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if not self.list_commands(ctx):
            with formatter.section("Commands"):
                formatter.write_text(f"\b\n{no_providers_hint()}")  # \b: keep the pip line whole
            return
        super().format_commands(ctx, formatter)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            if not self.list_commands(ctx):
                raise click.UsageError(
                    f"no such command '{args[0]}': {no_providers_reason()} "
                    "(pip install paradime-aws-lambda, for example)"
                ) from exc
            raise


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", "-V", prog_name="paradime")
def cli() -> None:
    """paradime: trigger jobs in other systems, wait for them, and report truthfully."""


@cli.group(cls=RunGroup, context_settings=CONTEXT)
def run() -> None:
    """Trigger jobs (or list what can be triggered) with an installed provider.

    \b
    Exit codes: 0 every target succeeded (or started, with --no-wait-for-completion);
    1 any target did not; 2 bad usage (nothing was called); 130 interrupted (SIGINT),
    143 terminated (SIGTERM).
    """


@cli.command(cls=NoEchoCommand, context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
def providers(as_json: bool) -> None:
    """List installed providers, their commands, and any that failed to load.

    \b
    A provider that fails to load is listed with the reason and skipped; the others work.
    PARADIME_LOAD_PLUGINS=a,b loads only those providers ('' loads none);
    PARADIME_DISABLE_PLUGINS=a,b skips those (entry point or distribution names).
    """
    import json

    from paradime import log
    from paradime.api import Column
    from paradime.plugins import get_manager
    from paradime.results import print_rows

    manager = get_manager()
    manager.collect_commands()
    manager.emit_warnings()  # stderr, so that --json output stays one document
    rows: list[dict[str, Any]] = [
        {
            "name": info.name,
            "distribution": info.distribution,
            "version": info.version,
            "commands": info.commands,
            "error": info.error,
        }
        for info in manager.providers.values()
    ]
    if as_json:
        log.write_stdout(json.dumps(rows, indent=2))
        return
    if not rows:
        log.write_stdout(no_providers_hint())
        return
    table = [
        {**row, "commands": ", ".join(row["commands"]) or "-", "error": row["error"] or "-"}
        for row in rows
    ]
    columns = (
        Column("name", "PROVIDER"),
        Column("distribution", "DISTRIBUTION"),
        Column("version", "VERSION"),
        Column("commands", "COMMANDS"),
        Column("error", "LOAD ERROR"),
    )
    print_rows(columns, table, as_json=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns (and exits with) the process exit code."""
    # Starting a command creates a hundred thousand long-lived objects (modules, botocore's
    # service models) and almost no garbage, so the cycle collector would walk them again and
    # again: a quarter of a one-target run's time, and once more at exit. It is off while the
    # command starts; paradime.runs turns it back on once the runner is built.
    gc.disable()
    code = invoke(argv)
    gc.freeze()  # nothing left for the collection at exit to walk
    _exit(code)


def _exit(code: int) -> NoReturn:
    """Exit with ``code``. After an interrupt or a deadline, worker threads may still be blocked
    in a remote call; tearing the interpreter down around such daemon threads can crash it at
    exit (seen as SIGSEGV on a loaded machine), which would replace the exit code a scheduler
    reads. Everything is written by then, so flush and leave without the teardown."""
    import threading

    log = sys.modules.get("paradime.log")
    lost = log is not None and log.output_lost() is not None
    # A result that could not be written is still buffered: the interpreter's own flush at
    # exit would print a traceback and exit 120 instead.
    if not lost and not any(t.daemon and t.is_alive() for t in threading.enumerate()):
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started closed (>&-)
            continue
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach it
            pass
    os._exit(code)


def invoke(argv: Sequence[str] | None = None) -> int:
    """Run the CLI without exiting; returns the exit code. Usage errors print one line."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = cli.main(args=args, prog_name="paradime", standalone_mode=False)
    except click.UsageError as exc:
        if _NO_ARGS_IS_HELP is not None and isinstance(exc, _NO_ARGS_IS_HELP) and exc.ctx:
            click.echo(exc.ctx.get_help())
            return 2
        message = exc.format_message()
        hint = ""
        if exc.ctx is not None and exc.ctx.command is not cli:
            hint = f" (see '{exc.ctx.command_path} --help')"
        from paradime.log import write_error

        write_error(f"Error: {' '.join(message.split())}{hint}")
        return 2
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except click.ClickException as exc:
        click.echo(f"Error: {exc.format_message()}", err=True)
        return exc.exit_code
    code = result if isinstance(result, int) else 0
    from paradime import log

    return log.OUTPUT_LOST_EXIT if log.report_lost_output() and code == 0 else code
