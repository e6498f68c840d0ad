"""Throttles, lost answers and refusals between paradime and SageMaker (through the fault proxy).

The emulator never throttles: the proxy in front of it answers like AWS does. Every start of one
pipeline must carry the same ClientRequestToken, so whatever is retried, at most one execution
exists.
"""

from __future__ import annotations

import re

from paradime.testing import run_cli
from paradime_aws_common.testing import FAKE_SECRET, aws_error, throttle, when

COMMAND = "aws-sagemaker-start-pipeline"
START = "StartPipelineExecution"


def start(*args: str):  # type: ignore[no-untyped-def]
    return run_cli(["run", COMMAND, *args, "--json"])


def tokens(sagemaker, proxy) -> set[str]:  # type: ignore[no-untyped-def]
    """The distinct ClientRequestTokens of the starts the proxy saw."""
    return {body["ClientRequestToken"] for body in sagemaker.sent(proxy, START)}


def test_a_throttled_start_is_retried_with_one_token_and_starts_once(
    aws_faults, sagemaker, pipelines, fast_polling, instant_botocore_retries
):
    pipelines("train")
    # Core alone retries a start (botocore's retries are off for it): five throttles, then
    # the sixth attempt starts the execution.
    aws_faults.add_rule(when(throttle("sagemaker"), action=START, times=5))
    result = start("--pipeline-name", "train")
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {"train": "SUCCEEDED"}
    assert aws_faults.count(START) == 6
    [token] = tokens(sagemaker, aws_faults)
    assert re.fullmatch(r"[a-zA-Z0-9-]{32,128}", token)
    assert len(sagemaker.executions("train")) == 1
    assert "retrying" in result.stderr


def test_starts_whose_answers_were_lost_create_one_execution(
    aws_faults, sagemaker, pipelines, fast_polling, instant_botocore_retries
):
    pipelines("train")
    # Each of these requests reaches SageMaker, and its answer is replaced by a 500: botocore
    # retries four times, then core retries the trigger (safe, thanks to the token).
    aws_faults.add_rule(when(sagemaker.lost_response(), action=START, times=5))
    result = start("--pipeline-name", "train")
    assert result.exit_code == 0, result.stderr
    assert aws_faults.count(START) == 6
    assert len(tokens(sagemaker, aws_faults)) == 1
    [execution] = sagemaker.executions("train")
    assert result.json["results"][0]["run_id"] == execution["PipelineExecutionArn"]


def test_each_pipeline_gets_its_own_token(sagemaker, pipelines, aws_faults, fast_polling):
    pipelines("train", "score")
    result = start("--pipeline-name", "train,score")
    assert result.exit_code == 0, result.stderr
    assert len(tokens(sagemaker, aws_faults)) == 2


def test_a_start_throttled_until_retries_run_out_is_throttled(
    aws_faults, sagemaker, pipelines, fast_polling, instant_botocore_retries
):
    pipelines("train", "score")
    aws_faults.add_rule(
        when(lambda r: throttle("sagemaker") if b'"train"' in r.body else None, action=START)
    )
    result = start("--pipeline-name", "train,score")
    assert result.exit_code == 1
    assert result.statuses == {"train": "THROTTLED", "score": "SUCCEEDED"}
    row = result.json["results"][0]
    assert row["error"] == "pipeline 'train': ThrottlingException: Rate exceeded"
    assert row["run_id"] is None
    train_tokens = {
        b["ClientRequestToken"]
        for b in sagemaker.sent(aws_faults, START)
        if b["PipelineName"] == "train"
    }
    assert len(train_tokens) == 1
    assert sagemaker.executions("train") == []


def test_access_denied_is_final_and_not_retried(aws_faults, sagemaker, pipelines, fast_polling):
    pipelines("train")
    aws_faults.add_rule(
        when(aws_error("AccessDeniedException", "not authorized to StartPipelineExecution"),
             action=START)
    )  # fmt: skip
    result = start("--pipeline-name", "train")
    assert result.exit_code == 1
    assert result.json["results"][0]["status"] == "ERROR"
    assert result.json["results"][0]["error"] == (
        "pipeline 'train': AccessDeniedException: not authorized to StartPipelineExecution"
    )
    assert aws_faults.count(START) == 1


def test_throttled_status_checks_do_not_fail_the_run(
    aws_faults, sagemaker, pipelines, fast_polling, instant_botocore_retries
):
    pipelines("train")
    sagemaker.script("train", "Executing", "Succeeded")
    aws_faults.add_rule(when(throttle("sagemaker"), action="DescribePipelineExecution", times=6))
    result = start("--pipeline-name", "train")
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {"train": "SUCCEEDED"}
    assert "status check failed" in result.stderr or "retrying" in result.stderr


def test_a_failure_whose_steps_cannot_be_read_is_still_failed_with_its_reason(
    aws_faults, sagemaker, pipelines, fast_polling, instant_botocore_retries
):
    pipelines("train")
    sagemaker.script(
        "train",
        "Failed",
        failure_reason="Step failure: One or multiple steps failed.",
        steps=[{"StepName": "Train", "StepStatus": "Failed", "FailureReason": "boom"}],
    )
    aws_faults.add_rule(when(throttle("sagemaker"), action="ListPipelineExecutionSteps"))
    result = start("--pipeline-name", "train")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "FAILED"
    assert row["error"] == (
        "pipeline execution Failed: Step failure: One or multiple steps failed. "
        "(its steps could not be read: ThrottlingException: Rate exceeded)"
    )


def test_a_refused_stop_is_reported_with_the_timeout(
    aws_faults, sagemaker, pipelines, fast_polling
):
    pipelines("train")
    sagemaker.script("train", "Executing")
    aws_faults.add_rule(
        when(aws_error("ValidationException", "Pipeline execution is not running"),
             action="StopPipelineExecution")
    )  # fmt: skip
    result = start("--pipeline-name", "train", "--timeout-minutes", "0.01", "--cancel-on-exit")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "TIMED_OUT"
    assert row["error"] == (
        "still running at the 0.01-minute timeout; the request to stop it failed: "
        "pipeline 'train': ValidationException: Pipeline execution is not running"
    )


def test_the_secret_key_never_appears_even_in_debug_logs(
    aws_faults, sagemaker, pipelines, fast_polling
):
    pipelines("train")
    aws_faults.add_rule(when(throttle("sagemaker"), action=START, times=1))
    result = run_cli(["run", COMMAND, "--pipeline-name", "train,gone", "--log-level", "debug"])
    assert result.exit_code == 1
    assert FAKE_SECRET not in result.stdout + result.stderr


def test_a_start_whose_answers_are_all_lost_keeps_its_token_in_the_row(
    aws_faults, sagemaker, pipelines, fast_polling, instant_botocore_retries
):
    """Every start reaches SageMaker and every answer is lost: the execution exists, its ARN is
    unknown, and the row names the ClientRequestToken it was started with (before: nothing to
    find it by)."""
    pipelines("train")
    aws_faults.add_rule(when(sagemaker.lost_response(), action=START))
    result = start("--pipeline-name", "train", "--timeout-minutes", "0.05")
    assert result.exit_code == 1
    [row] = result.json["results"]
    assert row["status"] == "ERROR"
    [token] = tokens(sagemaker, aws_faults)
    assert row["client_request_token"] == token
    assert len(sagemaker.executions("train")) == 1
