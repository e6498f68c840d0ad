"""The console in the spec's words for SageMaker Pipelines: stderr progress and results table."""

from __future__ import annotations

import pytest

from paradime.testing import progress_lines, run_cli

pytestmark = pytest.mark.usefixtures("fast_polling")


def test_a_pipeline_execution_reads_as_the_spec_shows_it(sagemaker, pipelines):
    pipelines("nightly-train")
    sagemaker.script("nightly-train", "Executing", "Succeeded")
    result = run_cli(["run", "aws-sagemaker-start-pipeline", "--pipeline-name", "nightly-train"])
    assert result.exit_code == 0, result.stderr
    lines = progress_lines(result.stderr)
    assert lines[2] == "🚀 TRIGGERING AWS SAGEMAKER PIPELINES"
    assert lines[lines.index("[1/1] 🧠 nightly-train") + 2] == (
        "🚀 [nightly-train] Starting pipeline execution..."
    )
    [execution] = sagemaker.executions("nightly-train")
    arn = execution["PipelineExecutionArn"]
    started = lines.index(f"✅ [nightly-train] Pipeline execution started: {arn}")
    assert started < lines.index("⚡ LIVE PROGRESS")
    assert lines[-1].startswith("✅ [nightly-train] Completed successfully (0m ")
    table = result.stdout.splitlines()
    assert "📊 PIPELINE EXECUTION RESULTS" in table
    header = next(x for x in table if x.startswith("PIPELINE NAME"))
    assert header[41:].startswith("STATUS")
    row = next(x for x in table if x.startswith("nightly-train "))
    assert row[41:].startswith("✅ SUCCESS") and arn in row


def test_a_missing_pipeline_reads_aws_error_and_its_code(aws_faults, sagemaker, pipelines):
    from paradime_aws_common.testing import aws_error, when

    missing = aws_error("ResourceNotFound", "Pipeline 'gone' does not exist.")
    aws_faults.add_rule(when(missing, action="StartPipelineExecution"))
    result = run_cli(["run", "aws-sagemaker-start-pipeline", "--pipeline-name", "gone"])
    assert result.exit_code == 1
    line = next(x for x in progress_lines(result.stderr) if x.startswith("❌ [gone]"))
    assert line.startswith("❌ [gone] AWS Error: ResourceNotFound - pipeline 'gone' not found")


def test_listing_shows_a_heading_and_a_count(sagemaker, pipelines):
    pipelines("nightly-train")
    result = run_cli(["run", "aws-sagemaker-list-pipelines", "--json"])
    lines = progress_lines(result.stderr)
    assert lines[2] == "📋 LISTING AWS SAGEMAKER PIPELINES"
    assert lines[4].startswith("✅ Found 1 pipeline (")
    assert [row["name"] for row in result.json] == ["nightly-train"]
