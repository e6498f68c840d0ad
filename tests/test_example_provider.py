"""The example third-party provider as a user gets it: ``pip install ./core
./providers/http_common ./examples/paradime-jobapi`` into a fresh virtual environment (not
editable, nothing else: the HTTP SDK registers no provider), then
the installed ``paradime`` console script run against the example's fake job API.

Slow (one ``pip install``), so one environment serves every test of this module.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "paradime-jobapi"
BIN = "Scripts" if os.name == "nt" else "bin"


def _load_fake() -> ModuleType:
    """The example's fake API module, from its tests folder (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location("jobapi_fake", EXAMPLE / "tests/fake_jobapi.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with paradime-core, the HTTP SDK and the example installed."""
    path = tmp_path_factory.mktemp("example-venv")
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=300)
    pip = subprocess.run(
        [
            str(path / BIN / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(ROOT / "core"),
            str(ROOT / "providers" / "http_common"),
            str(EXAMPLE),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert pip.returncode == 0, f"pip install failed:\n{pip.stdout}\n{pip.stderr}"
    return path


@pytest.fixture
def api() -> Iterator[Any]:
    fake = _load_fake().FakeJobApi().start()
    yield fake
    fake.stop()


def paradime(venv: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    """Run the venv's console script with a clean environment (no PARADIME_*, no JOBAPI_*)."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PARADIME_", "JOBAPI_", "PYTHON", "VIRTUAL_ENV"))
    }
    return subprocess.run(
        [str(venv / BIN / "paradime"), *args],
        env={**base, "NO_COLOR": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_only_core_and_the_example_are_installed(venv):
    done = paradime(venv, "providers", "--json")
    assert done.returncode == 0, done.stderr
    version = re.search(r'^version = "([^"]+)"', (EXAMPLE / "pyproject.toml").read_text(), re.M)
    assert version is not None
    assert json.loads(done.stdout) == [
        {
            "name": "jobapi",
            "distribution": "paradime-example-jobapi",
            "version": version.group(1),
            "commands": ["jobapi-sync", "jobapi-list-connectors"],
            "error": None,
        }
    ]


def test_run_help_lists_the_example_commands(venv):
    done = paradime(venv, "run", "--help")
    assert done.returncode == 0, done.stderr
    commands = re.findall(r"^  (\S+)", done.stdout.split("Commands:")[1], re.M)
    assert commands == ["jobapi-list-connectors", "jobapi-sync"]


def test_a_sync_through_the_installed_console_script(venv, api):
    api.add_connector("orders", polls=1)
    done = paradime(venv, "run", "jobapi-sync", "--connector-id", "orders", "--json", env=api.env)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    [job] = api.jobs_of("orders")
    assert doc["command"] == "jobapi-sync"
    assert doc["ok"] is True
    [row] = doc["results"]
    assert row["target"] == "orders"
    assert row["status"] == "SUCCEEDED"
    assert row["run_id"] == job.id
    assert row["output"] == {"rows_synced": 1200}
    assert row["duration_s"] > 0
    assert "LIVE PROGRESS" in done.stderr


def test_a_failure_exits_one_with_every_target_reported(venv, api):
    api.add_connector("orders")
    api.add_connector("billing", outcome="failed", error_message="source timed out")
    done = paradime(
        venv, "run", "jobapi-sync", "--connector-id", "billing,orders,nope", "--json", env=api.env
    )
    assert done.returncode == 1
    rows = {r["target"]: r for r in json.loads(done.stdout)["results"]}
    assert {t: r["status"] for t, r in rows.items()} == {
        "billing": "FAILED",
        "orders": "SUCCEEDED",
        "nope": "ERROR",
    }
    assert rows["billing"]["error"] == "sync_failed: source timed out"
    assert "connector 'nope' not found" in rows["nope"]["error"]
    assert "Traceback" not in done.stderr


def test_list_connectors_through_the_installed_console_script(venv, api):
    for name in ("orders", "billing", "users"):
        api.add_connector(name)
    done = paradime(venv, "run", "jobapi-list-connectors", "--json", env=api.env)
    assert done.returncode == 0, done.stderr
    assert [row["id"] for row in json.loads(done.stdout)] == ["orders", "billing", "users"]


def test_a_missing_api_key_is_a_usage_error_before_any_request(venv, api):
    env = {"JOBAPI_BASE_URL": api.url}
    done = paradime(venv, "run", "jobapi-sync", "--connector-id", "orders", env=env)
    assert done.returncode == 2
    assert done.stderr.strip() == "Error: missing option '--api-key' (or set JOBAPI_API_KEY)"
    assert api.requests == []


# -- what the guides say of the example (no install needed) ---------------------------------
def test_the_plugin_guide_quotes_the_example_code_as_it_is():
    """docs/plugins.md shows the example's runner, lister and status table: each is a verbatim
    part of ``client.py``."""
    code = (EXAMPLE / "src/paradime_jobapi/client.py").read_text()
    guide = (ROOT / "docs/plugins.md").read_text()
    quoted = [
        block
        for block in re.findall(r"```python\n(.*?)```", guide, re.S)
        if block.startswith(("class SyncRunner(", "class ConnectorLister(", "STATUSES ="))
    ]
    assert len(quoted) == 3
    for block in quoted:
        assert block.strip() in code


def test_the_example_is_as_many_lines_as_its_readme_says_and_at_most_120():
    """The README's figure, counted as the README says: ``cat src/paradime_jobapi/*.py | grep
    -cvE '^\\s*($|#)'``."""
    said = re.search(r"the provider is (\d+) lines", (EXAMPLE / "README.md").read_text())
    assert said is not None
    sources = sorted((EXAMPLE / "src/paradime_jobapi").glob("*.py"))
    lines = [line for path in sources for line in path.read_text().splitlines()]
    counted = sum(1 for line in lines if not re.match(r"\s*($|#)", line))
    assert counted == int(said.group(1)) <= 120
