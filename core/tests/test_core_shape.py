"""The shape of core: module and function sizes, a lifecycle that does no I/O."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import paradime

ROOT = Path(paradime.__file__).resolve().parent
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
# Known debts, each to be split (none now); the test fails when one is paid, so the list stays
# true.
OVERSIZED_MODULES: set[str] = set()
OVERSIZED_FUNCTIONS: set[str] = set()


def test_no_core_module_or_function_is_over_its_size():
    modules, functions = set(), set()
    for path in ROOT.rglob("*.py"):
        name = str(path.relative_to(ROOT))
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES:
            modules.add(name)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                    functions.add(f"{name}:{node.name}")
    assert modules == OVERSIZED_MODULES
    assert functions == OVERSIZED_FUNCTIONS


FORBIDDEN = ("socket", "threading", "time", "queue", "os", "signal", "subprocess")


def test_the_lifecycle_and_its_wording_import_no_io_module():
    for name in ("lifecycle.py", "endings.py"):
        tree = ast.parse((ROOT / name).read_text(encoding="utf-8"))
        imported = {
            a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import)
            for a in n.names
        }
        imported |= {
            (n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
        }
        assert not imported & set(FORBIDDEN), (name, imported & set(FORBIDDEN))


LIFE_WITHOUT_IO = """
import socket, threading, time

def refuse(*args, **kwargs):
    raise AssertionError("the lifecycle did I/O, started a thread or read the clock")

for module, names in (
    (socket, ("socket", "create_connection", "getaddrinfo")),
    (threading, ("Thread", "Timer")),
    (time, ("time", "monotonic", "sleep", "perf_counter", "localtime")),
):
    for name in names:
        setattr(module, name, refuse)

import random
from datetime import datetime, timezone
from paradime import lifecycle
from paradime.api import Prepared, RunError, RunState, RunStatus

wall = datetime(2026, 1, 1, tzinfo=timezone.utc)
settings = lifecycle.Settings(command="x", can_cancel=True, wait=True, cancel_on_exit=True,
    deadline=100.0, poll_rate=1.0, prepares=True, recovers=True)
life = lifecycle.Lifecycle(["a", "b"], settings, rng=random.Random(0))
a, b = life.runs
for run in (a, b):
    send = life.next_step(run)
    assert life.gate(run, send.call, stopping=False, signalled=False, now=1.0, wall=wall)[0]
    life.answer(send.call, run, 0, Prepared(run_id="id-" + run.target, handle=1), 1.0, wall)
    send = life.next_step(run)
    life.gate(run, send.call, stopping=False, signalled=False, now=1.0, wall=wall)
life.answer(lifecycle.Call.TRIGGER, a, 0, RunError("lost", outcome_unknown=True), 2.0, wall)
life.answer(lifecycle.Call.TRIGGER, b, 0, RunState(RunStatus.RUNNING), 2.0, wall)
life.check(b)
life.answer(lifecycle.Call.POLL, b, 0, RunError("blip", retryable=True), 3.0, wall)
life.stopping = True
actions, to_cancel = life.wind_down(lifecycle.Stop("SIGINT", 1.0), wall)
for run in to_cancel:
    life.stopped(run, lifecycle.Stop("SIGINT", 1.0), RunState(RunStatus.STOPPED), wall)
assert life.unfinished == 0, life.runs
print("ok")
"""


def test_the_lifecycle_runs_with_sockets_threads_and_clocks_refused():
    done = subprocess.run(
        [sys.executable, "-c", LIFE_WITHOUT_IO], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
