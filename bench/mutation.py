"""Mutation testing of the decision modules, with mutmut (pinned in requirements-dev.txt).

    python bench/mutation.py [--diffs] [target ...]   # default: the targets not marked slow
    python bench/mutation.py --all                     # every target in TARGETS

For each target, one at a time, copies its package (``src/`` and ``tests/``) into a scratch
directory laid out as mutmut 3 expects, runs ``mutmut run`` there on at most two processes
against the tests that cover the target, and prints the kill rate per target and in all, with
the mutants not killed (``--diffs``: with each one's change). A target
restricted to some functions or classes of its module mutates only those (mutmut's mutant-name
patterns). Offline: mutmut and its dependencies install from the local PyPI mirror.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Processes mutmut may use: the machine is shared.
MAX_CHILDREN = 2
# As mutmut scores it: a mutant the tests hang on is caught (pytest-timeout fails them).
CAUGHT = ("killed", "timeout")


@dataclass(frozen=True)
class Target:
    """What to mutate: ``module`` (a path under the package's ``src/``), only ``names`` of it
    when given (top-level functions or classes), tested by ``tests`` (files of its ``tests/``)."""

    package: str  # a folder of ROOT holding src/ and tests/
    module: str
    tests: tuple[str, ...]
    names: tuple[str, ...] = ()
    # Its tests run the driver on real threads for seconds: an hour or more on two processes.
    slow: bool = False


CORE, HTTP = "core", "providers/http_common"
PINNED = "test_pinned_behaviours.py"
HTTP_TESTS = ("test_http_api.py", "test_tokens.py", "test_new_provider.py", "test_http_sdk.py")

# Change a module path or a name here when code moves between modules.
TARGETS = {
    "lifecycle": Target(
        CORE,
        "paradime/lifecycle.py",
        (PINNED, "test_lifecycle_simulation.py", "test_engine_steps.py", "test_engine_stop.py"),
        slow=True,
    ),
    # The lifecycle against the tests that need no thread or clock (pinned behaviours and the
    # simulation, run with PARADIME_SIMULATION_PROFILE=quick): minutes instead of an hour.
    "lifecycle-pure": Target(
        CORE, "paradime/lifecycle.py", (PINNED, "test_lifecycle_simulation.py"), slow=True
    ),
    "polling": Target(
        CORE, "paradime/polling.py", (PINNED, "test_engine_schedule.py", "test_polling.py")
    ),
    "endings": Target(
        CORE, "paradime/endings.py", ("test_engine_stop.py", "test_engine_steps.py"), slow=True
    ),
    "redaction": Target(
        CORE,
        "paradime/redaction.py",
        (PINNED, "test_error_lines_redacted.py", "test_redaction.py"),
        names=("Redactor", "add_url_password", "written_forms"),
    ),
    "idempotency-token": Target(
        CORE,
        "paradime/idempotency.py",
        ("test_idempotency.py", "test_idempotency_token.py"),
        names=("idempotency_token",),
    ),
    "http-errors": Target(HTTP, "paradime_http/errors.py", HTTP_TESTS),
    "http-tokens": Target(HTTP, "paradime_http/tokens.py", HTTP_TESTS),
}


def patterns(target: Target) -> list[str]:
    """mutmut's mutant-name patterns for the target's names (``x_f__mutmut_1`` for a function,
    ``xǁClassǁmethod__mutmut_1`` for a method)."""
    dotted = target.module.removesuffix(".py").replace("/", ".")
    return [p for n in target.names for p in (f"{dotted}.x_{n}__mutmut_*", f"{dotted}.xǁ{n}ǁ*")]


def run(target: Target, diffs: bool) -> list[tuple[str, str, str]]:
    """Every mutant of the target with its status (killed, survived, timeout, no tests...)
    and, with ``diffs``, its change when it was not killed."""
    with tempfile.TemporaryDirectory(prefix="mutation-") as scratch:
        work = Path(scratch)
        shutil.copytree(ROOT / target.package / "src", work / "src")
        shutil.copytree(ROOT / target.package / "tests", work / "tests")
        present = [name for name in target.tests if (work / "tests" / name).exists()]
        tests = "".join(f"\n    tests/{name}" for name in present)
        (work / "setup.cfg").write_text(
            "[mutmut]\n"
            f"source_paths = src/{target.module}\n"
            f"pytest_add_cli_args_test_selection = {tests}\n"
            "pytest_add_cli_args =\n    -p\n    no:xdist\n"
            "also_copy = src\n",
            encoding="utf-8",
        )
        mutmut = [sys.executable, "-m", "mutmut"]
        selected = patterns(target)
        subprocess.run(
            [*mutmut, "run", "--max-children", str(MAX_CHILDREN), *selected],
            cwd=work,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        out = subprocess.run(
            [*mutmut, "results", "--all", "true"], cwd=work, capture_output=True, text=True
        ).stdout
        results = re.findall(r"^\s*(\S+): (\w[\w ]*)$", out, re.M)
        if selected:
            results = [r for r in results if any(fnmatch.fnmatch(r[0], p) for p in selected)]
        missed = [m for m, s in results if s not in CAUGHT]
        changes = show(work, missed) if diffs and missed else {}
        return [(m, s, changes.get(m, "")) for m, s in results]


# Prints each named mutant's diff after a marker line, in one process (``mutmut show`` per
# mutant costs a second each).
SHOW = """
import sys
from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant
for name in sys.argv[1:]:
    print("@@mutant " + name)
    print(get_diff_for_mutant(name, path=find_mutant(name).path))
"""


def show(work: Path, mutants: list[str]) -> dict[str, str]:
    """Each mutant's change (the +/- lines of its diff), by name."""
    out = subprocess.run(
        [sys.executable, "-c", SHOW, *mutants], cwd=work, capture_output=True, text=True
    ).stdout
    changes: dict[str, list[str]] = {}
    lines: list[str] = []
    for line in out.splitlines():
        if line.startswith("@@mutant "):
            lines = changes.setdefault(line.split(" ", 1)[1], [])
        elif line[:1] in "+-" and line[:3] not in ("+++", "---"):
            lines.append(f"      {line}")
    return {name: "\n".join(lines) for name, lines in changes.items()}


def main() -> int:
    args = sys.argv[1:]
    diffs = "--diffs" in args
    total_killed = total = 0
    named = [a for a in args if not a.startswith("--")]
    everything = "--all" in args
    for name in named or [n for n, t in TARGETS.items() if everything or not t.slow]:
        results = run(TARGETS[name], diffs)
        killed = sum(1 for _mutant, status, _diff in results if status in CAUGHT)
        timeouts = sum(1 for _mutant, status, _diff in results if status == "timeout")
        total_killed, total = total_killed + killed, total + len(results)
        rate = 100 * killed / len(results) if results else 0.0
        note = f", {timeouts} by timeout" if timeouts else ""
        print(f"{name}: {killed}/{len(results)} killed ({rate:.0f} %{note})", flush=True)
        for mutant, status, diff in results:
            if status not in CAUGHT:
                print(f"  {status}: {mutant}", flush=True)
                if diff:
                    print(diff, flush=True)
    print(f"all: {total_killed}/{total} killed ({100 * total_killed / max(1, total):.0f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
