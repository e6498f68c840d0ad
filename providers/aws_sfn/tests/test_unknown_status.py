"""A status DescribeExecution's API reference does not list yet: the execution is followed as
RUNNING, the status named in its progress line, until it reaches one paradime knows."""

from __future__ import annotations

import json

from paradime.testing.proxy import Reply
from paradime_aws_common.testing import when


def test_an_unknown_execution_status_is_followed_until_a_known_end(
    start, machines, asl, aws_faults
):
    arn = machines.arn("hello", asl.passing())
    execution = f"{arn.replace(':stateMachine:', ':execution:')}:run"
    body = json.dumps(
        {
            "executionArn": execution,
            "stateMachineArn": arn,
            "status": "PENDING_SOMETHING_NEW",
            "startDate": 1767225600,
        }
    ).encode()
    reply = Reply(200, body, {"Content-Type": "application/x-amz-json-1.0"})
    aws_faults.add_rule(when(reply, action="DescribeExecution", times=2))
    result = start("--state-machine-arn", arn, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json["results"][0]["status"] == "SUCCEEDED"
    assert "status 'PENDING_SOMETHING_NEW' unknown to paradime" in result.stderr
    assert aws_faults.count("DescribeExecution") == 3
