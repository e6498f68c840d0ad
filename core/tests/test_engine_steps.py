"""The stepped trigger core drives: look-ups, one start under the stop lock, recovery.

Through the CLI in-process with the scripted provider's ``scripted-steps`` command, whose
target names script the look-ups, lost start answers and what the recovery look-up finds.
"""

from __future__ import annotations

from paradime.testing import run_cli


def steps(*args: str):  # type: ignore[no-untyped-def]
    return run_cli(["run", "scripted-steps", *args, "--json"], env={"NO_COLOR": "1"})


def rows(result) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {row["target"]: row for row in result.json["results"]}


def test_each_target_is_looked_up_then_started_once(scripted):
    result = steps("--job", "ok,ok-2")
    assert result.exit_code == 0, result.stderr
    assert scripted.calls.prepares == {"ok": 1, "ok-2": 1}
    assert scripted.calls.starts == {"ok": 1, "ok-2": 1}
    # What the look-ups chose is in the row.
    assert rows(result)["ok"]["execution_name"] == "name-ok"


def test_a_signal_during_the_look_ups_starts_nothing(scripted):
    """SIGINT arrives while one target's look-ups run and the others' are on the wire or
    queued: no start is sent after it (before: the look-ups' trigger went on to start)."""
    jobs = ["lookup-sigint", "lookup-0.5-a", "lookup-0.5-b", "ok"]
    result = steps("--job", ",".join(jobs), "--max-concurrency", "3")
    assert result.exit_code == 130, result.stderr
    assert sum(scripted.calls.starts.values()) == 0, scripted.calls.starts
    for row in result.json["results"]:
        assert row["status"] == "STOPPED", row
        assert row["error"] == "not triggered: interrupted by SIGINT"
        assert row["run_id"] is None  # nothing was started: no name to show


def test_the_deadline_during_the_look_ups_starts_nothing(scripted):
    result = steps("--job", "lookup-2-a,lookup-2-b", "--timeout-minutes", "0.01")
    assert result.exit_code == 1
    assert sum(scripted.calls.starts.values()) == 0
    assert {row["status"] for row in result.json["results"]} == {"STOPPED"}


def test_a_lost_start_answer_is_recovered_not_sent_again(scripted):
    """The start made the run and its answer was lost: the recovery look-up finds the run,
    which is followed to its end; one run, one start."""
    result = steps("--job", "lost-1")
    assert result.exit_code == 0, result.stderr
    assert scripted.calls.triggers["lost-1"] == 1
    assert scripted.calls.recovers["lost-1"] == 1
    assert scripted.calls.starts["lost-1"] == 1
    row = rows(result)["lost-1"]
    assert row["status"] == "SUCCEEDED" and row["run_id"] == "run-lost-1"
    assert "looking for the run it may have made" in result.stderr


def test_a_lost_start_whose_run_failed_before_the_look_up_reports_the_failure(scripted):
    result = steps("--job", "lost-fail")
    assert result.exit_code == 1
    assert scripted.calls.triggers["lost-fail"] == 1
    row = rows(result)["lost-fail"]
    assert row["status"] == "FAILED", row
    assert row["error"] == "States.TaskFailed: boom"
    assert row["run_id"] == "run-lost-fail"


def test_a_start_that_made_nothing_is_sent_again_only_after_the_look_up_said_so(scripted):
    result = steps("--job", "lost-norun-2")
    assert result.exit_code == 0, result.stderr
    assert scripted.calls.triggers["lost-norun-2"] == 3
    assert scripted.calls.recovers["lost-norun-2"] == 2
    assert scripted.calls.starts["lost-norun-2"] == 1


def test_a_start_that_cannot_be_recovered_keeps_its_name_and_is_never_sent_twice(scripted):
    result = steps("--job", "lost-blind")
    assert result.exit_code == 1
    assert scripted.calls.triggers["lost-blind"] == 1
    row = rows(result)["lost-blind"]
    assert row["status"] == "ERROR"
    assert "may have started" in row["error"] and "AccessDenied" in row["error"]
    assert row["run_id"] == "run-lost-blind"
    assert row["execution_name"] == "name-lost-blind"


def test_a_run_not_found_right_after_its_start_is_asked_again(scripted):
    """A status read that lags the start (eventual consistency) does not end the run."""
    result = steps("--job", "gone-3")
    assert result.exit_code == 0, result.stderr
    assert rows(result)["gone-3"]["status"] == "SUCCEEDED"
    assert scripted.calls.polls["gone-3"] == 4


def test_the_throttled_start_of_a_stepped_trigger_keeps_its_look_ups(scripted):
    """A throttle is retried by sending the start again, not by looking up again."""
    result = steps("--job", "throttle-2")
    assert result.exit_code == 0, result.stderr
    assert scripted.calls.prepares["throttle-2"] == 1
    assert scripted.calls.triggers["throttle-2"] == 3


def test_a_list_page_that_fails_retryably_is_read_again_and_the_list_is_whole(scripted):
    scripted.calls.page_failures = 2
    result = run_cli(["run", "scripted-list", "--json"])
    assert result.exit_code == 0, result.stderr
    assert [row["name"] for row in result.json] == [f"job-{i}" for i in range(9)]
    assert scripted.calls.pages_read == [0, 0, 0, 1, 2]
    assert "reading the page again" in result.stderr


def test_a_list_whose_page_never_answers_is_an_error_not_a_partial_table(scripted):
    scripted.calls.page_failures = 100
    result = run_cli(["run", "scripted-list"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "the list is incomplete" in result.stderr


def test_the_json_documents_ok_agrees_with_the_exit_code_after_a_signal(scripted):
    """SIGINT comes from the status check, whose answer (succeeded) arrives in the grace
    window: every run succeeded, the exit is 130, and "ok" is false (before: true)."""
    result = run_cli(["run", "scripted-run", "--job", "poll-sigint", "--json"])
    assert result.exit_code == 130, result.stderr
    assert result.statuses == {"poll-sigint": "SUCCEEDED"}
    assert result.json["ok"] is False


def test_a_run_whose_status_checks_were_throttled_to_the_deadline_says_what_is_known(scripted):
    """Before: "still running at the timeout", though nothing was known since the start."""
    args = ["--job", "pollthrottle-1000", "--timeout-minutes", "0.01", "--json"]
    result = run_cli(["run", "scripted-run", *args])
    assert result.exit_code == 1
    [row] = result.json["results"]
    assert row["status"] == "TIMED_OUT"
    assert row["error"].startswith("last seen RUNNING at ")
    assert "status checks throttled since, until the 0.01-minute timeout" in row["error"]
