"""After SIGINT, SIGTERM or the deadline, nothing new is sent; answers already coming are used.

Through the CLI in-process with the scripted provider, whose ``sigint`` and ``poll-sigint``
targets send the signal from inside a call, at a known moment.
"""

from __future__ import annotations

import pytest

from paradime.testing import run_cli


def run(*args: str):  # type: ignore[no-untyped-def]
    return run_cli(["run", "scripted-run", *args, "--json"], env={"NO_COLOR": "1"})


def test_after_sigint_only_the_triggers_on_the_wire_complete(scripted):
    """Three workers: ``sigint`` and (unless a worker was slow to start) two 2-second starts
    are on the wire at the signal. The other ten targets are never sent (before: the workers
    kept taking them through the 10 s grace, and all thirteen were triggered)."""
    queued = [f"slow-2-{i}" for i in range(12)]
    result = run("--job", ",".join(["sigint", *queued]), "--max-concurrency", "3")
    assert result.exit_code == 130, result.stderr
    sent = set(scripted.calls.triggers)
    assert "sigint" in sent and len(sent) <= 3, sent
    assert all(count == 1 for count in scripted.calls.triggers.values())
    rows = {row["target"]: row for row in result.json["results"]}
    assert list(rows) == ["sigint", *queued]
    for target, row in rows.items():
        if target in sent:  # answered during the grace: the run ids are known
            assert row["status"] == "RUNNING", row
            assert row["run_id"] == f"run-{target}"
        else:
            assert row["status"] == "STOPPED", row
            assert row["error"] == "not triggered: interrupted by SIGINT"
            assert row["run_id"] is None


def test_after_the_deadline_no_new_trigger_is_sent(scripted):
    """Two workers, 1-second starts, a 1.5 s deadline: the third pair is never sent (before:
    the workers took it during the grace given to the calls on the wire)."""
    jobs = [f"slow-1-{i}" for i in range(6)]
    result = run("--job", ",".join(jobs), "--max-concurrency", "2", "--timeout-minutes", "0.025")
    assert result.exit_code == 1
    rows = {row["target"]: row for row in result.json["results"]}
    never_sent = [t for t in jobs if scripted.calls.triggers[t] == 0]
    assert never_sent, "every target was triggered after the deadline"
    assert sum(scripted.calls.triggers.values()) == len(jobs) - len(never_sent)
    for target in jobs:
        if target in never_sent:
            assert rows[target]["status"] == "STOPPED"
            assert rows[target]["error"] == "not triggered before the 0.025-minute timeout"
        else:
            assert rows[target]["run_id"] == f"run-{target}", rows[target]


def test_a_run_whose_status_check_says_it_ended_is_reported_so_and_never_stopped(scripted):
    """The signal comes while a status check is in flight; its answer (succeeded) arrives in the
    grace window (before: it was thrown away and the finished run was sent a stop request)."""
    result = run("--job", "poll-sigint", "--cancel-on-exit")
    assert result.exit_code == 130, result.stderr
    [row] = result.json["results"]
    assert row["status"] == "SUCCEEDED", row
    assert row["output"] == {"target": "poll-sigint"}
    assert scripted.calls.cancels == []


def test_a_stop_answer_saying_the_run_had_succeeded_is_reported_succeeded(scripted):
    """Before: TIMED_OUT, 'stop requested (remote status: SUCCEEDED)'."""
    result = run("--job", "ends-on-stop", "--timeout-minutes", "0.02", "--cancel-on-exit")
    [row] = result.json["results"]
    assert row["status"] == "SUCCEEDED", row
    assert row["error"] is None
    assert row["run_id"] == "run-ends-on-stop"
    assert [t for t, _ in scripted.calls.cancels] == ["ends-on-stop"]
    assert result.exit_code == 0


@pytest.mark.parametrize("cancel", [True, False], ids=["cancel-on-exit", "left"])
def test_a_start_waiting_to_retry_keeps_its_run_and_is_stopped_with_cancel_on_exit(
    cancel, scripted, monkeypatch
):
    """The first start of ``ambiguous-9`` may have started its run; the signal comes while it
    waits for its retry. Before: the row lost the run id and execution name, and nothing was
    stopped."""
    monkeypatch.setattr("paradime.engine.TRIGGER_BACKOFF_S", 5.0)
    result = run("--job", "ambiguous-9,sigint", *(["--cancel-on-exit"] if cancel else []))
    assert result.exit_code == 130, result.stderr
    row = result.json["results"][0]
    assert row["run_id"] == "run-ambiguous-9"
    assert row["execution_name"] == "name-ambiguous-9"
    assert "may have started the run" in row["error"]
    assert scripted.calls.triggers["ambiguous-9"] == 1
    stopped = sorted(t for t, _ in scripted.calls.cancels)
    if cancel:
        assert row["status"] == "STOPPED", row
        assert "stop requested (remote status: STOPPED)" in row["error"]
        assert stopped == ["ambiguous-9", "sigint"]
    else:
        assert row["status"] == "ERROR", row
        assert "--cancel-on-exit stops it" in row["error"]
        assert stopped == []


def test_a_start_waiting_to_retry_at_the_deadline_keeps_its_run(scripted, monkeypatch):
    monkeypatch.setattr("paradime.engine.TRIGGER_BACKOFF_S", 0.5)
    result = run("--job", "ambiguous-9", "--timeout-minutes", "0.03", "--cancel-on-exit")
    assert result.exit_code == 1
    [row] = result.json["results"]
    assert row["run_id"] == "run-ambiguous-9"
    assert row["execution_name"] == "name-ambiguous-9"
    assert [t for t, _ in scripted.calls.cancels] == ["ambiguous-9"]
