"""The idempotency key through the CLI, with the scripted provider: the key reaches the runner,
a retry attaches to the run the key already made (running or ended) and starts nothing, another
input under the same key exits 2, a new key starts a new run; a command that cannot honour a
key refuses it typed and warns once when it comes from the environment."""

from __future__ import annotations

import re
from typing import Any

import pytest

from paradime.api import (
    Runner,
    RunState,
    RunStatus,
    TargetOption,
    TriggerCommand,
    hookimpl,
    idempotency_token,
)
from paradime.testing import registered, run_cli

KEY = "scheduled__2026-06-01T02:00:00+00:00"


def run(*args: str, env: dict[str, str | None] | None = None):  # type: ignore[no-untyped-def]
    return run_cli(["run", "scripted-run", *args], env={"NO_COLOR": "1", **(env or {})})


def test_a_retry_under_the_key_attaches_to_the_running_run_and_reports_its_end(scripted):
    first = run("--job", "ok-3", "--idempotency-key", KEY, "--no-wait-for-completion", "--json")
    assert first.exit_code == 0, first.stderr
    [started] = first.json["results"]
    assert (started["status"], started["run_id"], started["attached"]) == (
        "STARTED",
        "run-ok-3-1",
        False,
    )
    retry = run("--job", "ok-3", "--json", env={"PARADIME_IDEMPOTENCY_KEY": KEY})
    assert retry.exit_code == 0, retry.stderr
    [row] = retry.json["results"]
    assert (row["status"], row["run_id"], row["attached"]) == ("SUCCEEDED", "run-ok-3-1", True)
    assert row["idempotency_key"] == KEY
    assert row["output"] == {"target": "ok-3"}
    assert scripted.calls.starts == {"ok-3": 1}
    assert "attached to run run-ok-3-1, started earlier under the idempotency key" in retry.stderr
    assert "🔗 [ok-3] Attached: run-ok-3-1" in retry.stderr


def test_a_rerun_after_success_reports_it_with_the_same_run_id_and_starts_nothing(scripted):
    first = run("--job", "ok", "--idempotency-key", KEY, "--json")
    assert first.exit_code == 0, first.stderr
    polls = scripted.calls.polls["ok"]
    again = run("--job", "ok", "--idempotency-key", KEY, "--json")
    assert again.exit_code == 0, again.stderr
    [row] = again.json["results"]
    assert (row["status"], row["run_id"], row["attached"]) == ("SUCCEEDED", "run-ok-1", True)
    assert row["output"] == first.json["results"][0]["output"]
    assert scripted.calls.starts == {"ok": 1}
    assert scripted.calls.polls["ok"] == polls  # an ended run is reported from the trigger
    assert "run run-ok-1 had ended before this attempt: reported, not restarted" in again.stderr


def test_a_failed_run_is_reported_failed_again_not_restarted(scripted):
    assert run("--job", "fail", "--idempotency-key", KEY).exit_code == 1
    again = run("--job", "fail", "--idempotency-key", KEY, "--json")
    assert again.exit_code == 1
    [row] = again.json["results"]
    assert (row["status"], row["error"], row["attached"]) == (
        "FAILED",
        "States.TaskFailed: boom",
        True,
    )
    assert scripted.calls.starts == {"fail": 1}


def test_a_different_input_under_the_same_key_exits_2_and_the_other_targets_still_run(scripted):
    assert run("--job", "ok", "--label", "full", "--idempotency-key", KEY).exit_code == 0
    changed = run("--job", "ok,sync", "--label", "delta", "--idempotency-key", KEY, "--json")
    assert changed.exit_code == 2
    assert changed.statuses == {"ok": "ERROR", "sync": "SUCCEEDED"}
    assert changed.json["results"][0]["error"] == (
        f"idempotency key '{KEY}' already started run run-ok-1 of 'ok' with label 'full', not "
        "'delta': use a new key for a new run"
    )
    assert scripted.calls.starts["ok"] == 1
    assert "Traceback" not in changed.stderr
    # Observers hear the command ran (one target did), with the exit code it ends with.
    assert scripted.calls.finished[-1] == ("scripted-run", 2)


def test_a_new_key_starts_a_new_run(scripted):
    assert run("--job", "ok", "--idempotency-key", KEY).exit_code == 0
    other = run("--job", "ok", "--idempotency-key", f"{KEY}-retry-by-hand", "--json")
    assert other.exit_code == 0, other.stderr
    [row] = other.json["results"]
    assert (row["run_id"], row["attached"]) == ("run-ok-2", False)
    assert scripted.calls.starts == {"ok": 2}


def test_without_a_key_rows_have_no_idempotency_fields_and_runs_start_each_time(scripted):
    for _ in range(2):
        result = run("--job", "ok", "--json")
        assert result.exit_code == 0, result.stderr
        assert "idempotency_key" not in result.json["results"][0]
    assert scripted.calls.starts == {"ok": 2}


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("   ", "empty"),
        ("k" * 257, "257 characters (at most 256)"),
        ("run\x01id", "it contains control characters"),
    ],
)
def test_a_bad_key_is_a_usage_error_naming_where_it_came_from(scripted, given, problem):
    typed = run("--job", "ok", "--idempotency-key", given)
    assert typed.exit_code == 2
    assert typed.stderr.strip() == f"Error: invalid value for '--idempotency-key': {problem}"
    from_env = run("--job", "ok", env={"PARADIME_IDEMPOTENCY_KEY": given})
    assert from_env.exit_code == 2
    assert (
        from_env.stderr.strip() == f"Error: invalid value for 'PARADIME_IDEMPOTENCY_KEY': {problem}"
    )
    assert scripted.calls.triggers == {}


def test_the_help_says_what_the_key_does_for_the_command(scripted):
    text = " ".join(run_cli(["run", "scripted-run", "--help"]).stdout.split())
    assert "--idempotency-key KEY" in text
    assert "For a scheduler's retries: run again with the same key" in text
    # Nothing every provider cannot keep (some start a new run once the keyed one ended).
    assert "starts nothing" not in text
    assert "The scripted system keeps each run under its token." in text
    assert "PARADIME_IDEMPOTENCY_KEY" in text


# -- a command that cannot honour a key -------------------------------------------------------
class _Once(Runner):
    def __init__(self, seen: list[Any]) -> None:
        self.seen = seen

    def trigger(self, target: str) -> RunState:
        self.seen.append(target)
        return RunState(RunStatus.SUCCEEDED, run_id=f"once-{len(self.seen)}")


class _Fire:
    """A provider whose service cannot recognise a repeated start (like Lambda)."""

    __name__ = "fire"

    def __init__(self) -> None:
        self.seen: list[Any] = []
        self.keys: list[Any] = []

    def factory(self, params: Any, context: Any) -> Runner:
        self.keys.append(context.idempotency_key)
        return _Once(self.seen)

    @hookimpl
    def paradime_register_commands(self, register: Any) -> None:
        register(
            TriggerCommand(
                name="fire-once",
                help="Fire and forget.",
                service="fire",
                target=TargetOption("--thing", "A thing."),
                factory=self.factory,
                idempotency_help="Fire cannot recognise a repeated start.",
            )
        )


def test_a_command_that_cannot_honour_a_key_refuses_it_typed_and_warns_once_from_the_env():
    fire = _Fire()
    with registered(fire):
        typed = run_cli(["run", "fire-once", "--thing", "a,b", "--idempotency-key", KEY])
        assert typed.exit_code == 2
        assert typed.stderr.strip() == (
            "Error: --idempotency-key cannot be honoured: Fire cannot recognise a repeated start"
        )
        assert fire.seen == []
        from_env = run_cli(
            ["run", "fire-once", "--thing", "a,b", "--json"],
            env={"PARADIME_IDEMPOTENCY_KEY": KEY, "NO_COLOR": "1"},
        )
        assert from_env.exit_code == 0, from_env.stderr
        warnings = re.findall(r"PARADIME_IDEMPOTENCY_KEY is set, but fire-once .*", from_env.stderr)
        assert len(warnings) == 1
        assert "Fire cannot recognise a repeated start; running without it" in warnings[0]
        assert fire.seen == ["a", "b"]
        assert fire.keys == [None]  # the runner never sees a key it cannot honour
        assert "idempotency_key" not in from_env.json["results"][0]
        help_text = " ".join(run_cli(["run", "fire-once", "--help"]).stdout.split())
        assert "This command cannot honour a key" in help_text


def test_idempotency_token_is_deterministic_readable_and_within_the_limits():
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:nightly-load"
    token = idempotency_token(KEY, arn, max_length=80, label="nightly-load")
    assert token == idempotency_token(KEY, arn, max_length=80, label="nightly-load")
    assert re.fullmatch(r"scheduled-2026-06-01T02-00-00-00-00-nightly-load-[0-9a-f]{16}", token)
    # The hash covers the full key and target: look-alikes once shortened still differ.
    assert token != idempotency_token(KEY + "!", arn, max_length=80, label="nightly-load")
    assert token != idempotency_token(KEY, arn + "-b", max_length=80, label="nightly-load")
    long = idempotency_token("k" * 256, "t" * 256, max_length=80)
    assert len(long) == 80 and re.fullmatch(r"k{63}-[0-9a-f]{16}", long)
    short = idempotency_token("k", "p", max_length=128, min_length=32)
    assert len(short) == 32 and re.fullmatch(r"k-p-[0-9a-f]{28}", short)
    assert re.fullmatch(r"[0-9a-f]{16}", idempotency_token("//", "::", max_length=80))
    for key in (KEY, "a b/c", "ünïcode ✓", "--x--"):
        made = idempotency_token(key, "target name", max_length=40)
        assert re.fullmatch(r"[A-Za-z0-9](-?[A-Za-z0-9])*", made), made
        assert len(made) <= 40
    with pytest.raises(ValueError):
        idempotency_token(KEY, arn, max_length=17)
