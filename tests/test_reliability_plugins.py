"""Scenario 9, broken plugin: providers that fail to import, installed beside the real AWS ones.

Two provider distributions are written to a folder put on ``PYTHONPATH`` (as pip would lay them
out: a ``.dist-info`` with an entry point in ``paradime.providers``): one whose import raises,
one whose dependency is missing. The real console script stays usable, the AWS commands work,
a warning names each broken provider; ``PARADIME_LOAD_PLUGINS=''`` starts with none.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

BROKEN = {
    # entry point name: (distribution, module source)
    "nightly-jobs": ("paradime-nightly-jobs", 'raise RuntimeError("config file not found")\n'),
    "warehouse": ("paradime-warehouse", "import warehouse_sdk_that_is_not_installed\n"),
}
AWS_COMMANDS = {
    "aws-lambda-invoke",
    "aws-lambda-list-functions",
    "aws-sagemaker-list-pipelines",
    "aws-sagemaker-start-pipeline",
    "aws-stepfunctions-list-state-machines",
    "aws-stepfunctions-start-execution",
}


@pytest.fixture
def broken_site(tmp_path: Path) -> str:
    """A folder holding the broken distributions, for PYTHONPATH."""
    for name, (dist, source) in BROKEN.items():
        module = dist.replace("-", "_")
        (tmp_path / f"{module}.py").write_text(source)
        info = tmp_path / f"{module}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[paradime.providers]\n{name} = {module}\n")
    return str(tmp_path)


def warned_about_each(stderr: str) -> None:
    for name, (dist, _) in BROKEN.items():
        lines = [line for line in stderr.splitlines() if f"provider '{name}' ({dist})" in line]
        assert len(lines) == 1, stderr
        assert lines[0].startswith("Warning: ") and "failed to load and was skipped" in lines[0]
    assert "config file not found" in stderr
    assert "No module named 'warehouse_sdk_that_is_not_installed'" in stderr
    assert "Traceback" not in stderr


def test_the_cli_and_the_aws_commands_work_beside_broken_providers(
    broken_site, emulators, run_script, script_env, ledger
):
    from paradime_aws_stepfunctions.testing import pass_machine

    env = script_env(PYTHONPATH=broken_site)
    listing = run_script(["providers", "--json"], env)
    assert listing.returncode == 0, listing.stderr
    providers = {p["name"]: p for p in json.loads(listing.stdout)}
    for name, (dist, _) in BROKEN.items():
        assert providers[name]["distribution"] == dist
        assert providers[name]["commands"] == []
        assert providers[name]["error"]
    commands = {c for p in providers.values() for c in p["commands"]}
    assert commands >= AWS_COMMANDS  # every AWS command, beside the other installed providers
    warned_about_each(listing.stderr)

    help_text = run_script(["run", "--help"], env)
    assert help_text.returncode == 0
    assert all(command in help_text.stdout for command in AWS_COMMANDS)
    warned_about_each(help_text.stderr)

    arn = emulators.machines.arn("greet", pass_machine())
    emulators.functions.create("report")
    start = ["run", "aws-stepfunctions-start-execution", "--state-machine-arn", arn, "--json"]
    started = run_script(start, env)
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["results"][0]["status"] == "SUCCEEDED"
    warned_about_each(started.stderr)
    invoked = run_script(["run", "aws-lambda-invoke", "--function-name", "report", "--json"], env)
    assert invoked.returncode == 0, invoked.stderr
    assert len(emulators.lambda_.invoked("report")) == 1
    ledger.record("9", faults=len(BROKEN), targets=2, duplicates=0)


def test_an_empty_load_list_starts_with_no_provider(broken_site, run_script, script_env, ledger):
    env = script_env(PYTHONPATH=broken_site, PARADIME_LOAD_PLUGINS="")
    listing = run_script(["providers", "--json"], env)
    assert listing.returncode == 0
    assert json.loads(listing.stdout) == []
    assert listing.stderr == ""  # nothing was imported, so nothing broke
    help_text = run_script(["run", "--help"], env)
    assert help_text.returncode == 0
    assert "PARADIME_LOAD_PLUGINS='' selected none" in help_text.stdout
    assert not any(command in help_text.stdout for command in AWS_COMMANDS)
    refused = run_script(["run", "aws-lambda-invoke", "--function-name", "report"], env)
    assert refused.returncode == 2
    [line] = refused.stderr.splitlines()
    assert "no such command 'aws-lambda-invoke'" in line
    assert "PARADIME_LOAD_PLUGINS=''" in line
    ledger.record("9", faults=len(BROKEN), targets=0, duplicates=0)


def test_a_distribution_whose_entry_points_are_not_utf8_is_skipped_with_a_warning(
    tmp_path, emulators, run_script, script_env, ledger
):
    """Before: a UnicodeDecodeError traceback at start-up, for every command."""
    info = tmp_path / "paradime_latin1-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: paradime-latin1\nVersion: 1.0\n")
    (info / "entry_points.txt").write_bytes(b"[paradime.providers]\ncaf\xe9 = paradime_latin1\n")
    env = script_env(PYTHONPATH=str(tmp_path))
    listing = run_script(["providers", "--json"], env)
    assert listing.returncode == 0, listing.stderr
    commands = {c for p in json.loads(listing.stdout) for c in p["commands"]}
    assert commands >= AWS_COMMANDS
    [warning] = listing.stderr.splitlines()
    assert warning.startswith("Warning: distribution 'paradime-latin1' (")
    assert warning.endswith("was skipped: its entry_points.txt is not UTF-8 text (byte 25)")
    emulators.functions.create("report")
    invoked = run_script(["run", "aws-lambda-invoke", "--function-name", "report"], env)
    assert invoked.returncode == 0, invoked.stderr
    assert "Traceback" not in invoked.stderr
    quiet = run_script(
        ["providers"],
        script_env(PYTHONPATH=str(tmp_path), **{"PARADIME_DISABLE_PLUGINS": "paradime-latin1"}),
    )
    assert quiet.returncode == 0 and quiet.stderr == ""
    ledger.record("9", faults=1, targets=1, duplicates=0)
