"""Throttles, server errors and lost answers: retried where a repeat cannot start a second run.

A STANDARD start is sent with one execution name per target, so every repeat of it (botocore's
retries, core's throttle retries) names the same execution: Step Functions returns the running
one, or ExecutionAlreadyExists once it has ended, which the runner recognises as its own.
"""

from __future__ import annotations

import http.client
import time
import urllib.parse
from typing import Any

import pytest

from paradime.testing.proxy import RESET, ProxyRequest
from paradime_aws_common.testing import aws_error, server_error, throttle, when

pytestmark = pytest.mark.usefixtures("fast_polling", "no_retry_delay")


def forward(upstream: str, request: ProxyRequest) -> None:
    """Send the request on to the emulator ourselves (its answer is then thrown away)."""
    url = urllib.parse.urlsplit(upstream)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        headers = {k: v for k, v in request.headers.items() if k not in ("connection", "host")}
        conn.request(request.method, request.path, body=request.body, headers=headers)
        conn.getresponse().read()
    finally:
        conn.close()


def reached_then_lost(upstream: str, settle: Any = None) -> Any:
    """A proxy outcome: the request reaches Step Functions, the answer never reaches the CLI."""

    def outcome(request: ProxyRequest) -> Any:
        forward(upstream, request)
        if settle is not None:
            settle()
        return RESET

    return outcome


def test_a_throttled_start_retried_by_core_makes_one_execution(
    start, machines, asl, aws_faults, bodies
):
    arn = machines.arn("hello", asl.passing())
    # Core alone retries a start (botocore's retries are off for it): five throttles, then
    # the sixth attempt starts the execution.
    aws_faults.add_rule(when(throttle("states"), action="StartExecution", times=5))
    result = start("--state-machine-arn", arn, "--json")
    assert result.exit_code == 0, result.stderr
    assert "ThrottlingException" in result.stderr  # core's retry is reported
    sent = bodies(aws_faults, "StartExecution")
    assert len(sent) == 6
    assert len({b["name"] for b in sent}) == 1
    assert len(machines.executions(arn)) == 1


def test_a_start_whose_answer_was_lost_returns_the_same_running_execution(
    start, machines, asl, aws_faults, aws, bodies
):
    arn = machines.arn("slow", asl.waiting(1))
    aws_faults.add_rule(when(reached_then_lost(aws.url), action="StartExecution", times=1))
    result = start("--state-machine-arn", arn, "--json")
    assert result.exit_code == 0, result.stderr
    # The execution it made is found by its name: the start is not sent again.
    assert len(bodies(aws_faults, "StartExecution")) == 1
    assert aws_faults.count("DescribeExecution") >= 1
    executions = machines.executions(arn)
    assert [e["executionArn"] for e in executions] == [result.json["results"][0]["run_id"]]


def test_a_lost_answer_of_an_execution_that_ended_since_is_recognised_as_ours(
    start, machines, asl, aws_faults, aws
):
    arn = machines.arn("hello", asl.passing())

    def until_ended() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            listed = machines.executions(arn)
            if listed and listed[0]["status"] != "RUNNING":
                return
            time.sleep(0.02)

    lost = reached_then_lost(aws.url, settle=until_ended)
    aws_faults.add_rule(when(lost, action="StartExecution", times=1))
    result = start("--state-machine-arn", arn, "--input", '{"n": 1}', "--json")
    assert result.exit_code == 0, result.stderr
    row = result.json["results"][0]
    assert row["status"] == "SUCCEEDED"
    assert row["output"] == {"n": 1, "result": {"greeting": "hello"}}
    assert "an earlier attempt of this start had reached Step Functions" in result.stderr
    assert len(machines.executions(arn)) == 1


def test_throttling_that_never_ends_is_throttled_and_starts_nothing(
    start, machines, asl, aws_faults
):
    from paradime import engine

    busy = machines.arn("busy", asl.passing())
    calm = machines.arn("calm", asl.passing(), region="eu-west-1")
    throttled = when(
        lambda r: throttle("states") if b":us-east-1:" in r.body else None,
        action="StartExecution",
    )
    aws_faults.add_rule(throttled)
    result = start("--state-machine-arn", busy, "--state-machine-arn", calm, "--json")
    assert result.exit_code == 1
    assert result.statuses == {busy: "THROTTLED", calm: "SUCCEEDED"}
    assert (
        result.json["results"][0]["error"] == "StartExecution: ThrottlingException: Rate exceeded"
    )
    assert machines.executions(busy) == []
    starts = aws_faults.count("StartExecution")
    # Core's attempts alone (botocore's retries are off for a start), and calm's one.
    assert starts == engine.TRIGGER_ATTEMPTS + 1


def test_access_denied_is_final_and_not_retried(start, machines, asl, aws_faults):
    arn = machines.arn("hello", asl.passing())
    denied = aws_error("AccessDeniedException", "User is not authorized to perform StartExecution")
    aws_faults.add_rule(when(denied, action="StartExecution"))
    result = start("--state-machine-arn", arn, "--json")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "ERROR"
    assert row["error"] == (
        "StartExecution: AccessDeniedException: User is not authorized to perform StartExecution"
    )
    assert aws_faults.count("StartExecution") == 1


def test_failing_status_checks_are_retried_until_the_outcome_is_known(
    start, machines, asl, aws_faults
):
    arn = machines.arn("hello", asl.passing())
    # Five 5xx answers: botocore's four attempts of one poll, then one of the next poll.
    aws_faults.add_rule(when(server_error(), action="DescribeExecution", times=5))
    result = start("--state-machine-arn", arn, "--json")
    assert result.exit_code == 0, result.stderr
    assert "status check failed (1 in a row)" in result.stderr
    assert aws_faults.count("DescribeExecution") == 6


def test_a_throttled_name_lookup_is_retried(start, machines, asl, aws_faults):
    machines.arn("nightly", asl.passing())
    aws_faults.add_rule(when(throttle("states"), action="ListStateMachines", times=5))
    result = start("--state-machine-arn", "nightly", "--json")
    assert result.statuses == {"nightly": "SUCCEEDED"}, result.stdout
    assert aws_faults.count("ListStateMachines") == 6


def test_server_errors_on_a_standard_start_are_retried_as_the_name_makes_it_safe(
    start, machines, asl, aws_faults, bodies
):
    arn = machines.arn("hello", asl.passing())
    # Four 5xx answers exhaust botocore's attempts; core retries the start once more.
    aws_faults.add_rule(when(server_error(), action="StartExecution", times=4))
    result = start("--state-machine-arn", arn, "--json")
    assert result.exit_code == 0, result.stderr
    sent = bodies(aws_faults, "StartExecution")
    assert len(sent) == 5
    assert len({b["name"] for b in sent}) == 1
    assert len(machines.executions(arn)) == 1


@pytest.mark.parametrize("cancel", [False, True], ids=["left", "cancel-on-exit"])
def test_a_start_never_answered_keeps_its_execution_in_the_row_and_is_stopped_with_the_flag(
    cancel, start, machines, asl, aws_faults, aws, monkeypatch
):
    """Every start reaches Step Functions and every answer is lost: the look-up by its name
    finds the execution, which is followed until the deadline. The row names the execution it
    started (before: no run id and no execution name), and --cancel-on-exit stops it."""
    monkeypatch.setattr("paradime.engine.TRIGGER_BACKOFF_S", 1.0)  # the production backoff
    arn = machines.arn("slow", asl.waiting(120))
    aws_faults.add_rule(when(reached_then_lost(aws.url), action="StartExecution"))
    flags = ["--cancel-on-exit"] if cancel else []
    result = start("--state-machine-arn", arn, "--timeout-minutes", "0.05", *flags, "--json")
    assert result.exit_code == 1
    [row] = result.json["results"]
    [execution] = machines.executions(arn)
    assert row["run_id"] == execution["executionArn"]
    assert row["execution_name"] == execution["name"]
    assert row["status"] == "TIMED_OUT"
    assert "still running at the 0.05-minute timeout" in row["error"]
    status = machines.describe(execution["executionArn"])["status"]
    if cancel:
        assert "stop requested (remote status: STOPPED)" in row["error"]
        assert status == "ABORTED"
    else:
        assert status == "RUNNING"
        machines.client().stop_execution(executionArn=execution["executionArn"])
