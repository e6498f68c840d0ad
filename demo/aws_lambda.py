"""Demo resources and tour of the AWS Lambda commands.

Three functions with real handler code. The emulator does not run the code (no Docker): a
synchronous invocation answers with its payload, an Event invocation is accepted and queued.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

PROVIDER_PACKAGE = "paradime_aws_lambda"

HANDLERS = {
    "demo-hello": (
        "def handler(event, context):\n"
        "    return {'message': f\"hello, {event.get('name', 'world')}\"}\n"
    ),
    "demo-echo": "def handler(event, context):\n    return event\n",
    "demo-nightly-report": (
        "import time\n\n"
        "def handler(event, context):\n"
        "    time.sleep(5)\n"
        "    return {'rows': 1200, 'day': event.get('day')}\n"
    ),
}


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", source)
    return buffer.getvalue()


def setup(aws: Any) -> None:
    role = aws.client("iam").create_role(
        RoleName="demo-lambda-execution", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    client = aws.client("lambda")
    for name, source in HANDLERS.items():
        client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": _zip(source)},
            Timeout=60 if name == "demo-nightly-report" else 3,
            MemorySize=256,
            Description=f"paradime demo function {name}",
        )


INVOKE = "aws-lambda-invoke"
TOUR: list[list[str]] = [
    ["run", "aws-lambda-list-functions"],
    ["run", INVOKE, "--function-name", "demo-hello", "--payload", '{"name": "Ada"}'],
    [
        "run",
        INVOKE,
        "--function-name",
        "demo-echo,demo-hello",
        "--payload",
        '{"day": "2024-06-01"}',
        "--json",
    ],
    # Queue the nightly report and return at once: STARTED, with Lambda's request id.
    [
        "run",
        INVOKE,
        "--function-name",
        "demo-nightly-report",
        "--invocation-type",
        "Event",
        "--payload",
        '{"day": "2024-06-01"}',
        "--no-wait-for-completion",
    ],
    ["run", INVOKE, "--function-name", "demo-echo", "--invocation-type", "DryRun"],
    # No misspelt-function example here: the emulator answers 200 for a function that does not
    # exist (Lambda answers ResourceNotFoundException), so it would show a false success. The
    # Step Functions and SageMaker tours show a failing target beside a succeeding one.
]
