"""Step Functions test harness: the patched emulator for every test, and conveniences.

The moto patches, the state machine definitions and ``machines`` live in
:mod:`paradime_aws_stepfunctions.testing`, shared with the tests that cross packages (``tests/``
at the repository root). Here, in addition:

* The ``ExecutionTimedOut`` history event has no error or cause: the opt-in fixture
  ``timeout_cause`` fills them (AWS's API has both fields) to exercise reading them from history.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from paradime_aws_stepfunctions.testing import (
    choice_machine,
    express_arns,
    fail_machine,
    machines,
    pass_machine,
    sfn_emulator,
    timeout_machine,
    wait_machine,
)

# Fixtures, registered by being imported here.
__all__ = ["express_arns", "machines", "sfn_emulator"]
COMMAND = "aws-stepfunctions-start-execution"


@pytest.fixture(autouse=True)
def moto_gaps_closed(sfn_emulator: None) -> None:
    """moto's Step Functions gaps closed for each test of this package."""


TIMEOUT_ERROR = "States.Timeout"
TIMEOUT_CAUSE = "The execution ran longer than the state machine's TimeoutSeconds."


@pytest.fixture
def timeout_cause(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """ExecutionTimedOut history events carry this error and cause (moto leaves them empty)."""
    from moto.stepfunctions.parser.api import ExecutionTimedOutEventDetails
    from moto.stepfunctions.parser.asl.component.program import program

    def details() -> Any:
        return ExecutionTimedOutEventDetails(error=TIMEOUT_ERROR, cause=TIMEOUT_CAUSE)

    monkeypatch.setattr(program, "ExecutionTimedOutEventDetails", details)
    return TIMEOUT_ERROR, TIMEOUT_CAUSE


@pytest.fixture
def no_retry_delay(instant_botocore_retries: None) -> None:
    """botocore retries throttles at once (its backoff would make throttle tests slow)."""


@pytest.fixture
def start(paradime_cli: Callable[..., Any]) -> Callable[..., Any]:
    """Run the start command in-process: ``start("--state-machine-arn", arn, "--json")``."""

    def run(*args: str, env: dict[str, str | None] | None = None) -> Any:
        return paradime_cli(["run", COMMAND, *args], env=env)

    return run


@pytest.fixture
def asl() -> SimpleNamespace:
    """The state machine definitions the tests use."""
    return SimpleNamespace(
        passing=pass_machine,
        failing=fail_machine,
        waiting=wait_machine,
        choice=choice_machine,
        timing_out=timeout_machine,
    )


@pytest.fixture
def bodies() -> Callable[[Any, str], list[dict[str, Any]]]:
    """``bodies(proxy, "StartExecution")``: the JSON bodies of the requests the proxy saw."""

    def read(proxy: Any, action: str) -> list[dict[str, Any]]:
        return [json.loads(r.body or b"{}") for r in proxy.requests if r.action == action]

    return read
