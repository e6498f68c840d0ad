"""How each SageMaker execution status ends up reported (executions scripted in the emulator)."""

from __future__ import annotations

from paradime.testing import run_cli

COMMAND = "aws-sagemaker-start-pipeline"
FAILED_STEPS = [
    {"StepName": "Prepare", "StepStatus": "Succeeded"},
    {"StepName": "Split", "StepStatus": "Succeeded"},
    {"StepName": "Train", "StepStatus": "Succeeded"},
    {
        "StepName": "Evaluate",
        "StepStatus": "Failed",
        "FailureReason": "ClientError: AlgorithmError: accuracy below threshold",
    },
    {"StepName": "Register", "StepStatus": "Stopped"},
]


def start(*args: str):  # type: ignore[no-untyped-def]
    return run_cli(["run", COMMAND, *args, "--json"])


def test_an_executing_pipeline_is_waited_for_until_it_succeeds(sagemaker, pipelines, fast_polling):
    pipelines("train")
    sagemaker.script(
        "train",
        "Executing",
        "Executing",
        "Executing",
        "Succeeded",
        steps=[
            {"StepName": "Prepare", "StepStatus": "Succeeded"},
            {"StepName": "Train", "StepStatus": "Executing"},
        ],
    )
    result = start("--pipeline-name", "train")
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {"train": "SUCCEEDED"}
    assert "[train] executing step Train" in result.stderr


def test_a_failed_execution_names_its_reason_and_the_failed_step_from_any_page(
    sagemaker, pipelines, fast_polling
):
    pipelines("train", "score")
    sagemaker.script(
        "train",
        "Executing",
        "Failed",
        failure_reason="Step failure: One or multiple steps failed.",
        steps=FAILED_STEPS,
        step_page_size=2,  # the failed step is on the second page
    )
    result = start("--pipeline-name", "train,score")
    assert result.exit_code == 1
    assert result.statuses == {"train": "FAILED", "score": "SUCCEEDED"}
    row = result.json["results"][0]
    assert row["error"] == (
        "pipeline execution Failed: Step failure: One or multiple steps failed.; "
        "failed step 'Evaluate': ClientError: AlgorithmError: accuracy below threshold"
    )
    assert row["failed_steps"] == [
        {"name": "Evaluate", "reason": "ClientError: AlgorithmError: accuracy below threshold"}
    ]
    assert row["run_id"] == sagemaker.executions("train")[0]["PipelineExecutionArn"]


def test_a_failed_execution_without_step_details_still_fails_with_its_reason(
    sagemaker, pipelines, fast_polling
):
    pipelines("train")
    sagemaker.script("train", "Failed", failure_reason="Pipeline definition is invalid")
    result = start("--pipeline-name", "train")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "FAILED"
    assert row["error"] == "pipeline execution Failed: Pipeline definition is invalid"
    assert row["failed_steps"] == []


def test_completed_with_failures_is_a_failure(sagemaker, pipelines, fast_polling):
    pipelines("train")
    sagemaker.script(
        "train",
        "CompletedWithFailures",
        steps=[
            {"StepName": "Fanout-1", "StepStatus": "Succeeded"},
            {"StepName": "Fanout-2", "StepStatus": "Failed", "FailureReason": "OOM"},
            {"StepName": "Fanout-3", "StepStatus": "Failed", "FailureReason": "timeout"},
        ],
    )
    result = start("--pipeline-name", "train")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "FAILED"
    assert row["error"] == (
        "pipeline execution CompletedWithFailures; "
        "failed steps 'Fanout-2': OOM; 'Fanout-3': timeout"
    )


def test_an_execution_stopped_remotely_is_stopped_and_exits_one(sagemaker, pipelines, fast_polling):
    pipelines("train")
    sagemaker.script("train", "Executing", "Stopping", "Stopped")
    result = start("--pipeline-name", "train")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "STOPPED"
    assert row["error"] == "the pipeline execution was stopped"
    assert sagemaker.stops == []  # paradime did not stop it


def test_timeout_without_cancel_leaves_the_execution_running(sagemaker, pipelines, fast_polling):
    pipelines("train")
    sagemaker.script("train", "Executing")
    result = start("--pipeline-name", "train", "--timeout-minutes", "0.01")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "TIMED_OUT"
    assert "not stopped (--cancel-on-exit stops it)" in row["error"]
    assert row["run_id"] == sagemaker.executions("train")[0]["PipelineExecutionArn"]
    assert sagemaker.stops == []


def test_timeout_with_cancel_on_exit_stops_the_execution(sagemaker, pipelines, fast_polling):
    pipelines("train", "score")
    sagemaker.script("train", "Executing")
    # 3 s: time enough for "score" to be seen succeeding on a loaded machine.
    result = start(
        "--pipeline-name", "train,score", "--timeout-minutes", "0.05", "--cancel-on-exit"
    )
    assert result.exit_code == 1
    assert result.statuses == {"train": "TIMED_OUT", "score": "SUCCEEDED"}
    row = result.json["results"][0]
    [stop] = sagemaker.stops
    assert stop["arn"] == row["run_id"]
    assert len(stop["token"]) >= 32
    assert row["error"] == (
        "still running at the 0.05-minute timeout; stop requested "
        "(remote status: RUNNING): SageMaker status Stopping"
    )
    status = sagemaker.client.describe_pipeline_execution(PipelineExecutionArn=row["run_id"])
    assert status["PipelineExecutionStatus"] == "Stopped"


def test_a_stop_that_lands_at_once_reports_stopped(sagemaker, pipelines, fast_polling):
    pipelines("train")
    sagemaker.script("train", "Executing", after_stop=["Stopped"])
    result = start("--pipeline-name", "train", "--timeout-minutes", "0.01", "--cancel-on-exit")
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "TIMED_OUT"
    assert row["error"].endswith(
        "stop requested (remote status: STOPPED): SageMaker status Stopped"
    )
