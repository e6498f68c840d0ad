"""Internal: the operations a provider implements, :class:`Runner` and :class:`Lister`, and
what passes between their steps (:class:`Prepared`, :class:`Page`).

Part of the plugin API: providers import these names from :mod:`paradime.api`, never from here.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from paradime.outcomes import RunState

__all__ = ["Lister", "Page", "Prepared", "Rows", "Runner"]

Rows = Iterable[Mapping[str, Any]]


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
