"""Bad input is one line on stderr and exit code 2, before any AWS call."""

from __future__ import annotations

import json

import pytest

from paradime.testing import run_cli

BIG = json.dumps({"blob": "x" * (1024 * 1024)})  # a little over 1 MB
HUGE = json.dumps({"blob": "x" * (6 * 1024 * 1024)})  # a little over 6 MB


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--payload", "{not json"], "invalid value for '--payload': the payload is not valid"),
        (["--payload", ""], "the payload is not valid JSON"),
        (["--payload-file", "/no/such/file.json"], "cannot read '/no/such/file.json'"),
        (["--payload", HUGE], "Lambda accepts at most 6,291,456 bytes for RequestResponse"),
        (
            ["--payload", BIG, "--invocation-type", "event"],
            "Lambda accepts at most 1,048,576 bytes for Event invocations",
        ),
        (["--client-context", "[1, 2]"], "'--client-context': must be a JSON object"),
        (["--client-context", "{oops"], "'--client-context': the client context is not valid JSON"),
        (
            ["--client-context", json.dumps({"custom": {"k": "v" * 3000}})],
            "Lambda accepts at most 3583",
        ),
        (["--qualifier", "not ok"], "'not ok' is not a Lambda qualifier"),
        (["--invocation-type", "Later"], "Invalid value for '--invocation-type'"),
        (["--log-type", "Full"], "Invalid value for '--log-type'"),
    ],
)
def test_bad_options_exit_2_before_any_call(aws_faults, lambda_emulator, args, message):
    result = run_cli(["run", "aws-lambda-invoke", "--function-name", "f", *args])
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert aws_faults.count() == 0


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("my function", "'my function' is not a valid Lambda function name"),
        ("x" * 65, "is not a valid Lambda function name"),
        ("fn:v1:extra", "is not a Lambda function name or ARN"),
        ("fn:bad qualifier", "'bad qualifier' is not a Lambda qualifier"),
        (
            "arn:aws:states:us-east-1:123456789012:stateMachine:nightly",
            "is an ARN of service 'states', not 'lambda'",
        ),
        ("arn:aws:lambda:us-east-1:123456789012:layer:tools:3", "is a 'layer' ARN"),
        ("arn:aws:lambda:us-east-1:1234:function:f", "invalid account id"),
        ("12345:function:f", "invalid account id '12345'"),
        ("arn:aws:lambda:us-east-1:123456789012:function:", "is not a valid Lambda function"),
    ],
)
def test_bad_function_names_exit_2_before_any_call(aws_faults, lambda_emulator, target, message):
    result = run_cli(
        ["run", "aws-lambda-invoke", "--function-name", "ok", "--function-name", target]
    )
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert aws_faults.count() == 0


def test_payload_and_payload_file_together_exit_2(aws_faults, tmp_path):
    path = tmp_path / "event.json"
    path.write_text("{}")
    args = ["--function-name", "f", "--payload", "{}", "--payload-file", str(path)]
    result = run_cli(["run", "aws-lambda-invoke", *args])
    assert result.exit_code == 2
    assert "--payload and --payload-file cannot be used together" in result.stderr
    assert aws_faults.count() == 0


def test_a_payload_file_that_is_not_json_exits_2(aws_faults, tmp_path):
    path = tmp_path / "event.json"
    path.write_text("day=monday\n")
    result = run_cli(
        ["run", "aws-lambda-invoke", "--function-name", "f", "--payload-file", str(path)]
    )
    assert result.exit_code == 2
    assert f"'{path}' is not valid JSON" in result.stderr
    assert aws_faults.count() == 0


def test_a_payload_over_the_event_limit_is_fine_for_request_response(functions, lambda_emulator):
    functions.create("roomy")
    result = run_cli(["run", "aws-lambda-invoke", "--function-name", "roomy", "--payload", BIG])
    assert result.exit_code == 0, result.stderr
    assert len(lambda_emulator.invoked("roomy")[0].payload) == len(BIG)


def test_tail_and_client_context_warn_that_event_invocations_ignore_them(
    functions, lambda_emulator
):
    functions.create("async")
    result = run_cli(
        [
            "run",
            "aws-lambda-invoke",
            "--function-name",
            "async",
            "--invocation-type",
            "Event",
            "--log-type",
            "Tail",
            "--client-context",
            '{"custom": {}}',
            "--no-wait-for-completion",
        ]
    )
    assert result.exit_code == 0, result.stderr
    assert "--log-type Tail has no effect on Event invocations" in result.stderr
    assert "--client-context is not passed to Event invocations" in result.stderr
    (seen,) = lambda_emulator.invoked("async")
    assert seen.log_type is None and seen.client_context is None
