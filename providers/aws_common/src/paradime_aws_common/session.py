"""One AWS session per command, made in the main thread; clients shared across threads.

Clients are thread-safe, sessions are not: :class:`AwsSession` creates the session once (when the
command's runner is built, in the main thread) and hands out cached clients under a lock, each
with a connection pool as large as the engine's threads calling at once
(:attr:`paradime.api.RunContext.pool_size`): urllib3 opens connections only as calls need them,
so a client never holds more connections than there are threads calling it.

The session is botocore's own, made the way ``boto3.Session`` makes it (the same profile and
keys, hence the same credentials): ``import boto3`` would also import s3transfer for S3
transfers no command makes, a tenth of a second of every run's start. Region names are checked
against botocore's partition data, read through the loader the session then uses, so each data
file is parsed once per run.

Which credentials sign follows boto3 and the AWS CLI exactly (botocore's credential resolver
drops the environment's keys when a profile is named explicitly):

1. keys typed as options (``--aws-access-key-id``/``--aws-secret-access-key``);
2. a profile typed as an option (``--aws-profile``), over any keys in the environment;
3. ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` (and ``AWS_SESSION_TOKEN``);
4. ``AWS_PROFILE``;
5. the rest of botocore's chain (the default profile, SSO, containers, instance roles).

The endpoint likewise: ``--endpoint-url`` typed is used for every client; otherwise botocore's
own lookup applies (``AWS_ENDPOINT_URL_<SERVICE>``, ``AWS_ENDPOINT_URL``, the config file).
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
from collections.abc import Mapping
from typing import Any

from paradime.api import OptionSource, RunContext, SetupError, UsageError
from paradime_aws_common.secrets import SECRET_PATTERNS, watch_credentials

DEFAULT_REGION = "us-east-1"
CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 60
# botocore "standard" retry mode: throttles, 5xx and connection errors, with backoff and jitter.
DEFAULT_MAX_ATTEMPTS = 4
# NAT gateways and many firewalls drop a connection idle for 350 s, and a synchronous Lambda
# invoke or StartSyncExecution is silent for as long as the run lasts: probe after 60 s of
# silence, every 15 s, and give up after 4 unanswered probes (botocore's own tcp_keepalive
# keeps the OS defaults: 2 hours of silence first on Linux).
KEEPALIVE_IDLE_S = 60
KEEPALIVE_INTERVAL_S = 15
KEEPALIVE_PROBES = 4
_CONSOLE_DOMAINS = {
    "aws": "https://{region}.console.aws.amazon.com",
    "aws-cn": "https://console.amazonaws.cn",
    "aws-us-gov": "https://console.amazonaws-us-gov.com",
}


@functools.lru_cache(maxsize=1)
def data_loader() -> Any:
    """botocore's data loader, shared by region checks and the command's session (it caches
    what it has read, per loader)."""
    from botocore.loaders import create_loader

    return create_loader(os.environ.get("AWS_DATA_PATH"))


@functools.lru_cache(maxsize=1)
def region_partitions() -> Mapping[str, str]:
    """Every region of every partition botocore knows, with its partition.

    From botocore's partition data (a few KB, and the file clients read for their endpoint
    rules), not its 1 MB legacy endpoint data: the same partitions, and regions opened since
    that file stopped growing.
    """
    partitions = data_loader().load_data("partitions").get("partitions", [])
    return {
        region: str(partition["id"])
        for partition in partitions
        for region in partition.get("regions", {})
    }


def known_regions() -> frozenset[str]:
    """Every region of every partition in botocore's endpoint data."""
    return frozenset(region_partitions())


def partition_of(region: str) -> str | None:
    """``aws``, ``aws-cn``, ``aws-us-gov``... for a region botocore knows, else None."""
    return region_partitions().get(region)


def check_region(region: str) -> str:
    """Reject a region botocore does not know (a typo such as ``us-est-1``), before any call.

    A typo would otherwise fail at the first request, or worse look like a network fault. A
    region opened after the installed botocore was released is unknown too: the message says
    to upgrade boto3.
    """
    if region in region_partitions():
        return region
    import botocore

    raise UsageError(
        f"unknown AWS region '{region}' (botocore {botocore.__version__} knows "
        f"{len(region_partitions())} regions; if '{region}' is newer than that, upgrade boto3)"
    )


def keepalive_socket_options() -> list[tuple[int, int, int]]:
    """TCP keep-alive timings for this platform (each option only where the OS has it)."""
    idle = getattr(socket, "TCP_KEEPIDLE", None) or getattr(socket, "TCP_KEEPALIVE", None)
    wanted = (
        (idle, KEEPALIVE_IDLE_S),
        (getattr(socket, "TCP_KEEPINTVL", None), KEEPALIVE_INTERVAL_S),
        (getattr(socket, "TCP_KEEPCNT", None), KEEPALIVE_PROBES),
    )
    return [(socket.IPPROTO_TCP, option, value) for option, value in wanted if option is not None]


def configured_endpoint(session: Any, service: str) -> str | None:
    """The endpoint botocore takes for ``service`` from the environment or the config file,
    looked up as botocore does: ``AWS_ENDPOINT_URL_<SERVICE ID>``, ``AWS_ENDPOINT_URL``, the
    profile's ``services`` section, then its ``endpoint_url``; None when there is none or
    ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` (``ignore_configured_endpoint_urls``) is set."""
    if session.get_config_variable("ignore_configured_endpoint_urls"):
        return None
    service_id = session.get_service_model(service).service_id.hyphenize().replace("-", "_")
    for variable in (f"AWS_ENDPOINT_URL_{service_id.upper()}", "AWS_ENDPOINT_URL"):
        if os.environ.get(variable):
            return os.environ[variable]
    scoped = session.get_scoped_config()
    services = session.full_config.get("services", {}).get(scoped.get("services"), {})
    url = services.get(service_id, {}).get("endpoint_url") or scoped.get("endpoint_url")
    return str(url) if url else None


class _RefreshFailureFilter(logging.Filter):
    """botocore warns, with the exception's repr, when expiring credentials or an SSO token
    cannot be refreshed, then raises it when they were needed: paradime reports that error
    itself, in one line (a row per target). The warning is for debug level only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING and str(record.msg).startswith("Refreshing"):
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


def _quiet_refresh_warnings() -> None:
    for name in ("botocore.credentials", "botocore.tokens"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RefreshFailureFilter) for f in logger.filters):
            logger.addFilter(_RefreshFailureFilter())


class AwsSession:
    """The command's AWS session and its clients."""

    def __init__(self, params: Mapping[str, Any], context: RunContext) -> None:
        # First: botocore logs what it resolves (response bodies at debug level) as it goes.
        for pattern in SECRET_PATTERNS:
            context.add_secret_pattern(pattern)
        key_id, secret, token = self._typed_keys(params, context)
        typed_profile = params.get("aws_profile") or None
        if context.option_source("aws_profile") is not OptionSource.COMMAND_LINE:
            typed_profile = None  # AWS_PROFILE: botocore reads it, after the environment's keys
        self.endpoint_url: str | None = params.get("endpoint_url")
        if context.option_source("endpoint_url") is not OptionSource.COMMAND_LINE:
            self.endpoint_url = None  # AWS_ENDPOINT_URL: botocore reads it, after _<SERVICE>
        self.pool_size = context.pool_size
        self._lock = threading.Lock()
        self._clients: dict[tuple[Any, ...], Any] = {}
        self._custom_endpoints: dict[str, bool] = {}
        _quiet_refresh_warnings()
        self.botocore_session = self._session(key_id, secret, token, typed_profile)
        # Read the config and credentials files now: a malformed one is one line, not a
        # failure of every client later.
        self._guarded(self.botocore_session.get_scoped_config)
        self._check_defaults_mode()
        region = params.get("aws_region") or self._guarded(
            lambda: self.botocore_session.get_config_variable("region")
        )
        self.region: str = check_region(region or DEFAULT_REGION)
        credentials = self._guarded(self.botocore_session.get_credentials)
        if credentials is None:
            raise SetupError(
                "no AWS credentials found: pass --aws-access-key-id and --aws-secret-access-key, "
                "set AWS_PROFILE, or configure the AWS credential chain"
            )
        # Credentials resolved from profiles or the environment are secrets too, and so is
        # every set botocore obtains later when they expire (SSO, assume-role, credential_process).
        watch_credentials(credentials, context.add_secret)
        self._guarded(credentials.get_frozen_credentials)

    @staticmethod
    def _typed_keys(
        params: Mapping[str, Any], context: RunContext
    ) -> tuple[str | None, str | None, str | None]:
        """The keys to sign with when any was typed as an option; else (None, None, None) and
        botocore's chain decides (environment keys, profiles...)."""
        names = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
        typed = [
            bool(params.get(name)) and context.option_source(name) is OptionSource.COMMAND_LINE
            for name in names
        ]
        if not any(typed):
            return None, None, None
        key_id = params.get("aws_access_key_id") or None
        secret = params.get("aws_secret_access_key") or None
        token = params.get("aws_session_token") or None
        if key_id and secret and typed[0] != typed[1]:
            # A typed key with the environment's secret signs with another key's secret.
            given, other = ("--aws-access-key-id", "AWS_SECRET_ACCESS_KEY")
            if typed[1]:
                given, other = ("--aws-secret-access-key", "AWS_ACCESS_KEY_ID")
            raise UsageError(
                f"keys given half: {given} typed, its pair only in {other}; type both options, "
                "or set both variables"
            )
        if bool(key_id) != bool(secret):
            missing = "--aws-secret-access-key" if key_id else "--aws-access-key-id"
            raise UsageError(
                f"{missing} is needed with the other key (or neither, for the credential chain)"
            )
        if token and not key_id:
            raise UsageError(
                "--aws-session-token needs --aws-access-key-id and --aws-secret-access-key"
            )
        # AWS_SESSION_TOKEN belongs to the environment's key, not to a key typed as an option.
        env_key = context.option_source("aws_access_key_id") is OptionSource.ENVIRONMENT
        if token and not typed[2] and not env_key:
            context.logger.debug("AWS_SESSION_TOKEN ignored: the access key was given as option")
            token = None
        return key_id, secret, token

    def _check_defaults_mode(self) -> None:
        """A defaults mode botocore does not know (``AWS_DEFAULTS_MODE=garbage``) fails every
        client: a usage error now, rather than a row per target."""
        import botocore.exceptions as bx

        resolve = getattr(self.botocore_session, "_resolve_defaults_mode", None)
        if resolve is None:  # another botocore: its clients say it
            return
        try:
            self._guarded(
                lambda: resolve(None, self.botocore_session.get_component("config_store"))
            )
        except SetupError as exc:
            if isinstance(exc.__context__, bx.InvalidDefaultsMode) or "defaults mode" in str(exc):
                mode = os.environ.get("AWS_DEFAULTS_MODE")
                where = "AWS_DEFAULTS_MODE" if mode else "the profile's defaults_mode"
                raise UsageError(f"invalid {where}: {str(exc).split(': ', 1)[-1]}") from None
            raise

    def _session(
        self, key_id: str | None, secret: str | None, token: str | None, profile: str | None
    ) -> Any:
        """A botocore session set up as ``boto3.Session(aws_access_key_id=..., profile_name=...)``
        sets one up: a profile named explicitly, keys given explicitly, nothing else."""
        import botocore.session

        def make() -> Any:
            session = botocore.session.get_session()
            session.register_component("data_loader", data_loader())
            if profile is not None:
                session.set_config_variable("profile", profile)
            if key_id or secret or token:
                session.set_credentials(key_id, secret, token)
            return session

        return self._guarded(make)

    def _profile_name(self) -> str:
        try:
            return str(self.botocore_session.profile or "default")
        except Exception:  # the config could not be read: name what was asked for
            return os.environ.get("AWS_PROFILE") or "default"

    def _guarded(self, step: Any) -> Any:
        """Run one step of reading the AWS configuration; its failures as one clear line."""
        import botocore.exceptions as bx

        try:
            return step()
        except bx.ProfileNotFound as exc:
            raise UsageError(str(exc)) from None
        except (bx.ConfigParseError, bx.InvalidConfigError) as exc:
            raise SetupError(f"the AWS configuration cannot be used: {exc}") from None
        except (bx.SSOError, bx.TokenRetrievalError) as exc:
            logging.getLogger(__name__).debug("SSO credentials unavailable: %s", exc)
            profile = self._profile_name()
            raise SetupError(
                f"the AWS SSO token of profile '{profile}' is missing or expired: "
                f"run 'aws sso login --profile {profile}'"
            ) from None
        except bx.BotoCoreError as exc:
            raise SetupError(f"could not load AWS credentials: {exc}") from None
        except RuntimeError as exc:  # botocore: "refreshed credentials are still expired"
            raise SetupError(f"could not load AWS credentials: {exc}") from None

    def custom_endpoint(self, service: str) -> bool:
        """True when requests for ``service`` go to an endpoint the user chose (an emulator, a
        VPC endpoint), typed or configured: AWS's host prefixes (``sync-``) do not apply."""
        if self.endpoint_url is not None:
            return True
        known = self._custom_endpoints.get(service)
        if known is None:
            url = self._guarded(lambda: configured_endpoint(self.botocore_session, service))
            known = self._custom_endpoints[service] = url is not None
        return known

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
                options: dict[str, Any] = {}
                if self.custom_endpoint(service):
                    # No "sync-" style host prefixes on an endpoint of the user's choice:
                    # botocore would otherwise send StartSyncExecution to another host.
                    options["inject_host_prefix"] = False
                config = Config(
                    region_name=region,
                    connect_timeout=CONNECT_TIMEOUT_S,
                    read_timeout=read_timeout,
                    retries={"mode": "standard", "total_max_attempts": max_attempts},
                    # One connection per engine thread that may call at once (triggers and
                    # status checks); a smaller pool would open and close one per call.
                    max_pool_connections=max(10, self.pool_size),
                    tcp_keepalive=True,
                    user_agent_extra="paradime/7",
                    **options,
                )
                client = self._guarded(
                    lambda: self.botocore_session.create_client(
                        service, region_name=region, endpoint_url=self.endpoint_url, config=config
                    )
                )
                _tune_keepalive(client)
                self._clients[key] = client
        return client


def _tune_keepalive(client: Any) -> None:
    """Add keep-alive timings to the SO_KEEPALIVE botocore sets (``tcp_keepalive``).

    botocore has no setting for them; its HTTP session hands one list of socket options to
    every connection it opens, so the timings are added to that list before the first one.
    """
    http_session = getattr(getattr(client, "_endpoint", None), "http_session", None)
    options = getattr(http_session, "_socket_options", None)
    if isinstance(options, list):
        options.extend(o for o in keepalive_socket_options() if o not in options)


def console_url(region: str, service_path: str, fragment: str) -> str | None:
    """A link to the AWS console page of a resource, e.g. ``console_url(r, "states", "#/...")``,
    on the console of the region's partition; None where that console is not public."""
    domain = _CONSOLE_DOMAINS.get(partition_of(region) or "aws")
    if domain is None:
        return None
    return f"{domain.format(region=region)}/{service_path}/home?region={region}{fragment}"
