"""The installed ``paradime`` console script, run as a scheduler would run it.

The emulator (and its scripted executions) lives in the test process; the CLI is a separate
process talking to it over HTTP.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

COMMAND = "aws-sagemaker-start-pipeline"


@pytest.fixture
def paradime() -> str:
    found = shutil.which("paradime", path=str(Path(sys.executable).parent))
    assert found, "the paradime console script is not installed beside this Python"
    return found


def test_the_console_script_starts_pipelines_and_exits_zero(aws, sagemaker, pipelines, paradime):
    pipelines("train", "score")
    completed = subprocess.run(
        [paradime, "run", COMMAND, "--pipeline-name", "train,score", "--json"],
        env=aws.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)["results"]
    assert {r["target"]: r["status"] for r in results} == {
        "train": "SUCCEEDED",
        "score": "SUCCEEDED",
    }
    assert "Traceback" not in completed.stderr


def test_sigint_with_cancel_on_exit_stops_the_execution_and_exits_130(
    aws, sagemaker, pipelines, paradime
):
    pipelines("train")
    sagemaker.script("train", "Executing")
    process = subprocess.Popen(
        [paradime, "run", COMMAND, "--pipeline-name", "train", "--cancel-on-exit", "--json"],
        env=aws.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        assert process.stderr is not None
        for line in process.stderr:  # wait until the execution exists remotely
            if "[train] started" in line or time.monotonic() > deadline:
                break
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    [row] = json.loads(stdout)["results"]
    assert row["status"] == "STOPPED"
    assert row["error"].startswith("interrupted by SIGINT; stop requested")
    [stop] = sagemaker.stops
    assert stop["arn"] == row["run_id"] == sagemaker.executions("train")[0]["PipelineExecutionArn"]
