"""Scenario 4, deadline: runs still going at ``--timeout-minutes`` end ``TIMED_OUT`` on time.

These run on the production poll schedule (every 2 s for a young run), not the fast test one: the
point is that the deadline, not the next poll, ends the wait. The bound asserted is behaviour,
with room for a loaded machine: the command ends after the deadline and before the deadline plus
one poll interval plus a little slack, and with ``--cancel-on-exit`` the emulator shows the runs
stopped.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from paradime.polling import PollPolicy
from paradime.testing import run_cli

LAMBDA = "aws-lambda-invoke"
SFN = "aws-stepfunctions-start-execution"
SAGEMAKER = "aws-sagemaker-start-pipeline"
TIMEOUT_MINUTES = 0.05  # 3 s
SLACK_S = 2.5  # room for a loaded test machine


def arrange(emulators: Any, provider: str) -> tuple[str, list[str], list[str], str | None]:
    """(command, arguments, targets that outlast the deadline, one that ends before it).

    Lambda has none that ends before it: an Event invocation takes two status checks, 2 s apart,
    to read (the end of the invocation, then its own log lines), too close to 3 s."""
    if provider == "stepfunctions":
        from paradime_aws_stepfunctions.testing import pass_machine, wait_machine

        long = [emulators.machines.arn(n, wait_machine(120)) for n in ("etl", "report")]
        short = emulators.machines.arn("quick", pass_machine())
        args = [arg for arn in (*long, short) for arg in ("--state-machine-arn", arn)]
        return SFN, args, long, short
    if provider == "sagemaker":
        for name in ("train", "score", "quick"):
            emulators.sagemaker.create_pipeline(name)
        emulators.sagemaker.script("train", "Executing")
        emulators.sagemaker.script("score", "Executing")
        return SAGEMAKER, ["--pipeline-name", "train,score,quick"], ["train", "score"], "quick"
    emulators.functions.create("drain-a", "drain-b")
    emulators.lambda_.behave("drain-a", async_outcome="running")  # started, never ends
    emulators.lambda_.behave("drain-b", async_outcome="running")
    args = ["--function-name", "drain-a,drain-b", "--invocation-type", "Event"]
    return LAMBDA, args, ["drain-a", "drain-b"], None


def remote_run_ids(emulators: Any, command: str, target: str) -> list[str]:
    if command == SFN:
        return [e["executionArn"] for e in emulators.machines.executions(target)]
    if command == SAGEMAKER:
        return [e["PipelineExecutionArn"] for e in emulators.sagemaker.executions(target)]
    return [i.request_id for i in emulators.lambda_.invoked(target)]


def seconds(row: dict[str, Any]) -> float:
    started = datetime.fromisoformat(row["started_at"])
    return (datetime.fromisoformat(row["finished_at"]) - started).total_seconds()


@pytest.mark.parametrize("cancel", [False, True], ids=["left-running", "cancel-on-exit"])
@pytest.mark.parametrize("provider", ["stepfunctions", "sagemaker", "lambda-event"])
def test_runs_past_the_deadline_end_timed_out_within_one_poll_interval(
    provider, cancel, emulators, aws, ledger
):
    command, args, long, short = arrange(emulators, provider)
    flags = ["--cancel-on-exit"] if cancel else []
    minutes = TIMEOUT_MINUTES
    began = time.monotonic()
    result = run_cli(["run", command, *args, "--timeout-minutes", str(minutes), *flags, "--json"])
    elapsed = time.monotonic() - began
    deadline_s = minutes * 60
    # The poll interval of a run this old: the most a poll-driven wait could overrun.
    poll_interval_s = PollPolicy().interval(deadline_s)
    assert result.exit_code == 1
    rows = {row["target"]: row for row in result.json["results"]}
    if short is not None:
        assert rows[short]["status"] == "SUCCEEDED"
    for target in long:
        row = rows[target]
        assert row["status"] == "TIMED_OUT", row
        assert row["error"].startswith(f"still running at the {minutes:g}-minute timeout")
        assert [row["run_id"]] == remote_run_ids(emulators, command, target)
        assert seconds(row) <= deadline_s + poll_interval_s + SLACK_S
    assert deadline_s <= elapsed <= deadline_s + poll_interval_s + SLACK_S, elapsed
    if command == SFN:
        statuses = {t: emulators.machines.describe(rows[t]["run_id"])["status"] for t in long}
        expected = "ABORTED" if cancel else "RUNNING"
        assert statuses == dict.fromkeys(long, expected)
        for target in long:
            if not cancel:
                emulators.machines.client().stop_execution(executionArn=rows[target]["run_id"])
            else:
                assert "stop requested (remote status: STOPPED)" in rows[target]["error"]
    elif command == SAGEMAKER:
        stops = sorted(stop["arn"] for stop in emulators.sagemaker.stops)
        assert stops == (sorted(rows[t]["run_id"] for t in long) if cancel else [])
    else:
        # An invocation cannot be stopped once Lambda has it, and the row says so.
        for target in long:
            assert "aws-lambda-invoke cannot stop its runs" in rows[target]["error"]
    if not cancel and command != LAMBDA:
        for target in long:
            assert "not stopped (--cancel-on-exit stops it)" in rows[target]["error"]
    ledger.record("4", faults=len(long), targets=len(rows), duplicates=0)


# -- a trigger call on the wire at the deadline -------------------------------------------------
def test_a_start_answered_just_after_the_deadline_keeps_its_run_id_and_is_stopped(
    emulators, aws_faults, ledger
):
    """The start reaches Step Functions after the deadline (the proxy holds it 1.5 s; the
    deadline is at 1.2 s): its run id must not be lost, and --cancel-on-exit must stop it."""
    from paradime.testing.proxy import Delay
    from paradime_aws_common.testing import when
    from paradime_aws_stepfunctions.testing import wait_machine

    arn = emulators.machines.arn("etl", wait_machine(120))
    aws_faults.add_rule(when(Delay(1.5), action="StartExecution"))
    flags = ["--timeout-minutes", "0.02", "--cancel-on-exit", "--json"]
    result = run_cli(["run", SFN, "--state-machine-arn", arn, *flags])
    assert result.exit_code == 1
    [row] = result.json["results"]
    [execution] = emulators.machines.executions(arn)
    assert row["status"] == "TIMED_OUT"
    assert row["run_id"] == execution["executionArn"]
    assert emulators.machines.describe(row["run_id"])["status"] == "ABORTED"
    ledger.record(
        "4", proxy=aws_faults, targets=1, duplicates=emulators.duplicate_executions([arn])
    )
