"""The conformance kit (paradime.testing.conformance) run against the patched emulator, with
Event invocations followed in their logs (so the trigger has look-ups and status reads)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from paradime.testing.conformance import Adapter, ConformanceSuite
from paradime_aws_common.testing import server_error, throttle


class LambdaAdapter(Adapter):
    command = "aws-lambda-invoke"
    target_option = "--function-name"
    list_command = "aws-lambda-list-functions"
    # GetFunction of the kit's functions (their names start "kit-"), not ListFunctions.
    lookup_action = "GET /2015-03-31/functions/kit-"
    start_action = "/invocations"
    status_action = "FilterLogEvents"
    list_action = "GET /2015-03-31/functions"
    throttle = throttle("lambda")
    server_error = server_error()
    unrecoverable_start = (
        "Lambda has no call to look an invocation up by anything known before it is sent"
    )
    not_applicable: ClassVar[dict[str, str]] = {
        "cancel_after_end": "Lambda cannot stop an invocation (can_cancel=False)",
    }
    aws: Any = None
    functions: Any = None
    emulator: Any = None
    made = 0

    def env(self, url: str) -> dict[str, str]:
        return {**self.aws.env, "AWS_ENDPOINT_URL": url}

    def args(self) -> list[str]:
        return ["--invocation-type", "Event"]

    def make_target(self, seconds: float, *, fail: bool = False) -> str:
        # The emulator writes an Event invocation's log lines as it is invoked: its end is
        # found by the first log read, whatever ``seconds``.
        self.made += 1
        name = f"kit-{self.made}"
        self.functions.create(name)
        self.emulator.behave(name, async_outcome="python-error" if fail else "success")
        return name

    def make_listed(self, count: int) -> list[str]:
        return [self.make_target(0) for _ in range(count)]

    def runs(self, target: str) -> int:
        return len(self.emulator.invoked(target))

    def secrets(self) -> list[str]:
        return [self.aws.env["AWS_SECRET_ACCESS_KEY"]]

    def spellings(self, target: str) -> tuple[str, str]:
        return target, f"arn:aws:lambda:{self.aws.region}:123456789012:function:{target}"


class TestLambdaConformance(ConformanceSuite):
    adapter = LambdaAdapter()

    @pytest.fixture
    def service(self, aws: Any, functions: Any, lambda_emulator: Any) -> Iterator[str]:
        self.adapter.aws, self.adapter.functions = aws, functions
        self.adapter.emulator = lambda_emulator
        yield str(aws.url)
