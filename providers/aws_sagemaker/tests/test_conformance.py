"""The conformance kit (paradime.testing.conformance) run against the patched emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from paradime.testing.conformance import Adapter, ConformanceSuite
from paradime_aws_common.testing import aws_error, server_error, throttle


class SageMakerAdapter(Adapter):
    command = "aws-sagemaker-start-pipeline"
    target_option = "--pipeline-name"
    list_command = "aws-sagemaker-list-pipelines"
    start_action = "StartPipelineExecution"
    status_action = "DescribePipelineExecution"
    list_action = "ListPipelines"
    throttle = throttle("sagemaker")
    server_error = server_error()
    not_found = aws_error("ResourceNotFound", "Pipeline execution does not exist")
    not_applicable: ClassVar[dict[str, str]] = {
        # The emulated executions move on with each status read, not with time: a run that
        # "ended a moment before" a stop cannot be arranged without a read that sees it.
        "cancel_after_end": "the emulator's executions end by status reads, not by time",
    }
    aws: Any = None
    sagemaker: Any = None
    made = 0

    def env(self, url: str) -> dict[str, str]:
        return {**self.aws.env, "AWS_ENDPOINT_URL": url}

    def make_target(self, seconds: float, *, fail: bool = False) -> str:
        self.made += 1
        name = f"kit-{self.made}"
        self.sagemaker.create_pipeline(name)
        running = ["Executing"] * max(1, round(seconds * 4))
        self.sagemaker.script(name, *running, "Failed" if fail else "Succeeded")
        return name

    def make_listed(self, count: int) -> list[str]:
        return [self.make_target(0) for _ in range(count)]

    def runs(self, target: str) -> int:
        return len(self.sagemaker.executions(target))

    def secrets(self) -> list[str]:
        return [self.aws.env["AWS_SECRET_ACCESS_KEY"]]

    def spellings(self, target: str) -> tuple[str, str]:
        arn = f"arn:aws:sagemaker:{self.aws.region}:123456789012:pipeline/{target}"
        return target, arn


class TestSageMakerConformance(ConformanceSuite):
    adapter = SageMakerAdapter()

    @pytest.fixture
    def service(self, aws: Any, sagemaker: Any) -> Iterator[str]:
        self.adapter.aws, self.adapter.sagemaker = aws, sagemaker
        yield str(aws.url)
