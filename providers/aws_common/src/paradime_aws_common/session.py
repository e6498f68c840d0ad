"""One boto3 Session per command, made in the main thread; clients shared across threads.

boto3 clients are thread-safe, sessions are not: :class:`AwsSession` creates the session once
(when the command's runner is built, in the main thread) and hands out cached clients under a lock,
each with a connection pool at least as large as the command's concurrency.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from typing import Any

from paradime.api import RunContext, SetupError, UsageError

DEFAULT_REGION = "us-east-1"
CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 60
# botocore "standard" retry mode: throttles, 5xx and connection errors, with backoff and jitter.
DEFAULT_MAX_ATTEMPTS = 4


@functools.lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region of every partition in botocore's endpoint data."""
    import botocore.session

    partitions = botocore.session.get_session().get_data("endpoints").get("partitions", [])
    return frozenset(region for partition in partitions for region in partition.get("regions", {}))


def check_region(region: str) -> str:
    """Reject a region botocore does not know (a typo such as ``us-est-1``), before any call.

    A typo would otherwise fail at the first request, or worse look like a network fault. A
    region opened after the installed botocore was released is unknown too: the message says
    to upgrade boto3.
    """
    if region in known_regions():
        return region
    import botocore

    raise UsageError(
        f"unknown AWS region '{region}' (botocore {botocore.__version__} knows "
        f"{len(known_regions())} regions; if '{region}' is newer than that, upgrade boto3)"
    )


class AwsSession:
    """The command's boto3 session and its clients."""

    def __init__(self, params: Mapping[str, Any], context: RunContext) -> None:
        import boto3
        import botocore.exceptions

        key_id = params.get("aws_access_key_id")
        secret = params.get("aws_secret_access_key")
        token = params.get("aws_session_token")
        if bool(key_id) != bool(secret):
            missing = "--aws-secret-access-key" if key_id else "--aws-access-key-id"
            raise UsageError(
                f"{missing} is needed with the other key (or neither, for the credential chain)"
            )
        if token and not key_id:
            raise UsageError(
                "--aws-session-token needs --aws-access-key-id and --aws-secret-access-key"
            )
        self.endpoint_url: str | None = params.get("endpoint_url")
        self.max_concurrency = context.max_concurrency
        self._lock = threading.Lock()
        self._clients: dict[tuple[Any, ...], Any] = {}
        try:
            self.session = boto3.Session(
                aws_access_key_id=key_id or None,
                aws_secret_access_key=secret or None,
                aws_session_token=token or None,
                profile_name=params.get("aws_profile") or None,
            )
        except botocore.exceptions.ProfileNotFound as exc:
            raise UsageError(str(exc)) from None
        region = params.get("aws_region") or self.session.region_name or DEFAULT_REGION
        self.region: str = check_region(region)
        try:
            credentials = self.session.get_credentials()
        except botocore.exceptions.BotoCoreError as exc:
            raise SetupError(f"could not load AWS credentials: {exc}") from None
        if credentials is None:
            raise SetupError(
                "no AWS credentials found: pass --aws-access-key-id and --aws-secret-access-key, "
                "set AWS_PROFILE, or configure the AWS credential chain"
            )
        # Credentials resolved from profiles or the environment are secrets too.
        frozen = credentials.get_frozen_credentials()
        context.add_secret(frozen.secret_key)
        if frozen.token:
            context.add_secret(frozen.token)

    def client(
        self,
        service: str,
        region: str | None = None,
        *,
        read_timeout: float = READ_TIMEOUT_S,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> Any:
        """A client for ``service``; the same object for the same arguments, from any thread.

        ``max_attempts=1`` turns botocore's own retries off, for calls that must not be repeated
        blindly (a synchronous Lambda invoke).
        """
        from botocore.config import Config

        region = region or self.region
        key = (service, region, read_timeout, max_attempts)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                config = Config(
                    region_name=region,
                    connect_timeout=CONNECT_TIMEOUT_S,
                    read_timeout=read_timeout,
                    retries={"mode": "standard", "total_max_attempts": max_attempts},
                    # Triggers and polls run in two pools of max_concurrency threads each.
                    max_pool_connections=max(10, 2 * self.max_concurrency + 2),
                    # A custom endpoint (emulator, VPC endpoint) has no "sync-" style host
                    # prefixes: botocore would otherwise send StartSyncExecution elsewhere.
                    inject_host_prefix=self.endpoint_url is None,
                    user_agent_extra="paradime/7",
                )
                client = self.session.client(
                    service, region_name=region, endpoint_url=self.endpoint_url, config=config
                )
                self._clients[key] = client
        return client


def console_url(region: str, service_path: str, fragment: str) -> str:
    """A link to the AWS console page of a resource, e.g. ``console_url(r, "states", "#/...")``."""
    return f"https://{region}.console.aws.amazon.com/{service_path}/home?region={region}{fragment}"
