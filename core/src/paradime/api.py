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

The names are defined in core's internal modules (:mod:`paradime.outcomes`,
:mod:`paradime.operations`, :mod:`paradime.declarations`, :mod:`paradime.idempotency`) and are
the same objects here; this module, with :mod:`paradime.hookspecs` and :mod:`paradime.testing`,
is the stable surface: import from it, never from those.
"""

from __future__ import annotations

import pluggy

from paradime.declarations import (
    Choice,
    Column,
    Command,
    ListCommand,
    ListDisplay,
    ListerFactory,
    Option,
    OptionSource,
    OptionType,
    RunContext,
    RunnerFactory,
    TargetOption,
    TriggerCommand,
    TriggerDisplay,
    lazy,
)
from paradime.idempotency import IDEMPOTENCY_KEY_ENVVAR, IDEMPOTENCY_KEY_OPTION, idempotency_token
from paradime.operations import Lister, Page, Prepared, Rows, Runner
from paradime.outcomes import RunError, RunResult, RunState, RunStatus, SetupError, UsageError

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
