"""The installed ``paradime`` console script, with the scripted provider found as an entry point:
exit codes, signals, and what reaches stdout and stderr."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PARADIME = shutil.which("paradime", path=str(Path(sys.executable).parent)) or "paradime"


@pytest.fixture
def scripted_env(tmp_path: Path) -> dict[str, str]:
    """An environment where the scripted provider is an installed distribution."""
    dist = tmp_path / "paradime_scripted-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: paradime-scripted\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[paradime.providers]\nscripted = paradime.testing.scripted:provider\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARADIME_")}
    env["PYTHONPATH"] = str(tmp_path)
    env["NO_COLOR"] = "1"
    env["PARADIME_LOAD_PLUGINS"] = "scripted"
    return env


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PARADIME, "run", "scripted-run", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_runs(proc: subprocess.Popen[str], count: int) -> str:
    """Read stderr until ``count`` runs have started; return what was read."""
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + 30
    while seen.count("] Started: ") < count and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
    return seen


def test_exit_codes_of_the_real_process(scripted_env):
    def jobs(value: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PARADIME, "run", "scripted-run", "--job", value],
            env=scripted_env,
            capture_output=True,
            text=True,
        )

    ok = jobs("sync")
    assert ok.returncode == 0, ok.stderr
    assert jobs("sync,rejected").returncode == 1
    usage = jobs("bad")
    assert usage.returncode == 2
    assert usage.stderr.strip().splitlines() == ["Error: --job: 'bad' is not allowed"]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_prints_the_summary_with_every_run_id_and_exits(scripted_env, sig, code):
    proc = start(scripted_env, "--job", "hang,ok-1000", "--json")
    wait_for_runs(proc, 2)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == code, stderr
    doc = json.loads(stdout)
    rows = {r["target"]: r for r in doc["results"]}
    assert rows["hang"]["run_id"] == "run-hang"
    assert rows["ok-1000"]["run_id"] == "run-ok-1000"
    assert rows["hang"]["status"] == "RUNNING"
    assert "still running remotely" in rows["hang"]["error"]
    assert "Traceback" not in stderr


def test_interrupt_with_cancel_on_exit_stops_the_remote_runs(scripted_env):
    proc = start(scripted_env, "--job", "hang", "--cancel-on-exit", "--json")
    wait_for_runs(proc, 1)
    proc.send_signal(signal.SIGINT)
    stdout, _stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130
    row = json.loads(stdout)["results"][0]
    assert row["status"] == "STOPPED"
    assert "stop requested (remote status: STOPPED)" in row["error"]


def test_second_interrupt_exits_at_once(scripted_env):
    # A trigger call that takes 20 s keeps the first interrupt waiting for its run id.
    proc = start(scripted_env, "--job", "hang,slow-20")
    wait_for_runs(proc, 1)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=10)
    assert proc.returncode == 130
    assert time.monotonic() - sent < 5


def test_pipe_closed_early_is_not_a_traceback(scripted_env):
    proc = subprocess.run(
        f"'{PARADIME}' run scripted-list | head -c 1",
        shell=True,
        env=scripted_env,
        capture_output=True,
        text=True,
    )
    assert "Traceback" not in proc.stderr


def test_shell_completion_offers_provider_commands_and_options(scripted_env):
    env = {**scripted_env, "_PARADIME_COMPLETE": "bash_complete"}
    commands = subprocess.run(
        [PARADIME],
        env={**env, "COMP_WORDS": "paradime run scripted-r", "COMP_CWORD": "2"},
        capture_output=True,
        text=True,
    )
    assert "plain,scripted-run" in commands.stdout.splitlines()
    options = subprocess.run(
        [PARADIME],
        env={**env, "COMP_WORDS": "paradime run scripted-run --ca", "COMP_CWORD": "3"},
        capture_output=True,
        text=True,
    )
    assert "plain,--cancel-on-exit" in options.stdout.splitlines()


# -- output the stream cannot carry --------------------------------------------------------
@pytest.mark.parametrize(
    "encoding",
    [
        {"PYTHONIOENCODING": "ascii"},
        {"PYTHONIOENCODING": "latin-1"},
        {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"},
    ],
    ids=["ascii", "latin-1", "c-locale"],
)
@pytest.mark.parametrize(("jobs", "code"), [("sync,ok", 0), ("sync,rejected", 1)])
def test_output_an_encoding_cannot_hold_is_written_in_words_and_exits_by_the_runs(
    scripted_env, encoding, jobs, code
):
    """Before: UnicodeEncodeError on the table's emoji, a traceback, exit 1, empty stdout."""
    env = {k: v for k, v in scripted_env.items() if not k.startswith(("LC_", "PYTHONIO"))}
    env.update(encoding)
    done = subprocess.run(
        [PARADIME, "run", "scripted-run", "--job", jobs], env=env, capture_output=True
    )
    assert done.returncode == code, done.stderr
    stdout, stderr = done.stdout.decode("ascii"), done.stderr.decode("ascii")
    assert "Traceback" not in stderr
    assert "sync                                     SUCCESS " in stdout
    assert "OK [sync] Answered successfully" in stderr
    assert "\\u" not in stderr and "\\U" not in stderr  # words, not escapes


@pytest.mark.parametrize(
    ("redirect", "reason"),
    [(">&-", "it is closed"), (">/dev/full", "No space left on device")],
    ids=["closed", "full"],
)
@pytest.mark.parametrize("as_json", [[], ["--json"]], ids=["table", "json"])
def test_a_result_that_cannot_be_written_is_one_line_with_the_run_ids_and_exit_74(
    scripted_env, redirect, reason, as_json
):
    """Before: AttributeError (closed) or OSError at exit (full), a traceback, exit 1 or 120."""
    args = " ".join([PARADIME, "run", "scripted-run", "--job", "sync,ok", *as_json])
    done = subprocess.run(
        ["sh", "-c", f"exec {args} {redirect}"], env=scripted_env, capture_output=True, text=True
    )
    assert done.returncode == 74, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert line == (
        f"Error: the result could not be written to standard output ({reason}); exit 74; "
        "run ids: sync sync-1, ok run-ok"
    )
