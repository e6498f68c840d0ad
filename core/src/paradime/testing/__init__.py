"""Test helpers for paradime and for provider authors.

* :func:`run_cli` runs the real CLI in-process and returns its exit code, stdout, stderr and the
  parsed ``--json`` document;
* :func:`progress_lines` reads stderr's progress lines without their ``HH:MM:SS`` times;
* :func:`registered` registers a provider object for the duration of a ``with`` block, exactly as
  an entry point would (alongside, or instead of, the installed ones);
* :mod:`paradime.testing.proxy` is a loopback HTTP proxy that injects faults (throttles, 5xx,
  dropped connections, latency) in front of any HTTP API and counts what passes.

The pytest plugin (:mod:`paradime.testing.plugin`, loaded automatically when paradime-core is
installed) exposes these as fixtures.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from paradime.plugins import PluginManager, get_manager, set_manager
from paradime.redaction import REDACTOR


@dataclass
class CliResult:
    """What one CLI invocation did."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        """The stdout parsed as JSON (the ``--json`` document)."""
        return json.loads(self.stdout)

    @property
    def statuses(self) -> dict[str, str]:
        """``{target: status}`` from the ``--json`` document."""
        return {r["target"]: r["status"] for r in self.json["results"]}


@contextlib.contextmanager
def _environ(env: Mapping[str, str | None] | None) -> Iterator[None]:
    saved = dict(os.environ)
    try:
        for key, value in (env or {}).items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_cli(args: Sequence[str], env: Mapping[str, str | None] | None = None) -> CliResult:
    """Run ``paradime <args>`` in this process, as the console script would."""
    from paradime.cli import invoke

    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        with _environ(env):
            code = invoke(list(args))
    finally:
        sys.stdout, sys.stderr = saved
        REDACTOR.clear()
    return CliResult(code, out.getvalue(), err.getvalue())


_TIME = re.compile(r"^\d\d:\d\d:\d\d ")


def progress_lines(stderr: str) -> list[str]:
    """The lines of ``stderr``, each ``HH:MM:SS`` prefix removed: what a test compares with
    the lines a user reads, whatever the time (``"✅ [job] Completed successfully (0m 2s)"``)."""
    return [_TIME.sub("", line) for line in stderr.splitlines()]


@contextlib.contextmanager
def registered(*plugins: Any, entry_points: bool = False) -> Iterator[PluginManager]:
    """Register provider objects in a fresh plugin manager for the ``with`` block.

    With ``entry_points=True`` the installed providers are loaded too.
    """
    previous = get_manager() if entry_points else None
    manager = PluginManager()
    if entry_points:
        manager.load_entry_points()
    else:
        manager._loaded = True  # no entry points: only what the test registers
    for i, plugin in enumerate(plugins):
        name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{i}"
        manager.register(plugin, name=name)
    set_manager(manager)
    try:
        yield manager
    finally:
        set_manager(previous)
