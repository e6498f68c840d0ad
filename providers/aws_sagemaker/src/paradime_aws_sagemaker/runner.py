"""Starting, tracking and stopping SageMaker pipeline executions, and listing pipelines.

Imported only when a command runs (it builds a boto3 session).

* trigger: ``StartPipelineExecution`` with a ``ClientRequestToken`` made once per target, so
  botocore's retries and core's retries of a throttled or failed start all carry the same token
  and SageMaker starts at most one execution;
* poll: ``DescribePipelineExecution``; on failure, every page of ``ListPipelineExecutionSteps``
  to name the failed step and its reason; while executing, now and then one page of it to name
  the running step;
* cancel: ``StopPipelineExecution``, then one ``DescribePipelineExecution`` to report where the
  execution stands (``Stopping`` or ``Stopped``): core gives the request its grace period, the
  runner never sleeps.
* under an idempotency key the token is derived from the key and the pipeline
  (:func:`paradime.api.idempotency_token`), so SageMaker answers a repeat with the execution it
  made for the first: the trigger then describes it (an ended one is reported at once, one
  created before this attempt's start is "attached"), and compares the parameters this attempt
  gives with the execution's (``ListPipelineParametersForExecution``): another value is a usage
  error.
"""

from __future__ import annotations

import email.utils
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from paradime.api import (
    Lister,
    Page,
    Prepared,
    RunContext,
    RunError,
    Runner,
    RunState,
    RunStatus,
    UsageError,
    idempotency_token,
)
from paradime_aws_common.errors import (
    AWS_ERRORS,
    CLOCK_SKEW,
    DENIED_CODES,
    describe,
    error_code,
    to_run_error,
)
from paradime_aws_common.session import AwsSession, console_url
from paradime_aws_sagemaker.inputs import (
    ParametersFile,
    PipelineRef,
    check_parameter_count,
    pipeline_ref,
)

# Naming the running step costs a ListPipelineExecutionSteps call: at most this often per run.
STEP_CHECK_INTERVAL_S = 60.0
# ListPipelineExecutionSteps pages read for a failed execution, at most (100 steps a page).
MAX_STEP_PAGES = 50
PAGE_SIZE = 100

_NOT_FOUND = re.compile(r"could not find|does not exist|not found", re.IGNORECASE)
# SageMaker's ClientRequestToken: 32 to 128 characters.
TOKEN_MIN, TOKEN_MAX = 32, 128
# An execution created more than this before our first start reached SageMaker (both on its
# clock: the execution's CreationTime, the answer's Date less the time since) is an earlier
# attempt's: the Date header counts whole seconds.
ATTACH_MARGIN = timedelta(seconds=1)
# The boto3 client name of SageMaker.
BOTO_CLIENT = "sagemaker"
# DescribePipelineExecution's PipelineExecutionStatus: the values its API reference lists, and
# CompletedWithFailures, which earlier versions met and read as a failure. A status missing here
# is followed as RUNNING, its name in the progress line, until it ends or the deadline does
# (docs/decisions.md).
STATUSES = {
    "Executing": RunStatus.RUNNING,
    "Stopping": RunStatus.RUNNING,
    "Stopped": RunStatus.STOPPED,
    "Failed": RunStatus.FAILED,
    "CompletedWithFailures": RunStatus.FAILED,
    "Succeeded": RunStatus.SUCCEEDED,
}


@dataclass(frozen=True)
class _Start:
    """What a start needs, from ``prepare`` (``Prepared.data``)."""

    ref: PipelineRef
    region: str
    request: dict[str, Any]
    parameters: dict[str, str]


@dataclass(frozen=True)
class ExecutionHandle:
    """What a poll or a stop needs: the execution, where it runs, when steps were last read."""

    execution_arn: str
    region: str
    pipeline: str
    steps_checked_at: float | None = None


def execution_console_url(region: str, pipeline: str, execution_arn: str) -> str | None:
    execution_id = execution_arn.rsplit("/", 1)[-1]
    return console_url(region, "sagemaker", f"#/pipelines/{pipeline}/executions/{execution_id}")


class PipelineRunner(Runner):
    """``aws-sagemaker-start-pipeline``: one execution per pipeline."""

    def __init__(self, params: Mapping[str, Any], context: RunContext) -> None:
        self.cli_parameters: dict[str, str] = dict(params.get("parameter") or {})
        self.parameters_file: ParametersFile = params.get("parameters_file") or ParametersFile()
        check_parameter_count(self.cli_parameters, self.parameters_file)
        self.display_name: str | None = params.get("display_name")
        self.description: str | None = params.get("description")
        self.logger = context.logger
        self.session = AwsSession(params, context)
        self.key = context.idempotency_key
        self._tokens: dict[str, str] = {}
        self._first_sent: dict[str, float] = {}  # per target: monotonic, at the first start
        self._lock = threading.Lock()
        self._parameters_unchecked = False

    def _client(self, region: str) -> Any:
        return self.session.client(BOTO_CLIENT, region)

    def request_token(self, target: str) -> str:
        """The target's ClientRequestToken: made at its first start attempt, reused after; under
        an idempotency key, the key's token for the pipeline (its region and name)."""
        with self._lock:
            known = self._tokens.get(target)
            if known is None:
                known = str(uuid.uuid4())
                if self.key is not None:
                    ref = pipeline_ref(target)
                    region = ref.region or self.session.region
                    known = idempotency_token(
                        self.key,
                        f"{region}/{ref.name}",
                        max_length=TOKEN_MAX,
                        min_length=TOKEN_MIN,
                        label=ref.name,
                    )
                self._tokens[target] = known
                self._first_sent[target] = time.monotonic()
            return known

    def parameters_for(self, ref: PipelineRef) -> dict[str, str]:
        return {**self.parameters_file.for_pipeline(ref), **self.cli_parameters}

    # -- trigger ------------------------------------------------------------------------
    def prepare(self, target: str) -> Prepared:
        """The start's request, with the client token chosen once: every attempt sends it, so
        SageMaker never makes a second execution, and the row keeps it whatever happens."""
        ref = pipeline_ref(target)
        region = ref.region or self.session.region
        request: dict[str, Any] = {
            # SageMaker takes the name or the ARN here; the ARN pins the account.
            "PipelineName": ref.given,
            "ClientRequestToken": self.request_token(target),
        }
        parameters = self.parameters_for(ref)
        if parameters:
            request["PipelineParameters"] = [
                {"Name": name, "Value": value} for name, value in parameters.items()
            ]
        if self.display_name:
            request["PipelineExecutionDisplayName"] = self.display_name
        if self.description:
            request["PipelineExecutionDescription"] = self.description
        details = {"pipeline": ref.name, "region": region}
        return Prepared(
            details={**details, "client_request_token": request["ClientRequestToken"]},
            data=_Start(ref, region, request, parameters),
        )

    def start(self, target: str, prepared: Prepared) -> RunState:
        start: _Start = prepared.data
        ref, region, request, parameters = start.ref, start.region, start.request, start.parameters
        # Core decides every retry of a start: botocore's own would outlive a stop.
        client = self.session.client(BOTO_CLIENT, region, max_attempts=1)
        try:
            response = client.start_pipeline_execution(**request)
        except AWS_ERRORS as exc:
            raise _start_error(exc, ref, region, request["ClientRequestToken"]) from None
        execution_arn = str(response["PipelineExecutionArn"])
        state = RunState(
            RunStatus.RUNNING,
            run_id=execution_arn,
            console_url=execution_console_url(region, ref.name, execution_arn),
            handle=ExecutionHandle(execution_arn, region, ref.name),
            details={"pipeline": ref.name, "region": region},
        )
        if self.key is None:
            return state
        state.details["client_request_token"] = request["ClientRequestToken"]
        with self._lock:
            since_first = time.monotonic() - self._first_sent[target]
        # When our first start reached SageMaker, on SageMaker's own clock (its answer's Date
        # less the time since): the local clock's offset never enters the comparison.
        answered = _server_date(response)
        first_at = answered - timedelta(seconds=since_first) if answered else None
        return self._keyed(target, state, parameters, first_at)

    # -- the idempotency key ------------------------------------------------------------
    def _keyed(
        self,
        target: str,
        state: RunState,
        parameters: Mapping[str, str],
        first_at: datetime | None,
    ) -> RunState:
        """The execution SageMaker answered for the key's token, which an earlier attempt may
        have made: its parameters must be this attempt's, and an ended one is reported now."""
        handle: ExecutionHandle = state.handle
        client = self._client(handle.region)
        self._check_parameters(client, handle, parameters)
        execution = self._describe(client, handle)
        created = execution.get("CreationTime")
        # Made before our first start reached SageMaker (less the Date header's one-second
        # resolution): an earlier attempt's. Without a Date, the local clock, less its skew.
        margin = ATTACH_MARGIN if first_at is not None else CLOCK_SKEW
        first_at = first_at or datetime.now(timezone.utc)
        if isinstance(created, datetime) and created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
        state.attached = isinstance(created, datetime) and created < first_at - margin
        when = _iso(created) or "an unknown time"
        found = self._from_execution(client, handle, execution)
        if found.status is RunStatus.RUNNING:
            if state.attached:
                state.message = (
                    f"attached to execution {handle.execution_arn.rsplit('/', 1)[-1]}, created "
                    f"{when} by an earlier attempt under the idempotency key"
                )
            return state
        found.run_id, found.console_url, found.handle = state.run_id, state.console_url, handle
        found.details = {**state.details, **found.details}
        found.attached = state.attached
        if state.attached:
            found.message = (
                f"execution {handle.execution_arn.rsplit('/', 1)[-1]} (created {when}) had ended "
                f"({execution.get('PipelineExecutionStatus')}) before this attempt: reported, not "
                "started again (a new key starts a new execution)"
            )
        return found

    def _check_parameters(
        self, client: Any, handle: ExecutionHandle, parameters: Mapping[str, str]
    ) -> None:
        """A parameter this attempt gives with another value in the execution is a usage error.
        SageMaker's list does not say which parameters were given and which are defaults, so a
        parameter only the earlier attempt gave cannot be told apart and is not compared."""
        if not parameters:
            return
        try:
            found = {
                str(p.get("Name")): str(p.get("Value"))
                for p in self._all_parameters(client, handle.execution_arn)
            }
        except AWS_ERRORS as exc:
            if error_code(exc) not in DENIED_CODES:
                raise to_run_error(
                    exc, subject=f"pipeline '{handle.pipeline}'", run_id=handle.execution_arn
                ) from None
            with self._lock:
                first, self._parameters_unchecked = not self._parameters_unchecked, True
            if first:
                self.logger.warning(
                    f"ListPipelineParametersForExecution is not allowed ({error_code(exc)}): an "
                    "execution found under the idempotency key is not compared with this "
                    "attempt's parameters"
                )
            return
        changed = sorted(n for n, v in parameters.items() if n in found and found[n] != v)
        if changed:
            raise UsageError(
                f"idempotency key '{self.key}' already started execution {handle.execution_arn} "
                f"with other values of {', '.join(changed)}; a new key starts a new execution"
            )

    def _all_parameters(self, client: Any, execution_arn: str) -> Iterator[Mapping[str, Any]]:
        token: str | None = None
        for _ in range(MAX_STEP_PAGES):
            request: dict[str, Any] = {"PipelineExecutionArn": execution_arn, "MaxResults": 100}
            if token:
                request["NextToken"] = token
            page = client.list_pipeline_parameters_for_execution(**request)
            yield from page.get("PipelineParameters", [])
            token = page.get("NextToken")
            if not token:
                return

    # -- poll ---------------------------------------------------------------------------
    def poll(self, target: str, state: RunState) -> RunState:
        handle: ExecutionHandle = state.handle
        client = self._client(handle.region)
        return self._from_execution(client, handle, self._describe(client, handle))

    def _from_execution(
        self, client: Any, handle: ExecutionHandle, execution: Mapping[str, Any]
    ) -> RunState:
        """The run's state from a DescribePipelineExecution answer."""
        status = str(execution.get("PipelineExecutionStatus") or "")
        details: dict[str, Any] = {"sagemaker_status": status}
        known = STATUSES.get(status)
        if known is None:
            return RunState(
                RunStatus.RUNNING,
                message=f"status {status!r} unknown to paradime: checked again until it ends",
                details=details,
            )
        if known is RunStatus.FAILED:
            return self._failed(client, handle, status, execution, details)
        if known is RunStatus.STOPPED:
            reason = execution.get("FailureReason")
            error = "the pipeline execution was stopped" + (f": {reason}" if reason else "")
            return RunState(RunStatus.STOPPED, error=error, details=details)
        if status == "Executing":
            return self._executing(client, handle, details)
        if status == "Stopping":
            return RunState(RunStatus.RUNNING, message="stopping", details=details)
        return RunState(known, details=details)

    def _describe(self, client: Any, handle: ExecutionHandle) -> dict[str, Any]:
        try:
            return dict(
                client.describe_pipeline_execution(PipelineExecutionArn=handle.execution_arn)
            )
        except AWS_ERRORS as exc:
            error = to_run_error(
                exc, subject=f"pipeline '{handle.pipeline}'", run_id=handle.execution_arn
            )
            # Right after the start, a read may not know the execution yet: core asks again.
            error.not_found = error_code(exc) == "ResourceNotFound"
            raise error from None

    def _executing(self, client: Any, handle: ExecutionHandle, details: dict[str, Any]) -> RunState:
        now = time.monotonic()
        checked = handle.steps_checked_at
        if checked is not None and now - checked < STEP_CHECK_INTERVAL_S:
            return RunState(RunStatus.RUNNING, details=details)
        message = "executing"
        try:
            # Newest steps first: the running ones are on the first page.
            page = client.list_pipeline_execution_steps(
                PipelineExecutionArn=handle.execution_arn,
                SortOrder="Descending",
                MaxResults=PAGE_SIZE,
            )
            running = [
                str(step.get("StepName"))
                for step in page.get("PipelineExecutionSteps", [])
                if step.get("StepStatus") in ("Starting", "Executing")
            ]
            if running:
                noun = "step" if len(running) == 1 else "steps"
                message = f"executing {noun} {', '.join(reversed(running))}"
        except AWS_ERRORS as exc:  # the step name is a courtesy; never fail a poll for it
            self.logger.debug(
                "could not read the running step", pipeline=handle.pipeline, error=describe(exc)
            )
        return RunState(
            RunStatus.RUNNING,
            message=message,
            handle=replace(handle, steps_checked_at=now),
            details=details,
        )

    def _failed(
        self,
        client: Any,
        handle: ExecutionHandle,
        status: str,
        execution: Mapping[str, Any],
        details: dict[str, Any],
    ) -> RunState:
        reason = execution.get("FailureReason")
        error = f"pipeline execution {status}" + (f": {reason}" if reason else "")
        try:
            failed = [
                {"name": str(step.get("StepName")), "reason": step.get("FailureReason")}
                for step in self._all_steps(client, handle.execution_arn)
                if step.get("StepStatus") == "Failed"
            ]
        except AWS_ERRORS as exc:
            # The execution's own reason is known: report FAILED, say what is missing.
            error += f" (its steps could not be read: {describe(exc)})"
            return RunState(RunStatus.FAILED, error=error, details=details)
        details["failed_steps"] = failed
        if failed:
            noun = "failed step" if len(failed) == 1 else "failed steps"
            steps = "; ".join(
                f"'{step['name']}'" + (f": {step['reason']}" if step["reason"] else "")
                for step in failed
            )
            error += f"; {noun} {steps}"
        return RunState(RunStatus.FAILED, error=error, details=details)

    def _all_steps(self, client: Any, execution_arn: str) -> Iterator[Mapping[str, Any]]:
        token: str | None = None
        for _ in range(MAX_STEP_PAGES):
            request: dict[str, Any] = {
                "PipelineExecutionArn": execution_arn,
                "SortOrder": "Ascending",
                "MaxResults": PAGE_SIZE,
            }
            if token:
                request["NextToken"] = token
            page = client.list_pipeline_execution_steps(**request)
            yield from page.get("PipelineExecutionSteps", [])
            next_token = page.get("NextToken")
            if not next_token or next_token == token:
                return
            token = next_token

    # -- cancel -------------------------------------------------------------------------
    def cancel(self, target: str, state: RunState, reason: str) -> RunState:
        handle: ExecutionHandle = state.handle
        client = self._client(handle.region)
        try:
            client.stop_pipeline_execution(
                PipelineExecutionArn=handle.execution_arn, ClientRequestToken=str(uuid.uuid4())
            )
        except AWS_ERRORS as exc:
            raise to_run_error(
                exc, subject=f"pipeline '{handle.pipeline}'", run_id=handle.execution_arn
            ) from None
        try:
            execution = self._describe(client, handle)
        except RunError as exc:
            return RunState(RunStatus.RUNNING, error=f"status unknown: {exc.message}")
        status = str(execution.get("PipelineExecutionStatus") or "unknown")
        remote = STATUSES.get(status, RunStatus.RUNNING)
        return RunState(remote, error=f"SageMaker status {status}")

    def close(self) -> None:
        self._tokens.clear()


def _start_error(exc: BaseException, ref: PipelineRef, region: str, token: str) -> RunError:
    """A failed StartPipelineExecution as the user should read it.

    The request carries a ClientRequestToken, so repeating it cannot start a second execution:
    5xx answers and network faults are retryable like throttles. Such a fault may have started
    the execution, whose ARN is then unknown: the token goes in the row, should no retry come.
    """
    error = to_run_error(exc, subject=f"pipeline '{ref.name}'", idempotent=True)
    if error.retryable and error.status is RunStatus.ERROR:
        error.details["client_request_token"] = token
    code = error_code(exc)
    message = describe(exc)
    # AWS answers ResourceNotFound; some emulators a ValidationException saying the same.
    if code == "ResourceNotFound" or (
        code == "ValidationException"
        and "pipeline" in message.lower()
        and _NOT_FOUND.search(message)
    ):
        where = "" if ref.arn else f" in {region}"
        error.message = f"pipeline '{ref.given}' not found{where} ({message})"
        error.retryable = False
        error.status = RunStatus.ERROR
    return error


class PipelineLister(Lister):
    """``aws-sagemaker-list-pipelines``: every page of ListPipelines, sorted by name."""

    def __init__(self, params: Mapping[str, Any], context: RunContext) -> None:
        self.session = AwsSession(params, context)

    def page(self, token: Any) -> Page:
        """One ListPipelines page, by name (core reads them all, and sorts the rows by name)."""
        request: dict[str, Any] = {"SortBy": "Name", "SortOrder": "Ascending"}
        request["MaxResults"] = PAGE_SIZE
        if token:
            request["NextToken"] = token
        try:
            page = self.session.client(BOTO_CLIENT).list_pipelines(**request)
        except AWS_ERRORS as exc:
            raise to_run_error(exc, subject=f"ListPipelines in {self.session.region}") from None
        rows = [
            {
                "name": summary.get("PipelineName"),
                "arn": summary.get("PipelineArn"),
                "created": _iso(summary.get("CreationTime")),
                "last_modified": _iso(summary.get("LastModifiedTime")),
                "last_execution": _iso(summary.get("LastExecutionTime")),
            }
            for summary in page.get("PipelineSummaries", [])
        ]
        return Page(rows, next=page.get("NextToken") or None)


def _server_date(response: Mapping[str, Any]) -> datetime | None:
    """The ``Date`` header of a boto3 answer (SageMaker's clock), or ``None``."""
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    try:
        date = email.utils.parsedate_to_datetime(str(headers["date"]))
    except (KeyError, TypeError, ValueError):
        return None
    return date if date.tzinfo else date.replace(tzinfo=timezone.utc)  # "-0000": UTC


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return None if value is None else str(value)
