"""Demo resources and tour of the SageMaker Pipelines commands.

Two pipelines, each created from a small pipeline definition with parameters. The emulator does
not run pipeline steps: its executions succeed at once.
"""

from __future__ import annotations

import json
from typing import Any

PROVIDER_PACKAGE = "paradime_aws_sagemaker"
ROLE_ARN = "arn:aws:iam::123456789012:role/demo-sagemaker-pipelines"


def _definition(steps: list[dict[str, Any]]) -> str:
    return json.dumps(
        {
            "Version": "2020-12-01",
            "Metadata": {},
            "Parameters": [
                {"Name": "InputDataUrl", "Type": "String", "DefaultValue": "s3://demo/input/"},
                {"Name": "Epochs", "Type": "Integer", "DefaultValue": 3},
            ],
            "Steps": steps,
        }
    )


def _processing_step(name: str) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceType": "ml.m5.large",
                    "InstanceCount": 1,
                    "VolumeSizeInGB": 30,
                }
            },
            "AppSpecification": {"ImageUri": "demo.dkr.ecr.us-east-1.amazonaws.com/demo:latest"},
            "RoleArn": ROLE_ARN,
        },
    }


PIPELINES = {
    "demo-train": _definition([_processing_step("Prepare"), _processing_step("Train")]),
    "demo-score": _definition([_processing_step("Score")]),
}


def setup(aws: Any) -> None:
    client = aws.client("sagemaker")
    for name, definition in PIPELINES.items():
        client.create_pipeline(
            PipelineName=name,
            PipelineDefinition=definition,
            PipelineDescription=f"paradime demo pipeline {name}",
            RoleArn=ROLE_ARN,
        )


START = "aws-sagemaker-start-pipeline"
BACKFILL = "--parameter InputDataUrl=s3://demo/input/2024-06-01/ --parameter Epochs=10"
TOUR: list[list[str]] = [
    ["run", "aws-sagemaker-list-pipelines"],
    ["run", START, "--pipeline-name", "demo-train", "--pipeline-name", "demo-score"],
    [
        "run",
        START,
        "--pipeline-name",
        "demo-train",
        *BACKFILL.split(),
        "--display-name",
        "demo-backfill",
        "--json",
    ],
    # A misspelt pipeline fails on purpose (exit 1); the other one still runs.
    ["run", START, "--pipeline-name", "demo-score,demo-trian"],
]
