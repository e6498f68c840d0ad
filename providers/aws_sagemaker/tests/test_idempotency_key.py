"""--idempotency-key on SageMaker: the ClientRequestToken comes from the key and the pipeline, so
SageMaker answers a repeat with the execution it made first; that execution is attached to while
it runs and reported once it has ended, and a parameter given with another value exits 2."""

from __future__ import annotations

from datetime import timedelta

from paradime.api import idempotency_token
from paradime.testing import run_cli
from paradime_aws_common.testing import IamPolicy
from paradime_aws_sagemaker.runner import ATTACH_MARGIN

COMMAND = "aws-sagemaker-start-pipeline"
START = "StartPipelineExecution"
KEY = "scheduled__2026-06-01T02:00:00+00:00"


def start(*args: str, env: dict[str, str | None] | None = None):  # type: ignore[no-untyped-def]
    return run_cli(["run", COMMAND, *args, "--json"], env=env)


def past_the_skew_margin(sagemaker) -> None:  # type: ignore[no-untyped-def]
    """A retry comes a few seconds after the first attempt's start (within the margin of the
    Date header's whole seconds, it would read as this attempt's own start: the outcome is
    the same, the word "attached" is not)."""
    sagemaker.age(ATTACH_MARGIN + timedelta(seconds=2))


def test_the_token_is_the_keys_for_the_pipeline_and_a_retry_attaches_to_its_execution(
    sagemaker, pipelines, aws_faults, fast_polling
):
    pipelines("train")
    sagemaker.script("train", "Executing", "Executing", "Executing", "Succeeded")
    first = start("--pipeline-name", "train", "--idempotency-key", KEY, "--no-wait-for-completion")
    assert first.exit_code == 0, first.stderr
    token = idempotency_token(KEY, "us-east-1/train", max_length=128, min_length=32, label="train")
    assert [b["ClientRequestToken"] for b in sagemaker.sent(aws_faults, START)] == [token]
    past_the_skew_margin(sagemaker)
    retry = start("--pipeline-name", "train", env={"PARADIME_IDEMPOTENCY_KEY": KEY})
    assert retry.exit_code == 0, retry.stderr
    [execution] = sagemaker.executions("train")
    [row] = retry.json["results"]
    assert (row["status"], row["run_id"], row["attached"]) == (
        "SUCCEEDED",
        execution["PipelineExecutionArn"],
        True,
    )
    assert row["client_request_token"] == token
    assert "by an earlier attempt under the idempotency key" in retry.stderr


def test_a_rerun_after_success_reports_it_with_the_same_run_id(sagemaker, pipelines, fast_polling):
    pipelines("train")
    args = ("--pipeline-name", "train", "--idempotency-key", KEY)
    first = start(*args)
    assert first.exit_code == 0, first.stderr
    past_the_skew_margin(sagemaker)
    again = start(*args)
    assert again.exit_code == 0, again.stderr
    [row] = again.json["results"]
    assert (row["status"], row["run_id"], row["attached"]) == (
        "SUCCEEDED",
        first.json["results"][0]["run_id"],
        True,
    )
    assert "had ended (Succeeded) before this attempt" in again.stderr
    assert len(sagemaker.executions("train")) == 1


def test_a_parameter_with_another_value_under_the_same_key_exits_2(
    sagemaker, pipelines, fast_polling
):
    pipelines("train")
    common = ("--pipeline-name", "train", "--idempotency-key", KEY)
    assert start(*common, "--parameter", "Epochs=3").exit_code == 0
    [execution] = sagemaker.executions("train")
    changed = start(*common, "--parameter", "Epochs=5")
    assert changed.exit_code == 2
    [row] = changed.json["results"]
    assert (row["status"], row["error"]) == (
        "ERROR",
        f"idempotency key '{KEY}' already started execution {execution['PipelineExecutionArn']} "
        "with other values of Epochs; a new key starts a new execution",
    )
    assert len(sagemaker.executions("train")) == 1
    assert sagemaker.parameters(execution["PipelineExecutionArn"]) == {"Epochs": "3"}


def test_a_new_key_starts_a_new_execution(sagemaker, pipelines, fast_polling):
    pipelines("train")
    assert start("--pipeline-name", "train", "--idempotency-key", KEY).exit_code == 0
    other = start("--pipeline-name", "train", "--idempotency-key", f"{KEY}-again")
    assert other.exit_code == 0, other.stderr
    assert other.json["results"][0]["attached"] is False
    assert len(sagemaker.executions("train")) == 2


def test_with_only_the_documented_actions_the_run_goes_on_with_one_warning(
    sagemaker, pipelines, aws_faults, fast_polling
):
    pipelines("train", "score")
    policy = aws_faults.add_rule(
        IamPolicy(
            "sagemaker:StartPipelineExecution",
            "sagemaker:DescribePipelineExecution",
            "sagemaker:ListPipelines",
        )
    )
    result = start("--pipeline-name", "train,score", "--parameter", "Epochs=3",
                   "--idempotency-key", KEY)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("ListPipelineParametersForExecution is not allowed") == 1
    assert set(policy.denied) == {"sagemaker:ListPipelineParametersForExecution"}


def test_an_execution_made_seconds_before_is_an_earlier_attempts_and_ours_is_not(
    sagemaker, pipelines, fast_polling
):
    """Judged on SageMaker's clock (the execution's CreationTime against the start answer's
    Date): the first run's own execution is not attached; a rerun a few seconds later is
    (before: a rerun within 5 minutes read as the rerun's own start)."""
    pipelines("train")
    args = ("--pipeline-name", "train", "--idempotency-key", KEY)
    first = start(*args)
    assert first.exit_code == 0 and first.json["results"][0]["attached"] is False
    past_the_skew_margin(sagemaker)
    again = start(*args)
    assert again.exit_code == 0, again.stderr
    assert again.json["results"][0]["attached"] is True
    assert len(sagemaker.executions("train")) == 1
