"""Demo resources and tour of the Step Functions commands.

Two STANDARD state machines: ``demo-nightly-etl`` succeeds after a 2-second Wait state, and
``demo-broken-report`` fails with an error and a cause, to show how a failure is reported.
"""

from __future__ import annotations

import json
from typing import Any

PROVIDER_PACKAGE = "paradime_aws_stepfunctions"
COMMAND = "aws-stepfunctions-start-execution"
ROLE = "arn:aws:iam::123456789012:role/demo-step-functions"
BROKEN_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:demo-broken-report"

NIGHTLY_ETL = {
    "Comment": "Extract, wait for the warehouse, load.",
    "StartAt": "Extract",
    "States": {
        "Extract": {
            "Type": "Pass",
            "Result": {"rows": 1200},
            "ResultPath": "$.extract",
            "Next": "WaitForWarehouse",
        },
        "WaitForWarehouse": {"Type": "Wait", "Seconds": 2, "Next": "Load"},
        "Load": {
            "Type": "Pass",
            "Result": {"status": "loaded"},
            "ResultPath": "$.load",
            "End": True,
        },
    },
}

BROKEN_REPORT = {
    "Comment": "Fails on purpose, with an error and a cause.",
    "StartAt": "BuildReport",
    "States": {
        "BuildReport": {
            "Type": "Fail",
            "Error": "Report.SourceMissing",
            "Cause": "table analytics.daily_revenue has no rows for yesterday",
        }
    },
}


def setup(aws: Any) -> None:
    """Create the demo state machines in the emulator."""
    client = aws.client("stepfunctions")
    for name, definition in (
        ("demo-nightly-etl", NIGHTLY_ETL),
        ("demo-broken-report", BROKEN_REPORT),
    ):
        client.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)


TOUR: list[list[str]] = [
    ["run", "aws-stepfunctions-list-state-machines"],
    # By name, with an input: the execution's output is in the result.
    [
        "run",
        COMMAND,
        "--state-machine-arn",
        "demo-nightly-etl",
        "--input",
        '{"date": "2024-06-01"}',
    ],
    # Both at once, by name and by ARN, as JSON: one fails on purpose (exit code 1).
    ["run", COMMAND, "--state-machine-arn", f"demo-nightly-etl,{BROKEN_ARN}", "--json"],
]
