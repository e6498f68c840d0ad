"""Step Functions test harness: the moto server (really interpreting ASL), with its gaps closed.

moto 5.2.5 runs in this process (a thread of the pytest process), so the gaps that matter here
are closed by small patches of its classes, each naming the gap:

* ``StartSyncExecution`` is not implemented (HTTP 500): :func:`_start_sync_execution` runs the
  EXPRESS machine to its end with moto's own synchronous interpreter and answers as AWS does.
* ``StopExecution`` drops the request's ``error`` and ``cause`` (the history records empty
  strings): :func:`_stop_execution` passes them to the execution, as AWS records them.
* ``StartExecution`` with a version or alias ARN fails (HTTP 500 or StateMachineDoesNotExist):
  :func:`_start_execution` starts the machine the qualifier belongs to. Tests check at the fault
  proxy that the qualified ARN is what the CLI sent.
* The ``ExecutionTimedOut`` history event has no error or cause: the opt-in fixture
  ``timeout_cause`` fills them (AWS's API has both fields) to exercise reading them from history.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest

ROLE = "arn:aws:iam::123456789012:role/paradime-test"
COMMAND = "aws-stepfunctions-start-execution"


# -- moto patches -------------------------------------------------------------------------
def _start_sync_execution(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.stepfunctions.parser.backend.execution import SyncExecution

    backend = self.stepfunction_backend
    machine = backend.describe_state_machine(self._get_param("stateMachineArn"))
    if machine.type != "EXPRESS":
        from moto.stepfunctions.exceptions import ValidationException

        raise ValidationException("StartSyncExecution is only for EXPRESS state machines")
    name = self._get_param("name") or uuid.uuid4().hex
    execution = SyncExecution(
        name=name,
        sm_type=machine.type,
        role_arn=machine.roleArn,
        exec_arn=(
            f"arn:aws:states:{backend.region_name}:{backend.account_id}:express:"
            f"{machine.name}:{name}:{uuid.uuid4()}"
        ),
        account_id=backend.account_id,
        region_name=backend.region_name,
        state_machine=machine,
        start_date=datetime.now(timezone.utc),
        cloud_watch_logging_session=None,
        activity_store={},
        input_data=self._get_param("input", if_none="{}"),
    )
    execution.start()  # moto's SyncExecutionWorker runs the program in this thread
    return ActionResult(execution.to_start_sync_execution_output())


def _stop_execution(self: Any) -> Any:
    from moto.core.responses import ActionResult

    execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
    stopped_at = datetime.now(timezone.utc)
    execution.stop(
        stop_date=stopped_at, error=self._get_param("error"), cause=self._get_param("cause")
    )
    return ActionResult({"stopDate": stopped_at})


def _unqualified_start(original: Callable[..., Any]) -> Callable[..., Any]:
    def start_execution(self: Any, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
        parts = state_machine_arn.split(":")
        if len(parts) == 8:  # ...:stateMachine:NAME:VERSION-or-ALIAS
            state_machine_arn = ":".join(parts[:7])
        return original(self, state_machine_arn, *args, **kwargs)

    return start_execution


@pytest.fixture(autouse=True)
def moto_gaps_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The patches above, for each test of this package only."""
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from moto.stepfunctions.responses import StepFunctionResponse

    monkeypatch.setattr(
        StepFunctionResponse, "start_sync_execution", _start_sync_execution, raising=False
    )
    monkeypatch.setattr(StepFunctionResponse, "stop_execution", _stop_execution)
    monkeypatch.setattr(
        StepFunctionsParserBackend,
        "start_execution",
        _unqualified_start(StepFunctionsParserBackend.start_execution),
    )


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
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore retries throttles at once (its backoff would make throttle tests slow)."""
    from botocore.retries.standard import ExponentialBackoff

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)


# -- state machines -----------------------------------------------------------------------
def pass_machine(result: Any = None, result_path: str | None = "$.result") -> dict[str, Any]:
    """Adds ``result`` under ``result_path`` of the input (``None``: replaces it) and ends."""
    state: dict[str, Any] = {
        "Type": "Pass",
        "Result": result if result is not None else {"greeting": "hello"},
        "End": True,
    }
    if result_path is not None:
        state["ResultPath"] = result_path
    return {"StartAt": "Greet", "States": {"Greet": state}}


def fail_machine(error: str = "Demo.Failure", cause: str = "the job failed") -> dict[str, Any]:
    return {"StartAt": "Fail", "States": {"Fail": {"Type": "Fail", "Error": error, "Cause": cause}}}


def wait_machine(seconds: int) -> dict[str, Any]:
    return {
        "StartAt": "Wait",
        "States": {
            "Wait": {"Type": "Wait", "Seconds": seconds, "Next": "Done"},
            "Done": {"Type": "Pass", "Result": {"waited": seconds}, "End": True},
        },
    }


def choice_machine() -> dict[str, Any]:
    """Succeeds with ``{"size": "big"}`` when ``$.n`` > 2, fails with TooSmall otherwise."""
    return {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericGreaterThan": 2, "Next": "Big"}],
                "Default": "Small",
            },
            "Big": {"Type": "Pass", "Result": {"size": "big"}, "End": True},
            "Small": {"Type": "Fail", "Error": "TooSmall", "Cause": "n must be above 2"},
        },
    }


def timeout_machine() -> dict[str, Any]:
    """Times out after 1 s (a state machine level TimeoutSeconds) in a 30 s Wait."""
    return {
        "StartAt": "Wait",
        "TimeoutSeconds": 1,
        "States": {"Wait": {"Type": "Wait", "Seconds": 30, "End": True}},
    }


@dataclass
class Machines:
    """Creates state machines at the emulator and reads back what happened to them."""

    aws: Any

    def client(self, region: str | None = None) -> Any:
        return self.aws.client("stepfunctions", region)

    def create(
        self,
        name: str,
        definition: dict[str, Any],
        *,
        type: str = "STANDARD",
        region: str | None = None,
        publish: bool = False,
    ) -> dict[str, Any]:
        return dict(
            self.client(region).create_state_machine(
                name=name,
                definition=json.dumps(definition),
                roleArn=ROLE,
                type=type,
                publish=publish,
            )
        )

    def arn(self, name: str, definition: dict[str, Any], **kwargs: Any) -> str:
        return str(self.create(name, definition, **kwargs)["stateMachineArn"])

    def executions(self, arn: str, region: str | None = None) -> list[dict[str, Any]]:
        answer = self.client(region).list_executions(stateMachineArn=arn)
        return list(answer["executions"])

    def describe(self, execution_arn: str, region: str | None = None) -> dict[str, Any]:
        return dict(self.client(region).describe_execution(executionArn=execution_arn))

    def history(self, execution_arn: str, region: str | None = None) -> list[dict[str, Any]]:
        answer = self.client(region).get_execution_history(executionArn=execution_arn)
        return list(answer["events"])


@pytest.fixture
def machines(aws: Any) -> Machines:
    return Machines(aws)


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
