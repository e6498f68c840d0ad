"""The installed ``paradime`` console script, as a scheduler runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def paradime(*args: str, env: dict[str, str], stdin: bytes = b"") -> subprocess.CompletedProcess:
    script = shutil.which("paradime", path=str(BIN))
    if script is None:
        pytest.skip("the paradime console script is not installed next to this Python")
    return subprocess.run(
        [script, *args], input=stdin, env=env, capture_output=True, timeout=120, check=False
    )


def test_the_console_script_invokes_with_a_payload_from_standard_input(
    aws, functions, lambda_emulator
):
    functions.create("hello")
    result = paradime(
        "run",
        "aws-lambda-invoke",
        "--function-name",
        "hello",
        "--payload-file",
        "-",
        "--json",
        env=aws.env,
        stdin=b'{"greeting": "hi"}',
    )
    assert result.returncode == 0, result.stderr.decode()
    document = json.loads(result.stdout)
    assert document["results"][0]["output"] == {"greeting": "hi"}
    assert lambda_emulator.invoked("hello")[0].payload == b'{"greeting": "hi"}'
    assert b"Traceback" not in result.stderr


def test_the_commands_are_found_through_the_entry_point(aws):
    result = paradime("providers", env=aws.env)
    assert result.returncode == 0
    line = next(x for x in result.stdout.decode().splitlines() if x.startswith("aws-lambda "))
    assert "paradime-aws-lambda" in line
    assert "aws-lambda-invoke, aws-lambda-list-functions" in line


def test_declaring_the_commands_imports_no_aws_sdk():
    code = (
        "import sys, paradime_aws_lambda\n"
        "paradime_aws_lambda.paradime_register_commands(lambda command: None)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
