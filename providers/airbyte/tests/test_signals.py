"""SIGINT to the real ``paradime`` console script while it waits on Airbyte jobs: every row
keeps its job id, exit code 130, and with --cancel-on-exit the fake shows the jobs cancelled."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from paradime_airbyte import TRIGGER_COMMAND

FOREVER = (("running", 3600.0),)


def paradime_script() -> str:
    found = shutil.which("paradime", path=str(Path(sys.executable).parent))
    assert found, "the paradime console script is not installed next to this Python"
    return found


@pytest.mark.parametrize("cancel", [True, False], ids=["cancel-on-exit", "left-running"])
def test_sigint_reports_every_job_and_cancels_them_when_asked(cancel, airbyte_api):
    connections = [airbyte_api.add_connection(name, script=FOREVER) for name in ("a", "b")]
    ids = [c.connection_id for c in connections]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARADIME_", "AIRBYTE_"))}
    args = [TRIGGER_COMMAND.name, "--connection-id", ",".join(ids), "--json"]
    args += ["--cancel-on-exit"] if cancel else []
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [paradime_script(), "run", *args],
            env={**env, **airbyte_api.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while sum(len(airbyte_api.jobs_of(c)) for c in connections) < 2:
                assert process.poll() is None and time.monotonic() < deadline, "no jobs started"
                time.sleep(0.05)
            time.sleep(0.3)  # the start answers reach the engine
            process.send_signal(signal.SIGINT)
            stdout, _ = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
        stderr.seek(0)
        errors = stderr.read()
    assert process.returncode == 130, errors
    rows = {row["target"]: row for row in json.loads(stdout)["results"]}
    assert list(rows) == ids
    for connection in connections:
        [job] = airbyte_api.jobs_of(connection)
        row = rows[connection.connection_id]
        assert row["run_id"] == str(job.job_id)
        if cancel:
            assert row["status"] == "STOPPED"
            assert row["error"] == (
                "interrupted by SIGINT; stop requested (remote status: STOPPED): "
                f"Airbyte answered: job {job.job_id} cancelled"
            )
            assert airbyte_api.status_of(job) == "cancelled"
        else:
            assert row["status"] == "RUNNING"
            assert "still running remotely" in row["error"]
            assert airbyte_api.status_of(job) == "running"
    assert airbyte_api.count("DELETE") == (2 if cancel else 0)
    assert "Traceback" not in errors
