"""Running with exactly the documented IAM actions (docs/permissions.md), enforced at the proxy:
``sagemaker:StartPipelineExecution``, ``sagemaker:DescribePipelineExecution``,
``sagemaker:ListPipelines``. Every other call is refused as AWS refuses it."""

from __future__ import annotations

import pytest

from paradime.testing import run_cli
from paradime_aws_common.testing import IamPolicy

pytestmark = pytest.mark.usefixtures("fast_polling")
COMMAND = "aws-sagemaker-start-pipeline"
REQUIRED = (
    "sagemaker:StartPipelineExecution",
    "sagemaker:DescribePipelineExecution",
    "sagemaker:ListPipelines",
)
STEPS = "sagemaker:ListPipelineExecutionSteps"


def test_pipelines_run_to_their_end_with_only_the_documented_actions(
    aws_faults, sagemaker, pipelines
):
    pipelines("nightly-train", "nightly-score")
    sagemaker.script("nightly-train", "Executing", "Executing", "Succeeded")
    sagemaker.script("nightly-score", "Executing", "Failed", failure_reason="Step failure")
    policy = aws_faults.add_rule(IamPolicy(*REQUIRED))
    result = run_cli(["run", COMMAND, "--pipeline-name", "nightly-train,nightly-score", "--json"])
    assert result.exit_code == 1  # nightly-score's own failure, not a permission
    assert result.statuses == {"nightly-train": "SUCCEEDED", "nightly-score": "FAILED"}
    failed = result.json["results"][1]
    # Without the optional step listing, the failure still has the execution's reason.
    assert failed["error"].startswith("pipeline execution Failed: Step failure")
    assert "steps could not be read" in failed["error"]
    assert set(policy.denied) == {STEPS}


def test_step_listing_is_what_names_the_running_step(aws_faults, sagemaker, pipelines):
    pipelines("nightly-train")
    steps = [{"StepName": "Train", "StepStatus": "Executing"}]
    sagemaker.script("nightly-train", "Executing", "Succeeded", steps=steps)
    aws_faults.add_rule(IamPolicy(*REQUIRED, STEPS))
    result = run_cli(["run", COMMAND, "--pipeline-name", "nightly-train"])
    assert result.exit_code == 0, result.stdout
    assert "[nightly-train] executing step Train" in result.stderr


def test_listing_needs_only_list_pipelines(aws_faults, sagemaker, pipelines):
    pipelines("nightly-train")
    policy = aws_faults.add_rule(IamPolicy(*REQUIRED))
    result = run_cli(["run", "aws-sagemaker-list-pipelines", "--json"])
    assert result.exit_code == 0
    assert [row["name"] for row in result.json] == ["nightly-train"]
    assert policy.denied == []
