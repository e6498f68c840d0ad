"""The conformance kit (paradime.testing.conformance) run against the patched emulator."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from paradime.testing.conformance import Adapter, ConformanceSuite
from paradime_aws_common.testing import aws_error, server_error, throttle


def machine(seconds: float, fail: bool) -> dict[str, Any]:
    """Waits ``seconds`` (rounded up; 0: none), then succeeds or fails."""
    end: dict[str, Any] = (
        {"Type": "Fail", "Error": "Demo.Failure", "Cause": "the job failed"}
        if fail
        else {"Type": "Pass", "Result": {"done": True}, "End": True}
    )
    wait = math.ceil(seconds)
    if not wait:
        return {"StartAt": "End", "States": {"End": end}}
    states = {"Wait": {"Type": "Wait", "Seconds": wait, "Next": "End"}, "End": end}
    return {"StartAt": "Wait", "States": states}


class StepFunctionsAdapter(Adapter):
    command = "aws-stepfunctions-start-execution"
    target_option = "--state-machine-arn"
    list_command = "aws-stepfunctions-list-state-machines"
    lookup_action = "DescribeStateMachine"
    start_action = "StartExecution"
    status_action = "DescribeExecution"
    list_action = "ListStateMachines"
    throttle = throttle("states")
    server_error = server_error()
    not_found = aws_error("ExecutionDoesNotExist", "Execution Does Not Exist")
    aws: Any = None
    machines: Any = None
    made = 0

    def env(self, url: str) -> dict[str, str]:
        return {**self.aws.env, "AWS_ENDPOINT_URL": url}

    def make_target(self, seconds: float, *, fail: bool = False) -> str:
        self.made += 1
        return str(self.machines.arn(f"kit-{self.made}", machine(seconds, fail)))

    def make_listed(self, count: int) -> list[str]:
        return [self.make_target(0) for _ in range(count)]

    def runs(self, target: str) -> int:
        return len(self.machines.executions(target))

    def secrets(self) -> list[str]:
        return [self.aws.env["AWS_SECRET_ACCESS_KEY"]]

    def spellings(self, target: str) -> tuple[str, str]:
        return target.rsplit(":", 1)[-1], target  # its name, and its ARN


class TestStepFunctionsConformance(ConformanceSuite):
    adapter = StepFunctionsAdapter()

    @pytest.fixture
    def service(self, aws: Any, machines: Any) -> Iterator[str]:
        self.adapter.aws, self.adapter.machines = aws, machines
        yield str(aws.url)
