"""The promises that hold because core drives the trigger's steps, through the real console
script against the emulator: nothing starts after a stop or the deadline, not even during the
look-ups or botocore's own retries; a start whose answer is lost is found, never made twice;
the name chosen before the call is in every row where it matters.
"""

from __future__ import annotations

import json
import signal
from typing import Any

from paradime.testing.proxy import Delay, Lost
from paradime_aws_common.testing import IamPolicy, aws_error, server_error, throttle, when

SFN = "aws-stepfunctions-start-execution"


def sent(proxy: Any, action: str, after: float = 0.0) -> int:
    """Requests of ``action`` the proxy received (forwarded or not) after monotonic ``after``."""
    return sum(1 for r in proxy.requests if r.matches(action) and r.at > after)


def machines_named(emulators: Any, count: int, seconds: int = 60) -> list[str]:
    from paradime_aws_stepfunctions.testing import wait_machine

    return [emulators.machines.arn(f"m{i}", wait_machine(seconds)) for i in range(count)]


def test_sigint_during_a_slow_name_look_up_starts_nothing(
    emulators, aws_faults, spawn, script_env, ledger
):
    """Ten machines given by name; ListStateMachines takes 2 s; SIGINT as the first trigger
    line appears (before: the ten executions were started about 2 s after the signal)."""
    machines_named(emulators, 10)
    aws_faults.add_rule(when(Delay(2.0), action="ListStateMachines"))
    names = ",".join(f"m{i}" for i in range(10))
    process = spawn(["run", SFN, "--state-machine-arn", names, "--json"], script_env())
    process.wait_for(lambda err: "Starting execution" in err)
    process.signal(signal.SIGINT)
    assert process.finish() == 130, process.stderr
    assert sent(aws_faults, "StartExecution") == 0
    rows = process.json["results"]
    assert {row["status"] for row in rows} == {"STOPPED"}
    assert all(row["error"] == "not triggered: interrupted by SIGINT" for row in rows)
    ledger.record("12", aws_faults, targets=10, duplicates=0)


def test_sigterm_during_a_slow_machine_description_starts_nothing(
    emulators, aws_faults, spawn, script_env, ledger
):
    arns = machines_named(emulators, 10)
    aws_faults.add_rule(when(Delay(2.0), action="DescribeStateMachine"))
    process = spawn(["run", SFN, "--state-machine-arn", ",".join(arns), "--json"], script_env())
    process.wait_for(lambda err: "Starting execution" in err)
    process.signal(signal.SIGTERM)
    assert process.finish() == 143, process.stderr
    assert sent(aws_faults, "StartExecution") == 0
    assert all(emulators.machines.executions(arn) == [] for arn in arns)
    ledger.record("12", aws_faults, targets=len(arns), duplicates=0)


def test_the_deadline_during_the_look_ups_starts_nothing(
    emulators, aws_faults, run_script, script_env, ledger
):
    """The look-ups outlast a 1.2 s deadline (before: three executions started after it)."""
    arns = machines_named(emulators, 3)
    aws_faults.add_rule(when(Delay(3.0), action="DescribeStateMachine"))
    args = ["run", SFN, "--state-machine-arn", ",".join(arns), "--timeout-minutes", "0.02"]
    completed = run_script([*args, "--json"], script_env())
    assert completed.returncode == 1, completed.stderr
    assert sent(aws_faults, "StartExecution") == 0
    assert all(emulators.machines.executions(arn) == [] for arn in arns)
    rows = json.loads(completed.stdout)["results"]
    assert {row["status"] for row in rows} == {"STOPPED"}
    ledger.record("12", aws_faults, targets=len(arns), duplicates=0)


def test_sigterm_while_a_throttled_start_waits_for_its_retry_starts_nothing(
    emulators, aws_faults, spawn, script_env, ledger
):
    """Before: botocore's own retries of the throttled start created the execution 2.7-5.0 s
    after the signal. Now core alone retries a start, and no retry leaves after a stop."""
    [arn] = machines_named(emulators, 1)
    aws_faults.add_rule(when(throttle("states"), action="StartExecution", times=3))
    process = spawn(["run", SFN, "--state-machine-arn", arn, "--json"], script_env())
    process.wait_for(lambda err: "retrying in" in err)
    process.signal(signal.SIGTERM)
    signalled = max(r.at for r in aws_faults.requests)
    assert process.finish() == 143, process.stderr
    assert sent(aws_faults, "StartExecution", after=signalled) == 0
    assert emulators.machines.executions(arn) == []
    [row] = process.json["results"]
    assert row["status"] == "STOPPED" and row["error"].startswith("not triggered")
    ledger.record("12", aws_faults, targets=1, duplicates=0)


def test_a_lost_start_answer_under_the_minimal_policy_is_found_by_its_name(
    emulators, aws_faults, run_script, script_env, ledger
):
    """DescribeStateMachine is not allowed (the documented minimal policy); the start made the
    execution and its answer was a 5xx. Before: ERROR, no run id, no name, and the execution
    ran on unseen. Now the execution is found by its name and followed to its end."""
    from paradime_aws_stepfunctions.testing import wait_machine

    arn = emulators.machines.arn("etl", wait_machine(1))
    aws_faults.add_rule(
        IamPolicy("states:StartExecution", "states:DescribeExecution", "states:ListStateMachines")
    )
    aws_faults.add_rule(when(Lost(server_error()), action="StartExecution", times=1))
    completed = run_script(["run", SFN, "--state-machine-arn", arn, "--json"], script_env())
    assert completed.returncode == 0, completed.stderr
    [row] = json.loads(completed.stdout)["results"]
    [execution] = emulators.machines.executions(arn)
    assert row["status"] == "SUCCEEDED"
    assert row["run_id"] == execution["executionArn"]
    assert row["execution_name"] == execution["name"]
    assert sent(aws_faults, "StartExecution") == 1
    ledger.record("12", aws_faults, targets=1, duplicates=0)


def test_an_execution_not_yet_described_right_after_its_start_is_asked_again(
    emulators, aws_faults, run_script, script_env, ledger
):
    """DescribeExecution is eventually consistent: one ExecutionDoesNotExist right after our
    own start (before: ERROR after 2 s, exit 1, while the execution ran on and succeeded)."""
    from paradime_aws_stepfunctions.testing import wait_machine

    arn = emulators.machines.arn("lagging", wait_machine(1))
    missing = aws_error("ExecutionDoesNotExist", "Execution Does Not Exist")
    aws_faults.add_rule(when(missing, action="DescribeExecution", times=1))
    completed = run_script(["run", SFN, "--state-machine-arn", arn, "--json"], script_env())
    assert completed.returncode == 0, completed.stderr
    [row] = json.loads(completed.stdout)["results"]
    assert row["status"] == "SUCCEEDED"
    assert len(emulators.machines.executions(arn)) == 1
    ledger.record("12", aws_faults, targets=1, duplicates=0)


def test_an_express_execution_waited_past_the_deadline_keeps_its_name_in_the_row(
    emulators, aws_faults, run_script, script_env, ledger
):
    """The synchronous start of an EXPRESS machine outlasts --timeout-minutes. Before: the row
    was TIMED_OUT with run_id, execution_name and state_machine_type all null."""
    from paradime_aws_stepfunctions.testing import pass_machine

    arn = emulators.machines.arn("fast", pass_machine(), type="EXPRESS")
    aws_faults.add_rule(when(Delay(6.0), action="StartSyncExecution"))
    args = ["run", SFN, "--state-machine-arn", arn, "--timeout-minutes", "0.02", "--json"]
    completed = run_script(args, script_env())
    assert completed.returncode == 1, completed.stderr
    [row] = json.loads(completed.stdout)["results"]
    assert row["status"] == "TIMED_OUT"
    assert row["execution_name"].startswith("paradime-")
    assert row["state_machine_type"] == "EXPRESS"
    assert row["state_machine_arn"] == arn
    ledger.record("12", aws_faults, targets=1, duplicates=0)


def test_sigint_during_slow_lambda_configuration_reads_invokes_nothing(
    emulators, aws_faults, spawn, script_env, ledger
):
    """--timeout-minutes under Lambda's 15-minute limit reads each function's configuration
    first (for the timeout warning); the reads are slow and SIGINT comes during them. Before:
    the five functions were invoked 0.8-5.9 s after the signal."""
    names = [f"f{i}" for i in range(5)]
    emulators.functions.create(*names)
    aws_faults.add_rule(when(Delay(2.0), action="GET /2015-03-31/functions/f"))
    args = ["run", "aws-lambda-invoke", "--function-name", ",".join(names)]
    process = spawn([*args, "--timeout-minutes", "5", "--json"], script_env())
    process.wait_for(lambda err: "Invoking Lambda function" in err)
    process.signal(signal.SIGINT)
    assert process.finish() == 130, process.stderr
    assert emulators.lambda_.invoked() == []
    assert sent(aws_faults, "/invocations") == 0
    assert {row["status"] for row in process.json["results"]} == {"STOPPED"}
    ledger.record("12", aws_faults, targets=len(names), duplicates=0)
