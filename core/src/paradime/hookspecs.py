"""The plugin API: every pluggy hook spec, and the operations a provider implements.

A provider is a distribution with an entry point in the ``paradime.providers`` group. The object
the entry point names is registered with pluggy (project name ``paradime``) and implements
:func:`paradime_register_commands`. Each command it registers carries a factory; core calls the
factory when the command runs and drives the returned :class:`Runner` (trigger, poll, cancel) or
:class:`Lister` (list). Core owns threads, polling, deadlines, signals and output: a runner makes
one remote call per method and returns.

Compatibility: a hook implementation may accept fewer arguments than its spec, so new hook
arguments are added without breaking providers. New runner methods get a default on the base
class for the same reason.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from paradime.api import Command, Rows, RunResult, RunState

hookspec = pluggy.HookspecMarker("paradime")
hookimpl = pluggy.HookimplMarker("paradime")


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


class Runner(abc.ABC):
    """The operations of a trigger command: built by the command's factory once per run.

    Core calls :meth:`trigger` from a pool of at most ``--max-concurrency`` threads and
    :meth:`poll` / :meth:`cancel` from its poll scheduler, so a runner must be safe to call from
    several threads at once (share thread-safe clients; keep no per-call state on ``self``).
    Each method makes one attempt and returns: no sleeping, no retry loops, no threads.
    Raise :class:`~paradime.api.RunError` for an outcome the provider understood (with
    ``retryable=True`` only when repeating the call cannot start a second run); any other
    exception is reported as ``ERROR`` with its message, never as a traceback.
    """

    @abc.abstractmethod
    def trigger(self, target: str) -> RunState:
        """Start one run of ``target`` and return its state.

        Return ``RUNNING`` with a ``run_id`` and a ``handle`` when the run goes on remotely (core
        then polls it, or reports ``STARTED`` under ``--no-wait-for-completion``), or a terminal
        state when the call itself carried the outcome (a synchronous invocation).
        """

    def poll(self, target: str, state: RunState) -> RunState:
        """Check once, without blocking, how the run described by ``state`` is doing.

        Return the new state; ``run_id``, ``console_url`` and ``handle`` left as ``None`` keep
        their previous values. A transient failure should raise a retryable
        :class:`~paradime.api.RunError`; core retries it with backoff a bounded number of times.
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


class Lister(abc.ABC):
    """The operation of a list command: enumerate what the provider can trigger."""

    @abc.abstractmethod
    def list(self) -> Rows:
        """Return (or yield) one mapping per target, keyed by the command's column keys.

        Read every page: core prints what this returns and nothing more.
        """
