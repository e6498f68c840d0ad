"""Scenario 7, credentials: refused credentials name the AWS code per target; none at all is one
message before anything is tried.

The emulator accepts any credentials, so the fault proxy answers as AWS does when it refuses
them. Credentials are final errors: retrying cannot fix them, so each call is sent once.
"""

from __future__ import annotations

import json
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
    [line] = [x for x in result.stderr.splitlines() if x.startswith("❌ AWS Error: ")]
    assert result.stderr.rstrip().endswith(line)  # after the list's heading, one error line
    assert line.startswith(f"❌ AWS Error: {code} - ") and message in line  # the spec's shape
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


# -- which credentials sign: boto3's and the AWS CLI's precedence ------------------------------
PROD_KEY = "AKIAPROFILEPROD00001"
OTHER_KEY = "AKIAPROFILEOTHER0001"
TYPED_KEY = "AKIATYPEDOPTION00001"
SECRET = "profile-secret-key-0123456789abcdefghij"


@pytest.fixture
def profiles(tmp_path: Any) -> dict[str, str | None]:
    """Shared config and credentials files with two profiles, 'prod' and 'other'."""
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[prod]\naws_access_key_id = {PROD_KEY}\naws_secret_access_key = {SECRET}\n\n"
        f"[other]\naws_access_key_id = {OTHER_KEY}\naws_secret_access_key = {SECRET}\n"
    )
    config = tmp_path / "config"
    config.write_text("[profile prod]\nregion = us-east-1\n\n[profile other]\nregion = us-east-1\n")
    return {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}


def signed_with(proxy: Any) -> set[str]:
    """The access key ids in the SigV4 credential scope of every request the proxy saw."""
    return {
        r.headers["authorization"].split("Credential=", 1)[1].split("/", 1)[0]
        for r in proxy.requests
    }


ENV_KEY = "AKIAPARADIMETESTKEY0"  # the fake key the aws fixture puts in the environment
TYPED = ["--aws-access-key-id", TYPED_KEY, "--aws-secret-access-key", SECRET]
PRECEDENCE = {
    "a typed profile beats keys in the environment": (["--aws-profile", "prod"], {}, PROD_KEY),
    "keys in the environment beat AWS_PROFILE": ([], {"AWS_PROFILE": "prod"}, ENV_KEY),
    "AWS_PROFILE when the environment has no keys": (
        [],
        {"AWS_PROFILE": "prod", "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None},
        PROD_KEY,
    ),
    "a typed profile beats AWS_PROFILE": (
        ["--aws-profile", "prod"],
        {"AWS_PROFILE": "other"},
        PROD_KEY,
    ),
    "typed keys beat a typed profile": ([*TYPED, "--aws-profile", "prod"], {}, TYPED_KEY),
}


@pytest.mark.parametrize("case", list(PRECEDENCE))
def test_the_credentials_that_sign_follow_boto3_precedence(case, profiles, aws_faults, ledger):
    args, env, expected = PRECEDENCE[case]
    result = run_cli(["run", LISTS[1], *args], env={**profiles, **env})
    assert result.exit_code == 0, result.stderr
    assert signed_with(aws_faults) == {expected}
    ledger.record("7", targets=0, duplicates=0)


def test_a_typed_profile_signs_every_trigger_and_status_check(
    profiles, emulators, aws_faults, ledger
):
    """The account named on the command line is the one used, for every call of a run."""
    command, args, targets = arrange(emulators, "stepfunctions")
    result = run_cli(["run", command, *args, "--aws-profile", "prod", "--json"], env=profiles)
    assert result.exit_code == 0, result.stderr
    assert signed_with(aws_faults) == {PROD_KEY}
    assert {r.action for r in aws_faults.requests} >= {"StartExecution", "DescribeExecution"}
    ledger.record("7", targets=len(targets), duplicates=0)


def test_the_environment_session_token_is_not_sent_with_typed_keys(profiles, aws_faults, ledger):
    """AWS_SESSION_TOKEN belongs to the environment's key: with keys typed, boto3 sends none."""
    env = {**profiles, "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEnvironmentToken0123456789"}
    result = run_cli(["run", LISTS[1], *TYPED], env=env)
    assert result.exit_code == 0, result.stderr
    assert signed_with(aws_faults) == {TYPED_KEY}
    assert all("x-amz-security-token" not in r.headers for r in aws_faults.requests)
    ledger.record("7", targets=0, duplicates=0)


# -- SSO and config files: one line, a row per target, nothing sent ------------------------------
SSO_CONFIG = """\
[profile sso-dev]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_account_id = 123456789012
sso_role_name = Developer
region = us-east-1

[profile sso-team]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Developer
region = us-east-1

[sso-session corp]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
"""


def sso_environment(tmp_path: Any, expired: bool) -> dict[str, str | None]:
    """A config with a legacy SSO profile and an sso-session one; their cached tokens expired,
    or none cached at all (``aws sso login`` never run)."""
    import hashlib

    home = tmp_path / "home"
    cache = home / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    if expired:
        for key in ("https://example.awsapps.com/start", "corp"):
            name = hashlib.sha1(key.encode()).hexdigest()
            (cache / f"{name}.json").write_text(
                json.dumps(
                    {
                        "accessToken": "expired-sso-access-token",
                        "expiresAt": "2020-01-01T00:00:00Z",
                        "region": "us-east-1",
                        "startUrl": "https://example.awsapps.com/start",
                    }
                )
            )
    config = tmp_path / "config"
    config.write_text(SSO_CONFIG)
    return {
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(config),
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
    }


@pytest.mark.parametrize("expired", [True, False], ids=["expired-token", "no-token"])
@pytest.mark.parametrize("profile", ["sso-dev", "sso-team"])
def test_an_sso_profile_without_a_valid_token_says_to_log_in(
    profile, expired, tmp_path, emulators, aws_faults, ledger
):
    env = sso_environment(tmp_path, expired)
    command, args, targets = arrange(emulators, "lambda")
    result = run_cli(["run", command, *args, "--aws-profile", profile, "--json"], env=env)
    assert result.exit_code == 1, result.stderr
    login = f"run 'aws sso login --profile {profile}'"
    [line] = result.stderr.splitlines()
    assert login in line
    assert [row["status"] for row in result.json["results"]] == ["ERROR"] * len(targets)
    assert all(login in row["error"] for row in result.json["results"])
    assert aws_faults.count() == 0
    # The same through AWS_PROFILE, and on a list command: one Error line.
    listed = run_cli(["run", LISTS[0]], env={**env, "AWS_PROFILE": profile})
    assert listed.exit_code == 1
    [line] = listed.stderr.splitlines()
    assert line.startswith("Error: ") and login in line
    assert aws_faults.count() == 0
    ledger.record("7", faults=2, targets=len(targets), duplicates=0)


MALFORMED = {
    "no section header": "region = us-east-1\n[profile prod]\n",
    "unclosed section": "[profile prod\nregion = us-east-1\n",
    "a key without a value": "[profile prod]\nregion\n",
}


@pytest.mark.parametrize("profile", [[], ["--aws-profile", "prod"]], ids=["env-keys", "profile"])
@pytest.mark.parametrize("kind", list(MALFORMED))
def test_a_malformed_config_file_is_one_line_not_a_traceback(
    kind, profile, tmp_path, emulators, aws_faults, ledger
):
    config = tmp_path / "config"
    config.write_text(MALFORMED[kind])
    command, args, targets = arrange(emulators, "sagemaker")
    result = run_cli(
        ["run", command, *args, *profile, "--json"], env={"AWS_CONFIG_FILE": str(config)}
    )
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert str(config) in line and "cannot be used" in line
    assert [row["status"] for row in result.json["results"]] == ["ERROR"] * len(targets)
    assert aws_faults.count() == 0
    ledger.record("7", faults=1, targets=len(targets), duplicates=0)
