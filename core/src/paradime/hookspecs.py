"""Every pluggy hook spec of the plugin API (the rest of the API is :mod:`paradime.api`).

A provider is a distribution with an entry point in the ``paradime.providers`` group. The object
the entry point names is registered with pluggy (project name ``paradime``) and implements
:func:`paradime_register_commands`. Each command it registers carries a factory; core calls the
factory when the command runs and drives the returned :class:`~paradime.api.Runner` (trigger,
poll, cancel) or :class:`~paradime.api.Lister` (list). Core owns threads, polling, deadlines,
signals and output: a runner makes one remote call per method and returns.

Compatibility: a hook implementation may accept fewer arguments than its spec, so new hook
arguments are added without breaking providers. New runner methods get a default on the base
class for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pluggy

# Runner, Lister and hookimpl live in paradime.api; they stay importable from here.
from paradime.api import Command, Lister, Runner, RunResult, hookimpl

__all__ = [
    "Lister",
    "Runner",
    "hookimpl",
    "hookspec",
    "paradime_register_commands",
    "paradime_run_finished",
]

hookspec = pluggy.HookspecMarker("paradime")


@hookspec
def paradime_register_commands(register: Callable[[Command], None]) -> None:
    """Declare the ``paradime run`` commands this provider adds.

    Call ``register(command)`` once per :class:`~paradime.api.TriggerCommand` or
    :class:`~paradime.api.ListCommand`. Called once per process, when the ``run`` group is first
    built; must not import heavy libraries or make remote calls. A name already registered by
    another provider is refused with a warning naming both.

    :param register: the callback that adds one command.
    """


@hookspec
def paradime_run_finished(command: str, results: Sequence[RunResult], exit_code: int) -> None:
    """Observe the outcome of a trigger command, after its summary is printed.

    For notifiers and audit logs. Called once per trigger command run, also after a timeout or an
    interrupt; an exception raised here is logged and does not change the exit code.

    :param command: the command's name as declared (not a hidden alias).
    :param results: one result per target, in the order the targets were given.
    :param exit_code: the code the process is about to exit with.
    """
