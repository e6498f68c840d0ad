"""A trigger command end to end through the CLI, with the scripted provider."""

from __future__ import annotations

import json

from paradime.testing import run_cli


def run(*args: str, env: dict[str, str | None] | None = None):  # type: ignore[no-untyped-def]
    return run_cli(["run", "scripted-run", *args], env={"NO_COLOR": "1", **(env or {})})


def test_every_target_succeeding_exits_zero_with_a_row_each(scripted):
    result = run("--job", "ok", "--job", "sync", "--json")
    assert result.exit_code == 0, result.stderr
    doc = result.json
    assert doc["command"] == "scripted-run"
    assert doc["ok"] is True
    assert [r["target"] for r in doc["results"]] == ["ok", "sync"]
    assert result.statuses == {"ok": "SUCCEEDED", "sync": "SUCCEEDED"}


def test_json_result_has_the_same_keys_for_every_row(scripted):
    result = run("--job", "ok,fail,sync,rejected", "--json")
    keys = {
        "target",
        "status",
        "run_id",
        "started_at",
        "finished_at",
        "duration_s",
        "error",
        "output",
        "console_url",
    }
    for row in result.json["results"]:
        assert keys <= set(row)
    by_target = {r["target"]: r for r in result.json["results"]}
    assert by_target["ok"]["run_id"] == "run-ok"
    assert by_target["ok"]["console_url"] == "https://console.example/ok"
    assert by_target["ok"]["output"] == {"target": "ok"}
    assert by_target["sync"]["output"] == {"answer": 42}
    assert by_target["ok"]["duration_s"] >= 0


def test_a_failed_target_exits_one_and_names_the_cause(scripted):
    result = run("--job", "ok", "--job", "fail", "--json")
    assert result.exit_code == 1
    assert result.json["ok"] is False
    fail = result.json["results"][1]
    assert fail["status"] == "FAILED"
    assert fail["error"] == "States.TaskFailed: boom"
    assert fail["run_id"] == "run-fail"


def test_other_targets_still_run_when_one_cannot_be_triggered(scripted):
    result = run("--job", "rejected", "--job", "ok", "--json")
    assert result.exit_code == 1
    assert result.statuses == {"rejected": "ERROR", "ok": "SUCCEEDED"}
    assert "AccessDeniedException" in result.json["results"][0]["error"]


def test_unexpected_provider_exception_is_an_error_row_not_a_traceback(scripted):
    result = run("--job", "crash", "--job", "ok")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert "ValueError: unexpected provider bug" in result.stdout


def test_targets_keep_order_split_commas_and_drop_duplicates_with_a_warning(scripted):
    result = run("--job", "sync,ok", "--job", "ok", "--jobs", "fail", "--json")
    assert [r["target"] for r in result.json["results"]] == ["sync", "ok", "fail"]
    assert "duplicate target 'ok'" in result.stderr
    assert scripted.calls.triggers["ok"] == 1


def test_no_wait_reports_started_and_exits_zero(scripted):
    result = run("--job", "hang", "--no-wait-for-completion", "--json")
    assert result.exit_code == 0
    assert result.statuses == {"hang": "STARTED"}
    assert result.json["results"][0]["run_id"] == "run-hang"
    assert scripted.calls.polls["hang"] == 0


def test_no_wait_still_fails_when_the_trigger_fails(scripted):
    result = run("--job", "rejected", "--no-wait-for-completion", "--json")
    assert result.exit_code == 1


def test_throttled_trigger_is_retried_then_succeeds(scripted):
    result = run("--job", "throttle-2", "--json")
    assert result.exit_code == 0, result.stderr
    assert scripted.calls.triggers["throttle-2"] == 3
    assert "retrying" in result.stderr


def test_throttling_that_never_ends_is_throttled_and_others_are_unaffected(scripted, monkeypatch):
    monkeypatch.setattr("paradime.engine.TRIGGER_BACKOFF_S", 0.01)
    result = run("--job", "throttle-forever", "--job", "ok", "--json")
    assert result.exit_code == 1
    assert result.statuses == {"throttle-forever": "THROTTLED", "ok": "SUCCEEDED"}
    assert scripted.calls.triggers["throttle-forever"] == 6


def test_transient_poll_failures_are_survived(scripted, monkeypatch):
    monkeypatch.setattr("paradime.polling.PollPolicy.failure_backoff", lambda self, n, rng: 0.01)
    result = run("--job", "pollerr-2", "--json")
    assert result.exit_code == 0, result.stderr
    assert scripted.calls.polls["pollerr-2"] == 3


def test_poll_failures_in_a_row_end_in_error_keeping_the_run_id(scripted, monkeypatch):
    monkeypatch.setattr("paradime.polling.PollPolicy.failure_backoff", lambda self, n, rng: 0.01)
    result = run("--job", "pollerr-forever", "--job", "ok", "--json")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "ERROR"
    assert row["run_id"] == "run-pollerr-forever"
    assert "6 status checks in a row failed" in row["error"]
    assert "connection reset by peer" in row["error"]
    assert result.statuses["ok"] == "SUCCEEDED"


def test_throttled_status_checks_back_off_without_giving_up_the_run(scripted, monkeypatch):
    """Eight throttled checks in a row (more than the six failures that end a run as untracked):
    the service answered, busy, so the run is asked again until it is seen to end."""
    monkeypatch.setattr("paradime.polling.PollPolicy.failure_backoff", lambda self, n, rng: 0.01)
    result = run("--job", "pollthrottle-8", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {"pollthrottle-8": "SUCCEEDED"}
    assert scripted.calls.polls["pollthrottle-8"] == 9


def test_deadline_times_out_running_targets_without_stopping_them(scripted):
    result = run("--job", "hang", "--job", "sync", "--timeout-minutes", "0.02", "--json")
    assert result.exit_code == 1
    hang = result.json["results"][0]
    assert hang["status"] == "TIMED_OUT"
    assert hang["run_id"] == "run-hang"
    assert "not stopped" in hang["error"]
    assert scripted.calls.cancels == []
    assert result.statuses["sync"] == "SUCCEEDED"


def test_deadline_with_cancel_on_exit_stops_the_remote_run(scripted):
    result = run("--job", "hang", "--timeout-minutes", "0.02", "--cancel-on-exit", "--json")
    assert result.exit_code == 1
    hang = result.json["results"][0]
    assert hang["status"] == "TIMED_OUT"
    assert "stop requested (remote status: STOPPED)" in hang["error"]
    assert [t for t, _ in scripted.calls.cancels] == ["hang"]


def test_max_concurrency_bounds_trigger_calls_in_flight(scripted):
    jobs = ",".join(f"slow-0.{i}{i}" for i in range(1, 9))
    result = run("--job", jobs, "--max-concurrency", "3", "--no-wait-for-completion", "--json")
    assert result.exit_code == 0
    assert scripted.calls.max_in_flight == 3


def test_provider_options_and_hidden_aliases_reach_the_runner(scripted):
    result = run("--job", "sync", "--old-label", "nightly")
    assert result.exit_code == 0
    assert scripted.calls.params["label"] == "nightly"


def test_hidden_command_alias_runs_the_command(scripted):
    result = run_cli(["run", "scripted-trigger", "--jobs", "sync", "--json"])
    assert result.exit_code == 0
    assert result.json["command"] == "scripted-run"


def test_run_finished_hook_sees_the_exit_code(scripted):
    run("--job", "fail")
    assert scripted.calls.finished == [("scripted-run", 1)]


def test_table_lists_every_target_with_status_and_run_id(scripted):
    result = run("--job", "ok", "--job", "fail")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    ok_line = next(line for line in lines if line.startswith("ok "))
    fail_line = next(line for line in lines if line.startswith("fail "))
    assert "✅ SUCCESS" in ok_line and "run-ok" in ok_line
    assert "FAILED" in fail_line and "boom" in fail_line
    assert "1 succeeded, 1 failed" in result.stdout


def test_progress_goes_to_stderr_in_the_spec_format(scripted):
    result = run("--job", "ok")
    assert "LIVE PROGRESS" in result.stderr
    assert "LIVE PROGRESS" not in result.stdout
    assert any(line[:8].count(":") == 2 and "[ok]" in line for line in result.stderr.splitlines())


def test_json_log_format_writes_json_lines(scripted):
    result = run("--job", "ok", "--log-format", "json")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]
    assert any(e.get("target") == "ok" and e.get("status") == "SUCCEEDED" for e in events)
    assert "LIVE PROGRESS" not in result.stderr


def test_secret_option_never_appears_even_at_debug_level(scripted):
    secret = "s3cr3t-VALUE-never-shown"
    for fmt in ("console", "json"):
        result = run(
            "--job",
            "ok",
            "--secret-token",
            secret,
            "--log-level",
            "debug",
            "--log-format",
            fmt,
            "--json",
        )
        assert result.exit_code == 0
        assert secret not in result.stdout + result.stderr
        assert "building runner" in result.stderr


def test_secret_from_environment_is_redacted_too(scripted):
    secret = "env-secret-0123456789"
    result = run("--job", "ok", "--log-level", "debug", env={"SCRIPTED_TOKEN": secret})
    assert secret not in result.stdout + result.stderr
    assert "****" in result.stderr


def test_list_command_prints_rows_as_table_and_json(scripted):
    table = run_cli(["run", "scripted-list"])
    assert table.exit_code == 0
    assert "job-2" in table.stdout and "NAME" in table.stdout
    doc = run_cli(["run", "scripted-list", "--json"]).json
    assert [row["name"] for row in doc] == [f"job-{i}" for i in range(9)]  # three pages


def test_table_never_cuts_an_error_behind_a_long_run_id(scripted, monkeypatch):
    from paradime.api import RunState, RunStatus
    from paradime.testing.scripted import ScriptedRunner

    monkeypatch.setenv("COLUMNS", "80")
    cause = "a very long cause " * 12 + "END"

    def failing_poll(self, target, state):
        return RunState(RunStatus.FAILED, error=f"States.TaskFailed: {cause}")

    monkeypatch.setattr(ScriptedRunner, "poll", failing_poll)
    result = run("--job", "ok")
    assert cause.strip() in " ".join(result.stdout.split())
    assert "run-ok" in result.stdout


def test_table_never_splits_a_word_of_an_error_in_a_narrow_terminal(scripted, monkeypatch):
    from paradime.api import RunState, RunStatus
    from paradime.testing.scripted import ScriptedRunner

    monkeypatch.setenv("COLUMNS", "80")
    arn = "arn:aws:states:us-east-1:123456789012:execution:nightly-etl:a-long-execution-name"

    def failing_poll(self, target, state):
        return RunState(RunStatus.FAILED, error=f"ExecutionLimitExceededException at {arn}")

    monkeypatch.setattr(ScriptedRunner, "poll", failing_poll)
    words = run("--job", "ok").stdout.split()
    assert "ExecutionLimitExceededException" in words and arn in words


def test_the_runner_learns_where_each_option_value_came_from(scripted):
    given = run(
        "--job", "sync", "--label", "nightly",
        env={"SCRIPTED_TOKEN": "env-token-0123", "PARADIME_IDEMPOTENCY_KEY": "k"},
    )  # fmt: skip
    assert given.exit_code == 0, given.stderr
    assert scripted.calls.sources == {
        "label": "command_line",
        "secret_token": "environment",
        "idempotency_key": "environment",  # core's own option, told the same way
    }
    typed = run(
        "--job", "sync", "--old-label", "x", "--secret-token", "typed-token-0123",
        "--idempotency-key", "k",
    )  # fmt: skip
    assert typed.exit_code == 0, typed.stderr
    # A hidden alias typed is the option typed; the command line beats the environment.
    assert scripted.calls.sources == {
        "label": "command_line",
        "secret_token": "command_line",
        "idempotency_key": "command_line",
    }
    run("--job", "sync", env={"SCRIPTED_TOKEN": None})
    assert scripted.calls.sources == {
        "label": "default",
        "secret_token": "default",
        "idempotency_key": "default",
    }


def test_a_secret_pattern_hides_values_known_only_by_their_shape(scripted):
    ticket = f"T-{sum(map(ord, 'scripted-run')):08x}"
    for fmt in ("console", "json"):
        result = run("--job", "ok", "--log-level", "debug", "--log-format", fmt)
        assert result.exit_code == 0, result.stderr
        assert "issued ticket ****" in result.stderr
        assert ticket not in result.stdout + result.stderr


def test_further_requests_of_a_poll_are_drawn_from_the_same_rate_cap(scripted):
    # scripted-run is capped at 10 requests/s with a burst of 10: the engine's first poll takes
    # one, so a poll asking for 50 more gets the 9 left (one more if the poll thread started
    # a tenth of a second late), not 50.
    result = run("--job", "pages-50", "--json")
    assert result.exit_code == 0, result.stderr
    assert 9 <= scripted.calls.extra_requests_granted <= 10


def test_a_message_given_with_a_started_run_is_shown(scripted):
    result = run_cli(["run", "scripted-run", "--job", "joined"], env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.stderr
    assert "[joined] joined the run already in progress" in result.stderr


def test_a_synchronous_run_ending_under_live_progress_says_completed_successfully(
    scripted, monkeypatch
):
    """The spec's last line for what ends under LIVE PROGRESS (before: "Invocation successful"
    there too, the trigger block's words); one that answered in its trigger block keeps them."""
    from paradime import output
    from paradime.testing import progress_lines

    monkeypatch.setattr(output, "STILL_RUNNING_EVERY_S", 0.05)
    result = run("--job", "sync,slow-2-sync")
    assert result.exit_code == 0, result.stderr
    lines = progress_lines(result.stderr)
    live = lines.index("⚡ LIVE PROGRESS")
    assert "✅ [sync] Answered successfully (0m 0s) run_id=sync-1" in lines[:live]
    assert lines[-1] == "✅ [slow-2-sync] Completed successfully (0m 2s) run_id=sync-1"


def test_an_arn_target_shows_its_name_first_and_the_arn_where_ids_go(scripted):
    """A Step Functions ARN broke its row onto two lines (before); the JSON keeps the target."""
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:nightly-warehouse-load-sync"
    result = run("--job", arn)
    assert result.exit_code == 0, result.stderr
    [row] = [line for line in result.stdout.splitlines() if "SUCCESS" in line]
    assert row.startswith("nightly-warehouse-load-sync ")
    assert f"  {arn}  sync-1" in row
    assert arn not in result.stdout.replace(row, "")
    assert json.loads(run("--job", arn, "--json").stdout)["results"][0]["target"] == arn
