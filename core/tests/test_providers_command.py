"""``paradime providers``, and start-up with providers found as installed distributions.

Each test writes distributions into a temporary directory put on ``sys.path`` (a
``<name>.dist-info`` folder with ``METADATA`` and ``entry_points.txt``, and the module its entry
point names), exactly what ``pip install`` leaves in site-packages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paradime.plugins import set_manager
from paradime.testing import run_cli

PARADIME = Path(sys.executable).parent / "paradime"

GOOD_MODULE = """
from paradime.api import hookimpl
from paradime.api import Column, ListCommand, RunState, RunStatus, TargetOption, TriggerCommand
from paradime.api import Lister, Runner


class _Runner(Runner):
    def trigger(self, target):
        return RunState(RunStatus.SUCCEEDED, run_id="r-" + target)


class _Lister(Lister):
    def list(self):
        return [{"name": "thing"}]


@hookimpl
def paradime_register_commands(register):
    register(TriggerCommand(
        name="acme-run", help="Run acme things.", provider="acme", service="acme",
        target=TargetOption("--thing", "A thing."), factory=lambda params, context: _Runner(),
    ))
    register(ListCommand(
        name="acme-list", help="List acme things.", provider="acme",
        columns=(Column("name", "NAME"),), factory=lambda params, context: _Lister(),
    ))
"""
BROKEN_MODULE = "raise RuntimeError('boom: needs acme-sdk>=3')\n"
BAD_DECLARATION_MODULE = """
from paradime.api import hookimpl

@hookimpl
def paradime_register_commands(register):
    raise KeyError("no-such-setting")
"""
MISSPELLED_HOOK_MODULE = """
from paradime.api import hookimpl

@hookimpl
def paradime_register_command(register):
    pass
"""


class Site:
    """A directory of installed distributions on ``sys.path``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[str] = []

    def install(
        self, distribution: str, entry_point: str, source: str, version: str = "1.0"
    ) -> str:
        module = f"{distribution.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        (self.root / f"{module}.py").write_text(source)
        info = self.root / f"{distribution.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n"
        )
        (info / "entry_points.txt").write_text(f"[paradime.providers]\n{entry_point} = {module}\n")
        self.modules.append(module)
        return module

    @property
    def env(self) -> dict[str, str]:
        """An environment for the console script that sees these distributions."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARADIME_")}
        env["PYTHONPATH"] = str(self.root)
        env["NO_COLOR"] = "1"
        return env


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("PARADIME_LOAD_PLUGINS", "PARADIME_DISABLE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    set_manager(None)  # the next command loads entry points afresh, from this site too
    installed = Site(tmp_path)
    yield installed
    set_manager(None)
    for module in installed.modules:
        sys.modules.pop(module, None)


def providers(env: dict[str, str | None] | None = None) -> Any:
    set_manager(None)
    return run_cli(["providers", "--json"], env=env)


def row(doc: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(r for r in doc if r["name"] == name)


def test_each_provider_is_listed_with_its_distribution_version_and_commands(site):
    site.install("paradime-acme", "acme", GOOD_MODULE, version="2.3.4")
    result = providers()
    assert result.exit_code == 0, result.stderr
    assert row(result.json, "acme") == {
        "name": "acme",
        "distribution": "paradime-acme",
        "version": "2.3.4",
        "commands": ["acme-run", "acme-list"],
        "error": None,
    }
    set_manager(None)
    table = run_cli(["providers"])
    line = next(line for line in table.stdout.splitlines() if line.startswith("acme "))
    assert line.split()[:5] == ["acme", "paradime-acme", "2.3.4", "acme-run,", "acme-list"]
    assert table.stdout.splitlines()[0].split() == [
        "PROVIDER",
        "DISTRIBUTION",
        "VERSION",
        "COMMANDS",
        "LOAD",
        "ERROR",
    ]


def test_a_provider_that_fails_to_import_is_listed_with_the_reason(site):
    site.install("paradime-acme", "acme", GOOD_MODULE)
    site.install("paradime-broken", "broken", BROKEN_MODULE)
    result = providers()
    assert result.exit_code == 0
    broken = row(result.json, "broken")
    assert broken["distribution"] == "paradime-broken"
    assert broken["error"] == "RuntimeError: boom: needs acme-sdk>=3"
    assert broken["commands"] == []
    assert row(result.json, "acme")["error"] is None
    warning = (
        "Warning: provider 'broken' (paradime-broken) failed to load and was skipped: "
        "RuntimeError: boom: needs acme-sdk>=3"
    )
    assert result.stderr.strip().splitlines() == [warning]


def test_the_other_providers_still_work_beside_a_broken_one(site):
    site.install("paradime-acme", "acme", GOOD_MODULE)
    site.install("paradime-broken", "broken", BROKEN_MODULE)
    help_result = run_cli(["run", "--help"])
    assert help_result.exit_code == 0
    assert "acme-run" in help_result.stdout
    assert "provider 'broken' (paradime-broken) failed to load" in help_result.stderr
    set_manager(None)
    result = run_cli(["run", "acme-run", "--thing", "a", "--json"])
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {"a": "SUCCEEDED"}
    assert "Traceback" not in result.stderr


def test_a_provider_whose_declaration_raises_is_listed_with_the_reason(site):
    site.install("paradime-acme", "acme", GOOD_MODULE)
    site.install("paradime-halfway", "halfway", BAD_DECLARATION_MODULE)
    result = providers()
    assert result.exit_code == 0
    assert row(result.json, "halfway")["error"] == "KeyError: 'no-such-setting'"
    assert row(result.json, "acme")["commands"] == ["acme-run", "acme-list"]
    assert "provider 'halfway' failed to declare its commands" in result.stderr


def test_a_misspelled_hook_skips_that_provider_only(site):
    site.install("paradime-acme", "acme", GOOD_MODULE)
    site.install("paradime-typo", "typo", MISSPELLED_HOOK_MODULE)
    result = providers()
    assert result.exit_code == 0, result.stderr
    error = row(result.json, "typo")["error"]
    assert error.startswith("PluginValidationError: unknown hook 'paradime_register_command'")
    assert row(result.json, "acme")["commands"] == ["acme-run", "acme-list"]
    assert "provider 'typo' (paradime-typo) failed to load" in result.stderr


def test_an_empty_load_list_starts_with_no_provider(site):
    site.install("paradime-broken", "broken", BROKEN_MODULE)
    result = providers(env={"PARADIME_LOAD_PLUGINS": ""})
    assert result.exit_code == 0
    assert result.json == []
    assert result.stderr == ""  # the broken provider was not even imported
    set_manager(None)
    table = run_cli(["providers"], env={"PARADIME_LOAD_PLUGINS": ""})
    assert "No providers are loaded: PARADIME_LOAD_PLUGINS='' selected none." in table.stdout


def test_the_load_list_takes_entry_point_or_distribution_names(site):
    site.install("paradime-acme", "acme", GOOD_MODULE)
    site.install("paradime-broken", "broken", BROKEN_MODULE)
    for selector in ("acme", "paradime-acme"):
        result = providers(env={"PARADIME_LOAD_PLUGINS": selector})
        assert [r["name"] for r in result.json] == ["acme"]
        assert result.stderr == ""


def test_the_disable_list_skips_a_provider(site):
    site.install("paradime-acme", "acme", GOOD_MODULE)
    site.install("paradime-broken", "broken", BROKEN_MODULE)
    result = providers(env={"PARADIME_DISABLE_PLUGINS": "paradime-broken"})
    assert "broken" not in [r["name"] for r in result.json]
    assert "acme" in [r["name"] for r in result.json]
    assert result.stderr == ""


def test_run_help_without_providers_says_how_to_install_one(site):
    result = run_cli(["run", "--help"], env={"PARADIME_LOAD_PLUGINS": ""})
    assert result.exit_code == 0
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert "pip install paradime-aws-lambda paradime-aws-stepfunctions paradime-aws-sagemaker" in (
        lines
    )
    assert "then see 'paradime providers'." in lines


def test_the_console_script_stays_usable_beside_a_broken_provider(site):
    site.install("paradime-acme", "acme", GOOD_MODULE)
    site.install("paradime-broken", "broken", BROKEN_MODULE)
    for args in (["providers"], ["run", "--help"], ["run", "acme-run", "--thing", "a"]):
        done = subprocess.run(
            [str(PARADIME), *args], env=site.env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert "provider 'broken' (paradime-broken) failed to load" in done.stderr
        assert "Traceback" not in done.stderr


def test_the_console_script_with_an_empty_load_list_has_no_commands(site):
    site.install("paradime-acme", "acme", GOOD_MODULE)
    env = {**site.env, "PARADIME_LOAD_PLUGINS": ""}
    done = subprocess.run(
        [str(PARADIME), "run", "acme-run", "--thing", "a"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "no providers are loaded: PARADIME_LOAD_PLUGINS='' selected none" in done.stderr
