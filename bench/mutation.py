"""Mutation testing of core's decision modules, with mutmut (pinned in requirements-dev.txt).

    python bench/mutation.py [module ...]      # default: the modules below

Copies core into a scratch directory laid out as mutmut 3 expects (``src/`` + ``tests/``),
runs ``mutmut run`` there against the tests that cover each module, and prints the kill rate
per module and in all, with the surviving mutants (``mutmut show <name>`` shows one).
Offline: mutmut and its dependencies install from the local PyPI mirror.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = {
    "lifecycle": [
        "test_pinned_behaviours.py",
        "test_lifecycle_simulation.py",
        "test_engine_steps.py",
        "test_engine_stop.py",
    ],
    "polling": ["test_pinned_behaviours.py", "test_engine_schedule.py"],
    "log": ["test_pinned_behaviours.py", "test_error_lines_redacted.py"],
    "endings": ["test_engine_stop.py", "test_engine_steps.py"],
}


def run(module: str) -> tuple[int, int, list[str]]:
    with tempfile.TemporaryDirectory(prefix="mutation-") as scratch:
        work = Path(scratch)
        shutil.copytree(ROOT / "core" / "src", work / "src")
        shutil.copytree(ROOT / "core" / "tests", work / "tests")
        tests = "".join(f"\n    tests/{name}" for name in MODULES[module])
        (work / "setup.cfg").write_text(
            "[mutmut]\n"
            f"source_paths = src/paradime/{module}.py\n"
            f"pytest_add_cli_args_test_selection = {tests}\n"
            "pytest_add_cli_args =\n    -p\n    no:xdist\n"
            "also_copy = src\n",
            encoding="utf-8",
        )
        mutmut = [sys.executable, "-m", "mutmut"]
        subprocess.run([*mutmut, "run"], cwd=work, check=True)
        out = subprocess.run(
            [*mutmut, "results", "--all", "true"], cwd=work, capture_output=True, text=True
        ).stdout
    results = re.findall(r"^\s*(\S+): (\w[\w ]*)$", out, re.M)
    killed = sum(1 for _name, status in results if status == "killed")
    survivors = [name for name, status in results if status != "killed"]
    return killed, len(results), survivors


def main() -> int:
    total_killed = total = 0
    for module in sys.argv[1:] or list(MODULES):
        killed, count, survivors = run(module)
        total_killed, total = total_killed + killed, total + count
        rate = 100 * killed / count if count else 0.0
        print(f"{module}: {killed}/{count} killed ({rate:.0f} %)")
        for name in survivors:
            print(f"  survived: {name}")
    print(f"all: {total_killed}/{total} killed ({100 * total_killed / max(1, total):.0f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
