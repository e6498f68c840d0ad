"""Scenario 5, interrupt: SIGINT and SIGTERM sent to the real ``paradime`` process while it waits.

The console script runs as a scheduler runs it (its own process, no terminal) against the
emulator in this process. Once every run has started, a signal: the summary names every run with
its run id, the exit code is 130 (SIGINT) or 143 (SIGTERM), and with ``--cancel-on-exit`` the
emulator shows the runs stopped. A second SIGINT exits at once. During a fan-out, a signal stops
the sending: only the calls already on the wire complete, every other target is "not triggered".
"""

from __future__ import annotations

import re
import signal
import time
from typing import Any

import pytest

from paradime.testing.proxy import Delay
from paradime_aws_common.testing import when

LAMBDA = "aws-lambda-invoke"
SFN = "aws-stepfunctions-start-execution"
SAGEMAKER = "aws-sagemaker-start-pipeline"
CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}


def all_started(targets: list[str]) -> Any:
    """A predicate on stderr: every target's "... started: <run id>" progress line is there."""
    return lambda stderr: all(
        re.search(rf"\[{re.escape(t)}\] [\w ]*started: ", stderr) for t in targets
    )


def long_machines(emulators: Any, *names: str) -> list[str]:
    from paradime_aws_stepfunctions.testing import wait_machine

    return [emulators.machines.arn(name, wait_machine(120)) for name in names]


@pytest.mark.parametrize("cancel", [False, True], ids=["left-running", "cancel-on-exit"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_waiting_reports_every_run_id_and_exits_with_its_code(
    signum, cancel, emulators, spawn, script_env, ledger
):
    arns = long_machines(emulators, "etl", "report", "backfill")
    flags = ["--cancel-on-exit"] if cancel else []
    args = [arg for arn in arns for arg in ("--state-machine-arn", arn)]
    process = spawn(["run", SFN, *args, *flags, "--json"], script_env())
    process.wait_for(all_started(arns))
    process.signal(signum)
    code = process.finish()
    assert code == CODES[signum], process.stderr
    rows = {row["target"]: row for row in process.json["results"]}
    assert list(rows) == arns  # every target, in order
    executions = {arn: emulators.machines.executions(arn) for arn in arns}
    assert {arn: [e["executionArn"] for e in found] for arn, found in executions.items()} == {
        arn: [rows[arn]["run_id"]] for arn in arns
    }
    name = NAMES[signum]
    for arn in arns:
        status = emulators.machines.describe(rows[arn]["run_id"])["status"]
        if cancel:
            assert rows[arn]["status"] == "STOPPED"
            assert rows[arn]["error"].startswith(f"interrupted by {name}; stop requested")
            assert status == "ABORTED"
        else:
            assert rows[arn]["status"] == "RUNNING"
            assert "still running remotely" in rows[arn]["error"]
            assert status == "RUNNING"
            emulators.machines.client().stop_execution(executionArn=rows[arn]["run_id"])
    assert "Traceback" not in process.stderr
    ledger.record("5", faults=1, targets=len(arns), duplicates=emulators.duplicate_executions(arns))


def test_the_table_summary_after_a_signal_shows_each_run_id_whole(
    emulators, spawn, script_env, ledger
):
    """Schedulers keep stdout: the run ids there must be whole to find the runs left running."""
    arns = long_machines(emulators, "nightly-warehouse-load", "nightly-report")
    args = [arg for arn in arns for arg in ("--state-machine-arn", arn)]
    process = spawn(["run", SFN, *args], script_env(COLUMNS="100"))
    process.wait_for(all_started(arns))
    process.signal(signal.SIGTERM)
    assert process.finish() == 143, process.stderr
    for arn in arns:
        [execution] = emulators.machines.executions(arn)
        assert execution["executionArn"] in process.stdout, process.stdout
        emulators.machines.client().stop_execution(executionArn=execution["executionArn"])
    ledger.record("5", faults=1, targets=len(arns), duplicates=emulators.duplicate_executions(arns))


def test_sigterm_stops_sagemaker_executions_with_cancel_on_exit(
    emulators, spawn, script_env, ledger
):
    names = ["train", "score"]
    for name in names:
        emulators.sagemaker.create_pipeline(name)
        emulators.sagemaker.script(name, "Executing")
    process = spawn(
        ["run", SAGEMAKER, "--pipeline-name", ",".join(names), "--cancel-on-exit", "--json"],
        script_env(),
    )
    process.wait_for(all_started(names))
    process.signal(signal.SIGTERM)
    assert process.finish() == 143, process.stderr
    rows = {row["target"]: row for row in process.json["results"]}
    assert {t: r["status"] for t, r in rows.items()} == dict.fromkeys(names, "STOPPED")
    stopped = sorted(stop["arn"] for stop in emulators.sagemaker.stops)
    assert stopped == sorted(r["run_id"] for r in rows.values())
    assert stopped == sorted(
        e["PipelineExecutionArn"] for name in names for e in emulators.sagemaker.executions(name)
    )
    ledger.record(
        "5",
        faults=1,
        targets=len(names),
        duplicates=emulators.duplicate_pipeline_executions(names),
    )


def test_a_second_sigint_exits_at_once(emulators, aws_faults, spawn, script_env, ledger):
    """The first SIGINT waits for stop requests (held 30 s by the proxy); the second one ends
    the process at once."""
    arns = long_machines(emulators, "etl", "report")
    aws_faults.add_rule(when(Delay(30.0, forward=False), action="StopExecution"))
    args = [arg for arn in arns for arg in ("--state-machine-arn", arn)]
    process = spawn(["run", SFN, *args, "--cancel-on-exit", "--json"], script_env())
    process.wait_for(all_started(arns))
    process.signal(signal.SIGINT)
    process.wait_for(lambda stderr: stderr.count("stopping the remote run") == len(arns))
    sent = time.monotonic()
    process.signal(signal.SIGINT)
    assert process.finish(limit_s=20) == 130
    assert time.monotonic() - sent < 5.0
    for arn in arns:
        for execution in emulators.machines.executions(arn):
            emulators.machines.client().stop_execution(executionArn=execution["executionArn"])
    ledger.record("5", faults=2, targets=len(arns), duplicates=emulators.duplicate_executions(arns))


def test_sigint_during_a_fan_out_invokes_nothing_more(
    emulators, aws_faults, spawn, script_env, ledger
):
    """60 functions, each invocation held 300 ms by the proxy, 10 at a time: SIGINT once 15
    have reached the proxy. Only the invocations on their way then complete (at most one more
    per worker, sent before the signal was handled); every other function is never invoked and
    its row says so. Before: all 60 were invoked during the grace window."""
    names = [f"fan-{i:02d}" for i in range(60)]
    emulators.functions.create(*names)
    aws_faults.add_rule(when(Delay(0.3), action="/invocations"))
    process = spawn(
        ["run", LAMBDA, "--function-name", ",".join(names), "--max-concurrency", "10", "--json"],
        script_env(),
    )
    process.wait_for(lambda _stderr: aws_faults.count("/invocations") >= 15)
    process.signal(signal.SIGINT)
    at_signal = aws_faults.count("/invocations")
    assert process.finish() == 130, process.stderr
    invoked = aws_faults.count("/invocations")
    assert invoked <= at_signal + 10, (at_signal, invoked)
    rows = {row["target"]: row for row in process.json["results"]}
    assert list(rows) == names
    reached = {invocation.function for invocation in emulators.lambda_.invoked()}
    assert len(emulators.lambda_.invoked()) == len(reached) == invoked
    for name, row in rows.items():
        if name in reached:  # answered during the grace window: reported as it ended
            assert row["status"] == "SUCCEEDED", row
        else:
            assert row["status"] == "STOPPED", row
            assert row["error"] == "not triggered: interrupted by SIGINT"
    assert "Traceback" not in process.stderr
    ledger.record("5", faults=1, targets=len(names), duplicates=emulators.duplicate_invocations())
