"""pytest fixtures for AWS providers: a moto server over HTTP, and AWS-shaped faults.

Loaded as a pytest plugin (``pytest11`` entry point) wherever paradime-aws-common is installed;
it imports moto only when a fixture is used, so installing it costs nothing elsewhere.

* ``moto_server`` (session): ``ThreadedMotoServer`` on 127.0.0.1, a free port, Lambda without
  Docker and Step Functions really interpreting state machines.
* ``aws`` (per test): resets the emulator, points the environment at it with fake credentials,
  and gives ``aws.client(service)`` for arranging resources and checking what AWS saw.
* ``aws_faults`` (per test): a :class:`~paradime.testing.proxy.FaultProxy` in front of the
  emulator, with the environment pointed at the proxy; see :func:`aws_error` and :func:`when`.
* ``instant_botocore_retries`` (per test, opt-in): botocore's own retries without their sleeps.
* :class:`IamPolicy`: a proxy rule that lets through only the IAM actions it allows and answers
  every other call as AWS answers a call the caller's policy does not allow.

Nothing here reaches an address other than 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from paradime.testing.proxy import RESET, Delay, FaultProxy, Lost, ProxyRequest, Reply, when

FAKE_KEY_ID = "AKIAPARADIMETESTKEY0"
FAKE_SECRET = "paradime-test-secret-key-0123456789abcdef"
MOTO_CONFIG = {"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}


@dataclass
class MotoServer:
    url: str
    port: int
    server: Any

    def post(self, path: str, payload: Any = None) -> None:
        data = json.dumps(payload).encode() if payload is not None else b""
        request = urllib.request.Request(f"{self.url}{path}", data=data, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def reset(self) -> None:
        self.post("/moto-api/reset")
        self.post("/moto-api/config", MOTO_CONFIG)


@dataclass
class AwsEnv:
    """The test's AWS: the emulator's URL, the environment the CLI gets, and client helpers."""

    url: str
    env: dict[str, str]
    region: str = "us-east-1"
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client straight to the emulator (not through any fault proxy)."""
        import boto3
        from botocore.config import Config

        region = region or self.region
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = boto3.client(
                service,
                region_name=region,
                endpoint_url=self.url,
                aws_access_key_id=FAKE_KEY_ID,
                aws_secret_access_key=FAKE_SECRET,
                config=Config(inject_host_prefix=False, retries={"max_attempts": 1}),
            )
        return self._clients[key]


def start_moto_server() -> MotoServer:
    """moto in server mode on 127.0.0.1 (a free port), reset and configured; ``.server.stop()``."""
    import logging

    from moto.server import ThreadedMotoServer

    # One access-log line per request would drown the CLI's own stderr in in-process tests.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # The Step Functions interpreter logs every Fail state it runs as an error, with its parse
    # tree: the emulator's own diagnostics, not something paradime printed.
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    # Step Functions Task states that call Lambda find the emulator through MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)
    moto = MotoServer(f"http://127.0.0.1:{port}", port, server)
    moto.reset()
    return moto


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    moto = start_moto_server()
    yield moto
    moto.server.stop()


def aws_environment(url: str, region: str = "us-east-1") -> dict[str, str]:
    """The environment a CLI run against the emulator at ``url`` gets."""
    return {
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_DEFAULT_REGION": region,
        "AWS_ENDPOINT_URL": url,
        # Never look for credentials or config anywhere real.
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "NO_COLOR": "1",
    }


# Credential sources that would make boto3 call out to a real address.
CLEARED_ENV = (
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


@pytest.fixture
def aws(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> AwsEnv:
    moto_server.reset()
    env = aws_environment(moto_server.url)
    for key in CLEARED_ENV:
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return AwsEnv(moto_server.url, env)


@pytest.fixture
def aws_faults(aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """A fault proxy in front of the emulator; the CLI's endpoint is the proxy."""
    proxy = FaultProxy(aws.url).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    aws.env["AWS_ENDPOINT_URL"] = proxy.url
    yield proxy
    proxy.stop()


@pytest.fixture
def instant_botocore_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore retries at once: its backoff (up to seconds per retry) would make fault tests
    slow, and the tests count attempts, not seconds."""
    from botocore.retries.standard import ExponentialBackoff

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


# -- AWS-shaped faults -------------------------------------------------------------------
def aws_error(code: str, message: str, status: int = 400) -> Reply:
    """An error as AWS sends it: JSON body with ``__type`` and the ``x-amzn-ErrorType`` header
    (read by both the JSON protocols and Lambda's REST protocol)."""
    body = json.dumps({"__type": code, "message": message, "Message": message}).encode()
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "x-amzn-ErrorType": f"{code}:",
        "x-amzn-RequestId": f"fault-{random.randrange(16**8):08x}",
    }
    return Reply(status, body, headers)


def throttle(service: str | None) -> Reply:
    """Lambda answers 429 TooManyRequestsException; JSON services 400 ThrottlingException."""
    if service == "lambda":
        return aws_error("TooManyRequestsException", "Rate exceeded.", 429)
    return aws_error("ThrottlingException", "Rate exceeded", 400)


def server_error() -> Reply:
    return aws_error("ServiceException", "Internal failure injected by the fault proxy", 500)


# -- IAM ------------------------------------------------------------------------------
# Lambda's REST routes (API version 2015-03-31) and the IAM action each needs; the JSON-protocol
# services name their operation in X-Amz-Target, and their IAM prefix is the SigV4 scope's.
_LAMBDA_ROUTES = (
    ("POST", re.compile(r"^/2015-03-31/functions/[^/]+/invocations$"), "InvokeFunction"),
    ("GET", re.compile(r"^/2015-03-31/functions/?$"), "ListFunctions"),
    ("GET", re.compile(r"^/2015-03-31/functions/[^/]+/configuration$"), "GetFunctionConfiguration"),
    ("GET", re.compile(r"^/2015-03-31/functions/[^/]+$"), "GetFunction"),
)


def iam_action(request: ProxyRequest) -> str | None:
    """The IAM action an AWS request needs (``states:StartExecution``), or None if unknown."""
    service = request.service
    if service is None:
        return None
    if request.target:
        return f"{service}:{request.target.split('.')[-1]}"
    if service == "lambda":
        path = urllib.parse.urlsplit(request.path).path
        for method, route, action in _LAMBDA_ROUTES:
            if request.method == method and route.match(path):
                return f"lambda:{action}"
    return None


class IamPolicy:
    """A proxy rule enforcing an identity policy that allows exactly ``allowed`` actions.

    Every other call (and any call whose action is unknown) is answered with
    ``AccessDeniedException`` in AWS's words and recorded in :attr:`denied`.
    ``aws_faults.add_rule(IamPolicy("states:StartExecution", ...))``.
    """

    def __init__(self, *allowed: str) -> None:
        self.allowed = frozenset(allowed)
        self.denied: list[str] = []
        self.seen: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, request: ProxyRequest) -> Reply | None:
        action = iam_action(request) or f"unknown:{request.action}"
        with self._lock:
            self.seen.append(action)
            if action in self.allowed:
                return None
            self.denied.append(action)
        message = (
            f"User: arn:aws:iam::123456789012:user/paradime-test is not authorized to perform: "
            f"{action} because no identity-based policy allows the {action} action"
        )
        return aws_error(
            "AccessDeniedException", message, 403 if request.service == "lambda" else 400
        )


__all__ = [
    "RESET",
    "AwsEnv",
    "Delay",
    "FaultProxy",
    "IamPolicy",
    "Lost",
    "MotoServer",
    "aws_environment",
    "aws_error",
    "iam_action",
    "server_error",
    "throttle",
    "when",
]
