"""The installed ``paradime`` console script with this provider, against the emulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

COMMAND = "aws-stepfunctions-start-execution"


def paradime(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = shutil.which("paradime", path=str(Path(sys.executable).parent))
    assert script, "the paradime console script is not installed next to this Python"
    return subprocess.run(
        [script, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


def test_the_provider_is_found_through_its_entry_point(aws):
    providers = paradime("providers", env=aws.env)
    assert providers.returncode == 0, providers.stderr
    assert "aws-stepfunctions" in providers.stdout
    help_text = paradime("run", "--help", env=aws.env).stdout
    assert COMMAND in help_text
    assert "aws-stepfunctions-list-state-machines" in help_text


def test_declaring_the_commands_imports_no_boto3():
    code = (
        "import sys, paradime_aws_stepfunctions;"
        "print('boto3' in sys.modules, 'botocore' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_standard_and_express_runs_end_to_end(aws, machines, asl):
    ok = machines.arn("demo-ok", asl.passing())
    quick = machines.arn("demo-quick", asl.passing(), type="EXPRESS")
    broken = machines.arn("demo-broken", asl.failing("Demo.Failure", "on purpose"))
    done = paradime(
        "run", COMMAND, "--state-machine-arn", f"{ok},{quick},{broken}", "--input", '{"k": 1}',
        "--json", env=aws.env,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    rows = {row["target"]: row for row in json.loads(done.stdout)["results"]}
    assert rows[ok]["status"] == "SUCCEEDED"
    assert rows[ok]["output"] == {"k": 1, "result": {"greeting": "hello"}}
    assert rows[quick]["status"] == "SUCCEEDED"
    assert rows[broken]["status"] == "FAILED"
    assert rows[broken]["error"] == "Demo.Failure: on purpose"
    assert "Traceback" not in done.stderr


def test_the_table_names_each_target_with_its_outcome(aws, machines, asl):
    broken = machines.arn("demo-broken", asl.failing("Demo.Failure", "on purpose"))
    # A wide terminal: execution ARNs are long, and the table cuts what does not fit.
    env = {**aws.env, "COLUMNS": "200"}
    done = paradime("run", COMMAND, "--state-machine-arn", "demo-broken", env=env)
    assert done.returncode == 1
    line = next(line for line in done.stdout.splitlines() if line.startswith("demo-broken"))
    assert "FAILED" in line
    assert broken.replace(":stateMachine:", ":execution:") in line
    assert "Demo.Failure: on purpose" in line
