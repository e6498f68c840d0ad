"""Scenario 11, a retried command under an idempotency key: the real ``paradime`` process is
killed with SIGKILL while its run goes on, and the scheduler runs the same command again with the
same key (``PARADIME_IDEMPOTENCY_KEY``, as Airflow's ``{{ run_id }}``).

The retry starts nothing: it attaches to the one run the first attempt started and reports that
run's true outcome, run id and output. A rerun after the run ended reports it again with the same
run id; a different input under the key exits 2; a new key starts a new run. Lambda, which cannot
recognise a repeated invocation, refuses a typed key and warns once about one from the
environment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

SFN = "aws-stepfunctions-start-execution"
SAGEMAKER = "aws-sagemaker-start-pipeline"
LAMBDA = "aws-lambda-invoke"
KEY = "scheduled__2026-06-01T02:00:00+00:00"
# SageMaker tells an execution found under the key from its own start by its creation time:
# the retry comes later than the runner's clock-skew margin (2 s) after the first start.
SAGEMAKER_RETRY_AFTER_S = 2.5


def wait_until(predicate: Callable[[], bool], limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():
        assert time.monotonic() < deadline, "the first attempt never started its run"
        time.sleep(0.05)


@dataclass
class Target:
    """One provider's target at the emulator: the command's arguments and what it holds."""

    command: str
    args: list[str]
    runs: Callable[[], list[str]]  # run ids the emulator holds for the target
    starts: str  # the start action, as the fault proxy names it


def sfn_target(emulators: Any, definition: dict[str, Any], name: str = "nightly") -> Target:
    arn = emulators.machines.arn(name, definition)
    return Target(
        SFN,
        ["--state-machine-arn", arn],
        lambda: [e["executionArn"] for e in emulators.machines.executions(arn)],
        "StartExecution",
    )


def sagemaker_target(emulators: Any, *statuses: str, **script: Any) -> Target:
    emulators.sagemaker.create_pipeline("train")
    if statuses:
        emulators.sagemaker.script("train", *statuses, **script)
    return Target(
        SAGEMAKER,
        ["--pipeline-name", "train"],
        lambda: [e["PipelineExecutionArn"] for e in emulators.sagemaker.executions("train")],
        "StartPipelineExecution",
    )


def test_step_functions_killed_mid_run_then_retried_attaches_to_the_one_execution(
    emulators, spawn, script_env, run_script, ledger
):
    from paradime_aws_stepfunctions.testing import wait_machine

    target = sfn_target(emulators, wait_machine(8))
    env = script_env(PARADIME_IDEMPOTENCY_KEY=KEY)
    first = spawn(["run", SFN, *target.args, "--json"], env)
    wait_until(lambda: len(target.runs()) == 1)
    first.popen.kill()  # SIGKILL: no summary, no clean-up, the execution runs on
    assert first.finish() == -9
    retry = run_script(["run", SFN, *target.args, "--json"], env)
    assert retry.returncode == 0, retry.stderr
    [execution] = target.runs()
    [row] = _rows(retry)
    assert (row["status"], row["run_id"], row["attached"]) == ("SUCCEEDED", execution, True)
    assert row["output"] == {"waited": 8}
    assert "attached to execution" in retry.stderr
    ledger.record("11", faults=1, targets=1, duplicates=len(target.runs()) - 1)


def test_sagemaker_killed_mid_run_then_retried_reports_the_executions_true_failure(
    emulators, spawn, script_env, run_script, ledger
):
    target = sagemaker_target(
        emulators, "Executing", "Executing", "Executing", "Failed", failure_reason="OOM in Train"
    )
    env = script_env(PARADIME_IDEMPOTENCY_KEY=KEY)
    first = spawn(["run", SAGEMAKER, *target.args, "--json"], env)
    wait_until(lambda: len(target.runs()) == 1)
    started = time.monotonic()
    first.popen.kill()
    assert first.finish() == -9
    time.sleep(max(0.0, SAGEMAKER_RETRY_AFTER_S - (time.monotonic() - started)))
    retry = run_script(["run", SAGEMAKER, *target.args, "--json"], env)
    assert retry.returncode == 1, retry.stderr
    [execution] = target.runs()
    [row] = _rows(retry)
    assert (row["status"], row["run_id"], row["attached"]) == ("FAILED", execution, True)
    assert row["error"] == "pipeline execution Failed: OOM in Train"
    ledger.record("11", faults=1, targets=1, duplicates=len(target.runs()) - 1)


PROVIDERS = ["stepfunctions", "sagemaker"]


def _succeeding(provider: str, emulators: Any) -> Target:
    from paradime_aws_stepfunctions.testing import pass_machine

    if provider == "stepfunctions":
        return sfn_target(emulators, pass_machine())
    return sagemaker_target(emulators)


def _rows(completed: Any) -> list[dict[str, Any]]:
    import json

    return list(json.loads(completed.stdout)["results"])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_rerun_after_success_reports_it_with_the_same_run_id_and_starts_nothing(
    provider, emulators, aws_faults, script_env, run_script, ledger
):
    target = _succeeding(provider, emulators)
    args = ["run", target.command, *target.args, "--idempotency-key", KEY, "--json"]
    first = run_script(args, script_env())
    assert first.returncode == 0, first.stderr
    if provider == "sagemaker":
        time.sleep(SAGEMAKER_RETRY_AFTER_S)
    again = run_script(args, script_env())
    assert again.returncode == 0, again.stderr
    [before], [after] = _rows(first), _rows(again)
    assert (after["status"], after["run_id"], after["attached"]) == (
        "SUCCEEDED",
        before["run_id"],
        True,
    )
    # SageMaker is asked again with the same token (that is how the execution is found) and
    # answers with the same execution; Step Functions is only asked to describe it.
    assert aws_faults.count(target.starts) == (2 if provider == "sagemaker" else 1)
    assert target.runs() == [before["run_id"]]
    ledger.record("11", faults=1, targets=1, duplicates=len(target.runs()) - 1)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_different_input_under_the_same_key_exits_2_and_starts_nothing(
    provider, emulators, script_env, run_script, ledger
):
    target = _succeeding(provider, emulators)
    inputs = (
        (["--input", '{"day": "2026-06-01"}'], ["--input", '{"day": "2026-06-02"}'])
        if provider == "stepfunctions"
        else (["--parameter", "Day=2026-06-01"], ["--parameter", "Day=2026-06-02"])
    )
    base = ["run", target.command, *target.args, "--idempotency-key", KEY, "--json"]
    first = run_script([*base, *inputs[0]], script_env())
    assert first.returncode == 0, first.stderr
    changed = run_script([*base, *inputs[1]], script_env())
    assert changed.returncode == 2, changed.stderr
    [row] = _rows(changed)
    assert row["status"] == "ERROR"
    assert f"idempotency key '{KEY}' already started execution" in row["error"]
    assert "Traceback" not in changed.stderr
    assert len(target.runs()) == 1
    ledger.record("11", faults=1, targets=1, duplicates=len(target.runs()) - 1)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_new_key_starts_a_new_run(provider, emulators, script_env, run_script, ledger):
    target = _succeeding(provider, emulators)
    for key in (KEY, f"{KEY}-by-hand"):
        done = run_script(
            ["run", target.command, *target.args, "--json"],
            script_env(PARADIME_IDEMPOTENCY_KEY=key),
        )
        assert done.returncode == 0, done.stderr
        assert _rows(done)[0]["attached"] is False
    assert len(target.runs()) == 2
    ledger.record("11", targets=1, duplicates=0)


def test_lambda_refuses_a_typed_key_and_warns_once_about_one_from_the_environment(
    emulators, script_env, run_script, ledger
):
    emulators.functions.create("export-a", "export-b")
    args = ["run", LAMBDA, "--function-name", "export-a,export-b", "--json"]
    typed = run_script([*args, "--idempotency-key", KEY], script_env())
    assert typed.returncode == 2
    assert typed.stderr.startswith("Error: --idempotency-key cannot be honoured: Lambda has no way")
    assert emulators.lambda_.invoked() == []
    from_env = run_script(args, script_env(PARADIME_IDEMPOTENCY_KEY=KEY))
    assert from_env.returncode == 0, from_env.stderr
    assert from_env.stderr.count("PARADIME_IDEMPOTENCY_KEY is set, but aws-lambda-invoke") == 1
    assert len(emulators.lambda_.invoked()) == 2
    ledger.record("11", targets=2, duplicates=emulators.duplicate_invocations())


@pytest.mark.parametrize(
    "command",
    ["fivetran-sync", "airbyte-sync", "aws-stepfunctions-start-execution", "aws-lambda-invoke"],
)
def test_the_key_help_promises_nothing_the_provider_contradicts(command: str) -> None:
    """The generic text promised "starts nothing ... reports how it ended" above a provider
    text saying a rerun starts a new sync (before)."""
    from paradime.testing import run_cli

    text = " ".join(run_cli(["run", command, "--help"]).stdout.split())
    key_help = text[text.index("--idempotency-key KEY") :]
    assert "starts nothing" not in key_help
    assert "reports how it ended once it has" not in key_help
