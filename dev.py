#!/usr/bin/env python3
"""Development commands that need nothing but Python 3 (3.10+) and its standard library.

    python3 dev.py demo    # local AWS emulator with demo resources, every command run on it
    python3 dev.py test    # lint, types, the whole test suite, each package alone (tox), and
                           # each distribution's wheel and sdist (twine check, installed alone)
    python3 dev.py bench   # the benchmarks (bench/), figures printed as a table

Each command first makes ``.venv`` (once; again when a pyproject or requirements file changes)
with every package installed editable plus the development tools.
"""

from __future__ import annotations

import concurrent.futures
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PACKAGES = [
    "./core",
    "./providers/aws_common[testing]",
    "./providers/aws_lambda",
    "./providers/aws_sfn",
    "./providers/aws_sagemaker",
    "./providers/http_common[testing]",
    "./providers/fivetran[testing]",
    "./providers/airbyte[testing]",
]


def _inputs_digest() -> str:
    digest = hashlib.sha256()
    files = [ROOT / "requirements-dev.txt", ROOT / "dev.py"]
    files += sorted(ROOT.glob("core/pyproject.toml")) + sorted(
        ROOT.glob("providers/*/pyproject.toml")
    )
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    completed = subprocess.run([str(a) for a in args], cwd=ROOT, env=env, check=False)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def ensure_venv() -> None:
    stamp = VENV / ".installed"
    digest = _inputs_digest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    if sys.version_info < (3, 10):  # noqa: UP036 - people run this with any python3
        sys.exit("paradime needs Python 3.10 or newer")
    print(f"Setting up {VENV.relative_to(ROOT)} (one time)...", flush=True)
    venv.EnvBuilder(with_pip=True, clear=not stamp.exists() and VENV.exists()).create(VENV)
    python = BIN / "python"
    run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    editable = [arg for pkg in PACKAGES for arg in ("-e", pkg)]
    run(python, "-m", "pip", "install", "--quiet", "-r", "requirements-dev.txt", *editable)
    stamp.write_text(digest)


# The oldest and the newest Python the packages declare (requires-python, classifiers): core's
# tests and the Lambda provider's invocation tests run on each one found on this machine.
PYTHON_RANGE = ("3.10", "3.13")
RANGE_PACKAGES = ["./core", "./providers/aws_common[testing]", "./providers/aws_lambda"]
RANGE_TESTS = ["core/tests", "providers/aws_lambda/tests/test_invoke.py"]


def find_python(version: str) -> str | None:
    """An interpreter of exactly ``version``: on PATH, else under pyenv's versions folder."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(str(pyenv / "versions" / f"{version}.*" / "bin" / "python3")))
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def test_python_range() -> None:
    """Core's and one provider's tests on the oldest and newest supported Python."""
    dev_pins = [
        line.split("#")[0].strip()
        for line in (ROOT / "requirements-dev.txt").read_text().splitlines()
        if line.startswith(("pytest", "moto", "boto3", "hypothesis"))
    ]
    for version in PYTHON_RANGE:
        python = find_python(version)
        if python is None:
            print(f"Python {version} not found on this machine: its test run is skipped.")
            continue
        venv_dir = ROOT / f".venv-py{version}"
        bin_dir = venv_dir / ("Scripts" if os.name == "nt" else "bin")
        stamp = venv_dir / ".installed"
        digest = _inputs_digest()
        if not stamp.exists() or stamp.read_text() != digest:
            print(f"Setting up {venv_dir.name} with {python}...", flush=True)
            run(python, "-m", "venv", "--clear", venv_dir)
            editable = [arg for pkg in RANGE_PACKAGES for arg in ("-e", pkg)]
            run(bin_dir / "python", "-m", "pip", "install", "--quiet", *dev_pins, *editable)
            stamp.write_text(digest)
        # The main run explores the lifecycle's simulation; here it only has to run.
        quick = {**os.environ, "PARADIME_SIMULATION_PROFILE": "quick"}
        run(bin_dir / "python", "-m", "pytest", "-q", "-n", "2", *RANGE_TESTS, env=quick)


# Every distribution of the repository, as published.
DISTRIBUTIONS = [
    "core",
    "providers/aws_common",
    "providers/aws_lambda",
    "providers/aws_sfn",
    "providers/aws_sagemaker",
    "providers/http_common",
    "providers/fivetran",
    "providers/airbyte",
    "examples/paradime-jobapi",
]


def _installs_alone(wheel: Path, dist: Path) -> str | None:
    """Install ``wheel`` into an empty virtual environment, its dependencies found only among
    the built wheels; then ``paradime providers --json`` must list it at its version. Returns
    what went wrong, or None."""
    name, version = wheel.name.split("-")[:2]
    target = dist.parent / "venvs" / name
    venv.EnvBuilder(clear=True, with_pip=False).create(target)
    python = target / ("Scripts" if os.name == "nt" else "bin") / "python"
    pip = [str(BIN / "python"), "-m", "pip", "--python", str(python), "install", "--quiet"]
    steps = [
        [*pip, "--no-index", "--find-links", str(dist), str(wheel)],
        [str(python.parent / "paradime"), "providers", "--json"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return f"{wheel.name}: {' '.join(step[-3:])} failed:\n{done.stdout}{done.stderr}"
    listed = {row["distribution"]: row["version"] for row in json.loads(done.stdout)}
    distribution = name.replace("_", "-")
    if distribution in listed and listed[distribution] != version:
        return f"{wheel.name}: paradime providers shows version {listed[distribution]}"
    return None


def check_distributions() -> None:
    """Each distribution's sdist, and a wheel built from that sdist (so a file missing from an
    sdist fails here), pass ``twine check --strict`` and install alone into an empty venv."""
    dist = ROOT / "build" / "dist"
    shutil.rmtree(dist.parent, ignore_errors=True)
    python = BIN / "python"
    for path in DISTRIBUTIONS:
        run(python, "-m", "build", "--sdist", "--no-isolation", "--outdir", dist, path)
    sdists = sorted(dist.glob("*.tar.gz"))
    # One pip run builds every wheel and fetches the third-party ones they need (from pip's
    # cache once seen), so that the installs below need no index.
    run(python, "-m", "pip", "wheel", "--quiet", "--no-build-isolation", "-w", dist, *sdists)
    ours = sorted(dist.glob("paradime*.whl"))
    run(BIN / "twine", "check", "--strict", *sdists, *ours)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        problems = [p for p in pool.map(lambda w: _installs_alone(w, dist), ours) if p]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"{len(ours)} distributions build, pass twine check and install alone.")


def demo() -> None:
    ensure_venv()
    run(BIN / "python", "demo/run.py", *sys.argv[2:])


def test() -> None:
    ensure_venv()
    started = time.monotonic()
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    run(BIN / "mypy")
    # The tests that cross packages; each package's own tests run once, in tox below, with the
    # package installed alone. pytest exits 5 when it collects nothing: that fails here too.
    run(BIN / "pytest", "-n", "2", "-q", *(sys.argv[2:] or ["tests"]))
    # --recreate: tox does not notice changed sources of path dependencies.
    check_distributions()
    run(BIN / "tox", "run-parallel", "--recreate", "--parallel", "2", "--parallel-no-spinner", "-q")
    test_python_range()
    print(f"All checks passed in {time.monotonic() - started:.0f} s.")


def bench() -> None:
    ensure_venv()
    run(BIN / "python", "bench/run.py", *sys.argv[2:])


COMMANDS = {"demo": demo, "test": test, "bench": bench, "dists": check_distributions}

if __name__ == "__main__":
    if sys.argv[1:2] == ["dists"]:
        ensure_venv()
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3 dev.py {{{'|'.join(COMMANDS)}}} [args]")
    COMMANDS[sys.argv[1]]()
