"""Stopping executions: at the timeout or on SIGINT when asked to, and when others stop them."""

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

from paradime_aws_common.testing import aws_error, when

pytestmark = pytest.mark.usefixtures("fast_polling")
COMMAND = "aws-stepfunctions-start-execution"


def aborted_event(machines, execution_arn):  # type: ignore[no-untyped-def]
    events = [e for e in machines.history(execution_arn) if e["type"] == "ExecutionAborted"]
    assert len(events) == 1, events
    return events[0]["executionAbortedEventDetails"]


def test_timeout_with_cancel_on_exit_stops_the_execution(start, machines, asl, aws_faults, bodies):
    arn = machines.arn("long", asl.waiting(120))
    result = start(
        "--state-machine-arn", arn, "--timeout-minutes", "0.02", "--cancel-on-exit", "--json"
    )
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "TIMED_OUT"
    assert row["error"] == (
        "still running at the 0.02-minute timeout; stop requested (remote status: STOPPED)"
    )
    execution = machines.describe(row["run_id"])
    assert execution["status"] == "ABORTED"
    reason = f"stopped by paradime {COMMAND}: still running at the 0.02-minute timeout"
    assert aborted_event(machines, row["run_id"]) == {
        "error": "paradime.Cancelled",
        "cause": reason,
    }
    assert bodies(aws_faults, "StopExecution") == [
        {"executionArn": row["run_id"], "error": "paradime.Cancelled", "cause": reason}
    ]


@pytest.mark.parametrize(
    "code", ["KmsAccessDeniedException", "KmsInvalidStateException", "KmsThrottlingException"]
)
def test_a_stop_refused_by_the_kms_key_is_sent_again_without_error_and_cause(
    start, machines, asl, aws_faults, bodies, code
):
    """An execution encrypted with a KMS key the caller may not use: Step Functions cannot
    encrypt the stop's error and cause, and a stop carrying neither needs no KMS permission."""
    arn = machines.arn("long", asl.waiting(120))
    aws_faults.add_rule(
        when(aws_error(code, "KMS key refused the request"), action="StopExecution", times=1)
    )
    result = start(
        "--state-machine-arn", arn, "--timeout-minutes", "0.02", "--cancel-on-exit", "--json"
    )
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "TIMED_OUT"
    assert row["error"].startswith(
        "still running at the 0.02-minute timeout; stop requested (remote status: STOPPED): sent "
        "without error and cause, which the execution's KMS key refused to encrypt "
        f"(StopExecution: {code}"
    )
    assert machines.describe(row["run_id"])["status"] == "ABORTED"
    reason = f"stopped by paradime {COMMAND}: still running at the 0.02-minute timeout"
    assert bodies(aws_faults, "StopExecution") == [
        {"executionArn": row["run_id"], "error": "paradime.Cancelled", "cause": reason},
        {"executionArn": row["run_id"]},
    ]


def test_timeout_without_cancel_on_exit_leaves_the_execution_running(
    start, machines, asl, aws_faults
):
    arn = machines.arn("long", asl.waiting(120))
    result = start("--state-machine-arn", arn, "--timeout-minutes", "0.02", "--json")
    row = result.json["results"][0]
    assert (result.exit_code, row["status"]) == (1, "TIMED_OUT")
    assert "not stopped (--cancel-on-exit stops it)" in row["error"]
    assert machines.describe(row["run_id"])["status"] == "RUNNING"
    assert aws_faults.count("StopExecution") == 0
    machines.client().stop_execution(executionArn=row["run_id"])


def test_an_execution_stopped_by_someone_else_is_stopped_with_their_reason(
    start, machines, asl, aws_faults
):
    arn = machines.arn("long", asl.waiting(120))

    def stop_it(request):  # type: ignore[no-untyped-def]
        execution_arn = json.loads(request.body)["executionArn"]
        machines.client().stop_execution(
            executionArn=execution_arn, error="Ops.Stopped", cause="stopped by the on-call engineer"
        )
        time.sleep(0.2)  # the interpreter thread records the stop
        return None  # then forward the status check

    aws_faults.add_rule(when(stop_it, action="DescribeExecution", times=1))
    result = start("--state-machine-arn", arn, "--json")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "STOPPED"
    assert row["execution_status"] == "ABORTED"
    # DescribeExecution carried no cause here: it was read from the history.
    assert row["error"] == "Ops.Stopped: stopped by the on-call engineer"
    assert aws_faults.count("GetExecutionHistory") == 1


def paradime_script() -> str:
    found = shutil.which("paradime", path=str(Path(sys.executable).parent))
    assert found, "the paradime console script is not installed next to this Python"
    return found


def interrupt_a_running_start(machines, aws, arn, *flags):  # type: ignore[no-untyped-def]
    """Run the console script, send SIGINT once the execution runs; (exit code, row)."""
    process = subprocess.Popen(
        [paradime_script(), "run", COMMAND, "--state-machine-arn", arn, *flags, "--json"],
        env={**os.environ, **aws.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not machines.executions(arn):
            time.sleep(0.05)
        assert machines.executions(arn), "the execution was never started"
        time.sleep(0.3)  # the trigger's answer reaches the engine
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert stdout, stderr
    return process.returncode, json.loads(stdout)["results"][0]


def test_sigint_with_cancel_on_exit_stops_the_execution_and_exits_130(machines, asl, aws):
    arn = machines.arn("long", asl.waiting(120))
    code, row = interrupt_a_running_start(machines, aws, arn, "--cancel-on-exit")
    assert code == 130
    assert row["status"] == "STOPPED"
    assert row["error"].startswith("interrupted by SIGINT; stop requested")
    assert machines.describe(row["run_id"])["status"] == "ABORTED"
    assert aborted_event(machines, row["run_id"])["cause"] == (
        f"stopped by paradime {COMMAND}: interrupted by SIGINT"
    )


def test_sigint_without_cancel_on_exit_reports_the_execution_still_running(machines, asl, aws):
    arn = machines.arn("long", asl.waiting(120))
    code, row = interrupt_a_running_start(machines, aws, arn)
    assert code == 130
    assert row["status"] == "RUNNING"
    assert "still running remotely" in row["error"]
    assert machines.describe(row["run_id"])["status"] == "RUNNING"
    machines.client().stop_execution(executionArn=row["run_id"])
