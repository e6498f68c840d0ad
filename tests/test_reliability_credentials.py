"""Scenario 7, credentials: refused credentials name the AWS code per target; none at all is one
message before anything is tried.

The emulator accepts any credentials, so the fault proxy answers as AWS does when it refuses
them. Credentials are final errors: retrying cannot fix them, so each call is sent once.
"""

from __future__ import annotations

from typing import Any

import pytest

from paradime.testing import run_cli
from paradime.testing.proxy import ProxyRequest, Reply
from paradime_aws_common.testing import aws_error

pytestmark = pytest.mark.usefixtures("fast_polling", "instant_botocore_retries")

LAMBDA = "aws-lambda-invoke"
SFN = "aws-stepfunctions-start-execution"
SAGEMAKER = "aws-sagemaker-start-pipeline"
LISTS = [
    "aws-lambda-list-functions",
    "aws-stepfunctions-list-state-machines",
    "aws-sagemaker-list-pipelines",
]
REFUSALS = {
    # code, message, HTTP status from Lambda (REST) and from the JSON services
    "invalid-keys": (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        403,
        400,
    ),
    "expired-token": (
        "ExpiredTokenException",
        "The security token included in the request is expired",
        403,
        400,
    ),
    "access-denied": (
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform this action",
        403,
        400,
    ),
}


def refuse(kind: str) -> Any:
    code, message, lambda_status, json_status = REFUSALS[kind]

    def rule(request: ProxyRequest) -> Reply:
        status = lambda_status if request.service == "lambda" else json_status
        return aws_error(code, message, status)

    return rule


def arrange(emulators: Any, provider: str) -> tuple[str, list[str], list[str]]:
    """(command, arguments, targets)."""
    if provider == "lambda":
        emulators.functions.create("export", "report")
        return LAMBDA, ["--function-name", "export,report"], ["export", "report"]
    if provider == "stepfunctions":
        from paradime_aws_stepfunctions.testing import pass_machine

        arns = [emulators.machines.arn(n, pass_machine()) for n in ("etl", "report")]
        return SFN, [a for arn in arns for a in ("--state-machine-arn", arn)], arns
    for name in ("train", "score"):
        emulators.sagemaker.create_pipeline(name)
    return SAGEMAKER, ["--pipeline-name", "train,score"], ["train", "score"]


@pytest.mark.parametrize("kind", list(REFUSALS))
@pytest.mark.parametrize("provider", ["lambda", "stepfunctions", "sagemaker"])
def test_refused_credentials_give_each_target_an_error_with_the_aws_code(
    provider, kind, emulators, aws_faults, ledger
):
    command, args, targets = arrange(emulators, provider)
    aws_faults.add_rule(refuse(kind))
    code, message, _, _ = REFUSALS[kind]
    result = run_cli(["run", command, *args, "--json"])
    assert result.exit_code == 1
    rows = result.json["results"]
    assert [row["target"] for row in rows] == targets
    for row in rows:
        assert row["status"] == "ERROR"
        assert f"{code}: {message}" in row["error"], row["error"]
        assert row["aws_error_code"] == code
    # Final: each target's call was sent once, and nothing after it; but a refused
    # DescribeStateMachine is an optional look-up (docs/permissions.md): the start is still
    # tried, once, and its refusal is the row's error.
    sent = [r.action for r in aws_faults.requests]
    if provider == "stepfunctions" and kind == "access-denied":
        assert sent.count("StartExecution") == len(targets), sent
        assert 1 <= sent.count("DescribeStateMachine") <= len(targets), sent
    else:
        assert len(sent) == len(targets), sent
    assert "retrying" not in result.stderr
    assert "Traceback" not in result.stderr
    ledger.record("7", proxy=aws_faults, targets=len(targets), duplicates=0)


@pytest.mark.parametrize("kind", list(REFUSALS))
@pytest.mark.parametrize("command", LISTS)
def test_refused_credentials_on_a_list_are_one_line_with_the_aws_code(
    command, kind, aws_faults, ledger
):
    aws_faults.add_rule(refuse(kind))
    code, message, _, _ = REFUSALS[kind]
    result = run_cli(["run", command])
    assert result.exit_code == 1
    [line] = [x for x in result.stderr.splitlines() if x.startswith("Error: ")]
    assert result.stderr.rstrip().endswith(line)  # after the list's heading, one error line
    assert f"{code}: {message}" in line
    assert len(aws_faults.requests) == 1
    ledger.record("7", proxy=aws_faults, targets=0, duplicates=0)


# -- no credentials at all ----------------------------------------------------------------------
@pytest.fixture
def no_credentials(tmp_path: Any) -> dict[str, str | None]:
    """No keys, no profile, config and credentials files that do not exist, no instance or
    container metadata: boto3's whole chain finds nothing, and reaches nothing."""
    missing = str(tmp_path / "does-not-exist")
    return {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_CONFIG_FILE": missing,
        "AWS_SHARED_CREDENTIALS_FILE": missing,
        "BOTO_CONFIG": missing,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": None,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": None,
        "AWS_WEB_IDENTITY_TOKEN_FILE": None,
        "HOME": str(tmp_path),
    }


NO_CREDENTIALS = "no AWS credentials found"


@pytest.mark.parametrize(
    ("command", "args", "targets"),
    [
        (LAMBDA, ["--function-name", "export,report"], ["export", "report"]),
        (SFN, ["--state-machine-arn", "etl,report"], ["etl", "report"]),
        (SAGEMAKER, ["--pipeline-name", "train,score"], ["train", "score"]),
    ],
    ids=["lambda", "stepfunctions", "sagemaker"],
)
def test_no_credentials_is_one_message_and_nothing_is_tried(
    command, args, targets, no_credentials, aws_faults, ledger
):
    result = run_cli(["run", command, *args, "--json"], env=no_credentials)
    assert result.exit_code == 1
    assert result.stderr.count(NO_CREDENTIALS) == 1, result.stderr
    assert "TRIGGERING" not in result.stderr and "[1/2]" not in result.stderr
    rows = result.json["results"]
    assert [row["target"] for row in rows] == targets  # still a row for every target
    for row in rows:
        assert row["status"] == "ERROR"
        assert row["error"].startswith(f"not triggered: {NO_CREDENTIALS}")
        assert row["run_id"] is None
    assert aws_faults.count() == 0
    ledger.record("7", faults=1, targets=len(targets), duplicates=0)


@pytest.mark.parametrize("command", LISTS)
def test_no_credentials_on_a_list_is_one_line(command, no_credentials, aws_faults, ledger):
    result = run_cli(["run", command], env=no_credentials)
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: {NO_CREDENTIALS}")
    assert aws_faults.count() == 0
    ledger.record("7", faults=1, targets=0, duplicates=0)


def test_no_credentials_through_the_console_script(
    no_credentials, aws_faults, run_script, script_env, ledger
):
    env = {k: v for k, v in script_env(**{k: v for k, v in no_credentials.items() if v}).items()}
    for key, value in no_credentials.items():
        if value is None:
            env.pop(key, None)
    completed = run_script(["run", SFN, "--state-machine-arn", "etl", "--json"], env)
    assert completed.returncode == 1, completed.stderr
    assert completed.stderr.count(NO_CREDENTIALS) == 1
    assert "Traceback" not in completed.stderr
    assert aws_faults.count() == 0
    ledger.record("7", faults=1, targets=1, duplicates=0)
