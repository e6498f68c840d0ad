"""The SageMaker emulator for tests: moto's gaps closed, executions scripted.

For this package's tests and for tests that cross packages (import the fixtures ``sagemaker``
and ``pipelines`` into a ``conftest.py``). Imported only by tests: it needs pytest and moto
(``paradime-aws-common[testing]``).

moto 5.2.5 (server mode, running in this process) has SageMaker Pipelines gaps that the fixture
``sagemaker`` closes with small patches of its backend, undone after each test:

* every execution is ``Succeeded`` at once: a test scripts, per pipeline, the statuses that
  successive ``DescribePipelineExecution`` calls return (``Executing``, then ``Failed``...);
* ``DescribePipelineExecution`` never returns ``FailureReason``: the script's reason is added;
* ``StopPipelineExecution`` and ``ListPipelineExecutionSteps`` answer HTTP 500 (not
  implemented): both are added; a stop is recorded and moves the execution to ``Stopping``
  then ``Stopped``; steps come from the script, in pages;
* ``StartPipelineExecution`` ignores ``ClientRequestToken`` and does not accept a pipeline ARN
  as ``PipelineName``: both work as AWS documents them (same token, same execution).

Everything else (pipelines, parameters, listing, a missing pipeline's error) is moto's own.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from paradime.testing.proxy import Lost, Reply

ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/pipeline-role"
PIPELINE_DEFINITION = json.dumps(
    {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": [
            {"Name": "InputDataUrl", "Type": "String", "DefaultValue": "s3://demo/input"},
            {"Name": "Epochs", "Type": "Integer", "DefaultValue": 1},
        ],
        "Steps": [{"Name": "Prepare", "Type": "Processing", "Arguments": {}}],
    }
)


@dataclass
class ExecutionScript:
    """How the executions of one pipeline behave.

    :param statuses: what successive DescribePipelineExecution calls return; the last repeats.
    :param failure_reason: the execution's FailureReason.
    :param steps: ListPipelineExecutionSteps entries, oldest first.
    :param step_page_size: at most this many steps a page (AWS may send fewer than asked).
    :param after_stop: the statuses after a StopPipelineExecution; the last repeats.
    """

    statuses: list[str]
    failure_reason: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    step_page_size: int = 100
    after_stop: list[str] = field(default_factory=lambda: ["Stopping", "Stopped"])


@dataclass
class SageMakerEmulator:
    """The test's handle on the patched SageMaker backend."""

    client: Any
    url: str
    scripts: dict[str, ExecutionScript] = field(default_factory=dict)
    stops: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    made: list[Any] = field(default_factory=list)  # the executions started, oldest first

    def age(self, by: timedelta) -> None:
        """Move the creation time of every execution started so far ``by`` into the past: a
        later attempt then meets an execution an earlier attempt made long before it."""
        for execution in self.made:
            execution.creation_time -= by

    def create_pipeline(self, name: str, client: Any = None) -> str:
        response = (client or self.client).create_pipeline(
            PipelineName=name,
            PipelineDefinition=PIPELINE_DEFINITION,
            RoleArn=ROLE_ARN,
            ClientRequestToken=f"create-{name}".ljust(32, "0"),
        )
        return str(response["PipelineArn"])

    def script(self, pipeline: str, *statuses: str, **options: Any) -> ExecutionScript:
        script = ExecutionScript(list(statuses), **options)
        self.scripts[pipeline] = script
        return script

    def executions(self, pipeline: str, client: Any = None) -> list[dict[str, Any]]:
        response = (client or self.client).list_pipeline_executions(PipelineName=pipeline)
        return list(response["PipelineExecutionSummaries"])

    def parameters(self, execution_arn: str) -> dict[str, str]:
        response = self.client.list_pipeline_parameters_for_execution(
            PipelineExecutionArn=execution_arn
        )
        return {p["Name"]: p["Value"] for p in response["PipelineParameters"]}

    def lost_response(self) -> Lost:
        """A proxy outcome: the request reaches the emulator, and the client gets a 500 instead
        of its answer (as when an answer is lost on the way back)."""
        body = json.dumps({"__type": "InternalFailure", "message": "answer lost"}).encode()
        return Lost(Reply(500, body, {"Content-Type": "application/x-amz-json-1.1"}))

    @staticmethod
    def sent(proxy: Any, action: str) -> list[dict[str, Any]]:
        """The JSON bodies of the requests of ``action`` the proxy saw, in order."""
        return [json.loads(r.body or b"{}") for r in proxy.requests if r.action == action]


def _pipeline_name(value: str) -> str:
    # AWS takes a pipeline's name or its ARN (arn:...:pipeline/NAME) as PipelineName.
    return value.split(":pipeline/", 1)[1] if value.startswith("arn:") else value


@pytest.fixture
def sagemaker(aws: Any, monkeypatch: pytest.MonkeyPatch) -> SageMakerEmulator:
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse
    from moto.sagemaker.utils import get_pipeline_execution_from_arn

    emulator = SageMakerEmulator(aws.client("sagemaker"), aws.url)
    start = SageMakerModelBackend.start_pipeline_execution
    describe = SageMakerModelBackend.describe_pipeline_execution

    def start_pipeline_execution(self: Any, pipeline_name: str, *args: Any) -> dict[str, str]:
        name = _pipeline_name(pipeline_name)
        token = args[-1]
        pipeline = self.pipelines.get(name)
        if pipeline is not None and token:
            for arn, execution in pipeline.pipeline_executions.items():
                if execution.client_request_token == token:
                    return {"PipelineExecutionArn": arn}
        response: dict[str, str] = start(self, name, *args)
        execution = pipeline.pipeline_executions[response["PipelineExecutionArn"]]
        emulator.made.append(execution)
        script = emulator.scripts.get(name)
        execution.script = script
        execution.script_statuses = list(script.statuses) if script else []
        if script:
            execution.pipeline_execution_status = script.statuses[0]
            execution.pipeline_execution_failure_reason = script.failure_reason
        return response

    def describe_pipeline_execution(self: Any, pipeline_execution_arn: str) -> dict[str, Any]:
        execution = get_pipeline_execution_from_arn(self.pipelines, pipeline_execution_arn)
        with emulator.lock:
            statuses = getattr(execution, "script_statuses", [])
            if statuses:
                execution.pipeline_execution_status = (
                    statuses.pop(0) if len(statuses) > 1 else statuses[0]
                )
        response: dict[str, Any] = describe(self, pipeline_execution_arn)
        if execution.pipeline_execution_failure_reason:
            response["FailureReason"] = execution.pipeline_execution_failure_reason
        return response

    def stop_pipeline_execution(self: Any) -> Any:
        from moto.core.responses import ActionResult

        arn = self._get_param("PipelineExecutionArn")
        execution: Any = get_pipeline_execution_from_arn(self.sagemaker_backend.pipelines, arn)
        with emulator.lock:
            emulator.stops.append({"arn": arn, "token": self._get_param("ClientRequestToken")})
            script = getattr(execution, "script", None)
            execution.script_statuses = list(script.after_stop if script else ["Stopped"])
            execution.pipeline_execution_status = execution.script_statuses[0]
        return ActionResult({"PipelineExecutionArn": arn})

    def list_pipeline_execution_steps(self: Any) -> Any:
        from moto.core.responses import ActionResult

        arn = self._get_param("PipelineExecutionArn")
        execution = get_pipeline_execution_from_arn(self.sagemaker_backend.pipelines, arn)
        script = getattr(execution, "script", None)
        steps = list(script.steps) if script else []
        if self._get_param("SortOrder", "Descending") == "Descending":
            steps.reverse()
        try:
            start_at = int(self._get_param("NextToken") or 0)
        except ValueError:
            raise ValidationError("Invalid pagination token") from None
        size = min(self._get_param("MaxResults") or 100, script.step_page_size if script else 100)
        page = steps[start_at : start_at + size]
        more = start_at + size < len(steps)
        result: dict[str, Any] = {"PipelineExecutionSteps": page}
        if more:
            result["NextToken"] = str(start_at + size)
        return ActionResult(result)

    monkeypatch.setattr(SageMakerModelBackend, "start_pipeline_execution", start_pipeline_execution)
    monkeypatch.setattr(
        SageMakerModelBackend, "describe_pipeline_execution", describe_pipeline_execution
    )
    monkeypatch.setattr(
        SageMakerResponse, "stop_pipeline_execution", stop_pipeline_execution, raising=False
    )
    monkeypatch.setattr(
        SageMakerResponse,
        "list_pipeline_execution_steps",
        list_pipeline_execution_steps,
        raising=False,
    )
    return emulator


@pytest.fixture
def pipelines(sagemaker: SageMakerEmulator) -> Iterator[Callable[..., list[str]]]:
    """Create pipelines by name: ``pipelines("a", "b")`` returns their ARNs."""

    def create(*names: str) -> list[str]:
        return [sagemaker.create_pipeline(name) for name in names]

    yield create
