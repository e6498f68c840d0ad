"""A short --idempotency-key on a short pipeline name: SageMaker's ClientRequestToken must be 32
characters at least (botocore refuses a shorter one before sending it), so the token is padded
with more of its hash, and every keyed start is still accepted."""

from __future__ import annotations

import pytest

from paradime.testing import run_cli

COMMAND = "aws-sagemaker-start-pipeline"
START = "StartPipelineExecution"


@pytest.mark.parametrize(("key", "pipeline"), [("k1", "etl"), ("7", "a")])
def test_a_short_key_on_a_short_pipeline_starts_one_execution_with_a_32_character_token(
    sagemaker, pipelines, aws_faults, fast_polling, key, pipeline
):
    pipelines(pipeline)
    args = ["run", COMMAND, "--pipeline-name", pipeline, "--idempotency-key", key, "--json"]
    result = run_cli(args)
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {pipeline: "SUCCEEDED"}
    [token] = [body["ClientRequestToken"] for body in sagemaker.sent(aws_faults, START)]
    assert len(token) == 32 and token.startswith(f"{key}-{pipeline}-")
    [execution] = sagemaker.executions(pipeline)
    assert result.json["results"][0]["run_id"] == execution["PipelineExecutionArn"]
