"""A PipelineExecutionStatus the API reference does not list yet: the execution is followed as
RUNNING, the status named in its progress line, until it reaches one paradime knows; a stop's
answer reads statuses from the same table."""

from __future__ import annotations

from paradime.testing import run_cli


def test_an_unknown_execution_status_is_followed_until_a_known_end(
    sagemaker, pipelines, fast_polling
):
    pipelines("train")
    sagemaker.script("train", "Executing", "Paused", "Paused", "Succeeded")
    result = run_cli(["run", "aws-sagemaker-start-pipeline", "--pipeline-name", "train", "--json"])
    assert result.exit_code == 0, result.stderr
    assert result.json["results"][0]["status"] == "SUCCEEDED"
    assert "status 'Paused' unknown to paradime" in result.stderr


def test_a_stop_answered_with_completed_with_failures_reads_it_as_a_poll_does(
    sagemaker, pipelines, fast_polling
):
    pipelines("train")
    sagemaker.script("train", "Executing", after_stop=["CompletedWithFailures"])
    result = run_cli(["run", "aws-sagemaker-start-pipeline", "--pipeline-name", "train",
                      "--timeout-minutes", "0.01", "--cancel-on-exit", "--json"])  # fmt: skip
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert (row["status"], row["error"]) == ("FAILED", "SageMaker status CompletedWithFailures")
