"""The shared AWS plumbing: ARNs, regions, credentials, clients, error mapping."""

from __future__ import annotations

import pytest

from paradime.api import RunContext, RunStatus, SetupError, UsageError
from paradime_aws_common.arn import parse_arn
from paradime_aws_common.errors import to_run_error
from paradime_aws_common.session import AwsSession, check_region


def context(secrets: list[str] | None = None) -> RunContext:
    bucket = secrets if secrets is not None else []
    return RunContext("test", True, 60.0, 4, None, bucket.append)


def test_parse_arn_reads_every_part():
    arn = parse_arn("arn:aws:states:eu-west-1:123456789012:stateMachine:nightly", "states")
    assert (arn.region, arn.account, arn.resource_type) == (
        "eu-west-1",
        "123456789012",
        "stateMachine",
    )
    assert arn.resource_parts == ["stateMachine", "nightly"]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("not-an-arn", "is not an ARN"),
        ("arn:aws:states:eu-west-1:123456789012", "is not an ARN"),
        ("arn:aws:lambda:eu-west-1:123456789012:function:f", "of service 'lambda', not 'states'"),
        ("arn:aws:states:Europe:123456789012:stateMachine:x", "invalid region"),
        ("arn:aws:states:eu-west-1:12345:stateMachine:x", "invalid account id"),
        ("arn:nope:states:eu-west-1:123456789012:stateMachine:x", "unknown partition"),
        ("arn:aws:states:eu-west-1:123456789012:", "names no resource"),
    ],
)
def test_malformed_arns_are_usage_errors(value, words):
    with pytest.raises(UsageError, match=words):
        parse_arn(value, "states")


def test_unknown_region_is_a_usage_error():
    assert check_region("eu-central-2") == "eu-central-2"
    with pytest.raises(UsageError, match="unknown AWS region 'moon-base-1x'"):
        check_region("moon-base-1x")


def test_missing_credentials_is_a_setup_error(monkeypatch, tmp_path):
    from paradime_aws_common.testing import CLEARED_ENV

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", *CLEARED_ENV):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    with pytest.raises(SetupError, match="no AWS credentials found"):
        AwsSession({}, context())


def test_one_key_without_the_other_is_a_usage_error():
    with pytest.raises(UsageError, match="--aws-secret-access-key is needed"):
        AwsSession({"aws_access_key_id": "AKIA"}, context())


def test_resolved_credentials_are_registered_as_secrets(aws):
    secrets: list[str] = []
    AwsSession({"aws_session_token": None}, context(secrets))
    assert aws.env["AWS_SECRET_ACCESS_KEY"] in secrets


def test_region_defaults_to_us_east_1_only_when_nothing_sets_one(aws, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert AwsSession({}, context()).region == "us-east-1"
    assert AwsSession({"aws_region": "eu-west-1"}, context()).region == "eu-west-1"


def test_clients_are_shared_and_pooled_for_the_concurrency(aws):
    session = AwsSession({"endpoint_url": aws.url}, context())
    client = session.client("stepfunctions")
    assert session.client("stepfunctions") is client
    assert client.meta.config.max_pool_connections >= 10
    assert client.meta.config.inject_host_prefix is False
    assert client.list_state_machines()["stateMachines"] == []


def test_a_client_pools_a_connection_for_each_engine_thread(aws):
    # 100 trigger threads and 10 status-check threads may call one client at once.
    many = RunContext("test", True, 60.0, 100, None, [].append, concurrent_calls=110)
    client = AwsSession({"endpoint_url": aws.url}, many).client("lambda")
    assert client.meta.config.max_pool_connections == 110


def test_the_session_is_botocore_s_own_and_boto3_is_not_imported(aws):
    import subprocess
    import sys

    probe = (
        "import sys; from paradime.api import RunContext;"
        "from paradime_aws_common.session import AwsSession;"
        f"s = AwsSession({{'endpoint_url': {aws.url!r}}}, RunContext('t', True, 1.0, 1, None,"
        " [].append)); s.client('lambda');"
        "print(sorted(m for m in ('boto3', 's3transfer') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=aws.env, check=True
    )
    assert done.stdout.strip() == "[]"


def test_throttle_is_retryable_and_access_denied_is_final(aws):
    from botocore.exceptions import ClientError

    throttled = ClientError(
        {
            "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "StartExecution",
    )
    error = to_run_error(throttled, subject="machine 'x'")
    assert (error.status, error.retryable) == (RunStatus.THROTTLED, True)
    assert error.message == "machine 'x': ThrottlingException: Rate exceeded"
    denied = ClientError(
        {
            "Error": {"Code": "AccessDeniedException", "Message": "no"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "StartExecution",
    )
    assert to_run_error(denied).retryable is False
    broken = ClientError(
        {
            "Error": {"Code": "ServiceException", "Message": "boom"},
            "ResponseMetadata": {"HTTPStatusCode": 500},
        },
        "Invoke",
    )
    assert to_run_error(broken, idempotent=False).retryable is False
    assert to_run_error(broken, idempotent=True).retryable is True


# What botocore writes at debug level, with credentials it obtained itself (not yet registered):
# request headers as a dict of bytes, a canonical request, STS's XML answer, SSO's JSON answer,
# and the same lines as a JSON log line writes them.
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexample+token="
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
LOGGED = [
    "Sending http request: <AWSPreparedRequest headers={'X-Amz-Security-Token': "
    f"b'{TOKEN}', 'Authorization': b'AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEYID0001/20240101/"
    "us-east-1/states/aws4_request, SignedHeaders=host, Signature=abc'}>",
    f"CanonicalRequest:\nPOST\n/\n\nhost:states.us-east-1.amazonaws.com\nx-amz-security-token:{TOKEN}",
    f"Response body:\nb'<Credentials><SessionToken>{TOKEN}</SessionToken>"
    f"<SecretAccessKey>{SECRET_KEY}</SecretAccessKey></Credentials>'",
    'Response body:\nb\'{"roleCredentials":{"accessKeyId":"ASIAEXAMPLEKEYID0001",'
    f'"secretAccessKey":"{SECRET_KEY}","sessionToken":"{TOKEN}"}}}}\'',
    f"https://example.com/?X-Amz-Credential=ASIAEXAMPLEKEYID0001%2F20240101&X-Amz-Security-Token={TOKEN}",
]


@pytest.mark.parametrize("line", LOGGED)
def test_credential_shaped_values_are_masked_in_every_form(line):
    import json

    from paradime.redaction import Redactor
    from paradime_aws_common.secrets import SECRET_PATTERNS

    redactor = Redactor()
    for pattern in SECRET_PATTERNS:
        redactor.add_pattern(pattern)
    for written in (line, json.dumps(line)):  # as is, and inside a JSON log line
        masked = redactor(written)
        # An access key id is no secret, but the SigV4 credential scope names it: hidden there.
        key_id = ("ASIAEXAMPLEKEYID0001",) if "Credential=" in line else ()
        for secret in (TOKEN, SECRET_KEY, *key_id):
            assert secret not in masked and json.dumps(secret)[1:-1] not in masked, masked
        assert "****" in masked


def test_prose_about_credentials_is_left_alone():
    from paradime.redaction import Redactor
    from paradime_aws_common.secrets import SECRET_PATTERNS

    redactor = Redactor()
    for pattern in SECRET_PATTERNS:
        redactor.add_pattern(pattern)
    text = "--aws-session-token needs --aws-access-key-id and --aws-secret-access-key"
    assert redactor(text) == text
