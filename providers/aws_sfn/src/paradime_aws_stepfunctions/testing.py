"""The Step Functions emulator for tests: moto's server (really interpreting ASL), gaps closed.

For this package's tests and for tests that cross packages (import the fixtures
``sfn_emulator`` and ``machines`` into a ``conftest.py``). Imported only by tests: it needs
pytest and moto (``paradime-aws-common[testing]``).

moto 5.2.5 runs in the test process (a thread of it), so the gaps that matter are closed by small
patches of its classes, each naming the gap, applied by the fixture ``sfn_emulator`` and undone
after the test:

* ``StartSyncExecution`` is not implemented (HTTP 500): :func:`_start_sync_execution` runs the
  EXPRESS machine to its end with moto's own synchronous interpreter and answers as AWS does.
* ``StopExecution`` drops the request's ``error`` and ``cause`` (the history records empty
  strings): :func:`_stop_execution` passes them to the execution, as AWS records them.
* ``StartExecution`` with a version or alias ARN fails (HTTP 500 or StateMachineDoesNotExist):
  :func:`_unqualified_start` starts the machine the qualifier belongs to.

Opt-in (fixture ``express_arns``): moto names an EXPRESS machine's executions like STANDARD ones
(``...:execution:...``); AWS names them ``...:express:...``, and cannot describe them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest

ROLE = "arn:aws:iam::123456789012:role/paradime-test"


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


def _express_arn_start(original: Callable[..., Any]) -> Callable[..., Any]:
    def start_execution(self: Any) -> Any:
        from moto.core.responses import ActionResult

        answer = dict(original(self).result)
        arn = str(answer["executionArn"])
        for machine in self.stepfunction_backend.state_machines:
            found = next((e for e in machine.executions if e.execution_arn == arn), None)
            if found is not None and machine.type == "EXPRESS":
                # arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME, as AWS names EXPRESS ones
                head, _, tail = arn.partition(":execution:")
                answer["executionArn"] = f"{head}:express:{tail}:{uuid.uuid4()}"
        return ActionResult(answer)

    return start_execution


@pytest.fixture
def express_arns(sfn_emulator: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """StartExecution of an EXPRESS machine answers an ``...:express:...`` ARN, as AWS does."""
    from moto.stepfunctions.responses import StepFunctionResponse

    monkeypatch.setattr(
        StepFunctionResponse,
        "start_execution",
        _express_arn_start(StepFunctionResponse.start_execution),
    )


@pytest.fixture
def sfn_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's Step Functions with the gaps above closed, for one test."""
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
