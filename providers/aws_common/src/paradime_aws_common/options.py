"""The options every AWS command takes, declared once."""

from __future__ import annotations

import re
import urllib.parse

from paradime.api import Option, UsageError

_URL = re.compile(r"^https?://[^\s/]+(/.*)?$")


def _endpoint(value: str) -> str:
    if not _URL.match(value):
        raise UsageError(f"'{value}' is not an http(s) URL")
    try:
        port = urllib.parse.urlsplit(value).port
    except ValueError:  # out of range, or not a number
        port = 0
    if port == 0:
        raise UsageError(f"'{value}' has an invalid port: give a number from 1 to 65535")
    return value.rstrip("/")


def _nonempty(value: str) -> str:
    if not value.strip():
        raise UsageError("must not be empty")
    return value.strip()


def _region(value: str) -> str:
    """A region botocore knows, checked with the other options (before standard input is
    read); a region from a profile is checked when the session is made."""
    from paradime_aws_common.session import check_region

    return check_region(_nonempty(value))


AWS_OPTIONS: tuple[Option, ...] = (
    Option(
        "--aws-access-key-id",
        "AWS access key id. Without keys, boto3's credential chain applies "
        "(profiles, SSO, instance roles).",
        envvar="AWS_ACCESS_KEY_ID",
        parse=_nonempty,
    ),
    Option(
        "--aws-secret-access-key",
        "AWS secret access key (never printed).",
        envvar="AWS_SECRET_ACCESS_KEY",
        secret=True,
        parse=_nonempty,
    ),
    Option(
        "--aws-session-token",
        "AWS session token for temporary credentials (never printed).",
        envvar="AWS_SESSION_TOKEN",
        secret=True,
    ),
    Option(
        "--aws-region",
        "AWS region. Default: the profile's region, else us-east-1. "
        "An ARN's own region wins for that target.",
        envvar=("AWS_DEFAULT_REGION", "AWS_REGION"),
        parse=_region,
    ),
    Option(
        "--aws-profile",
        "Named profile from the AWS config files. Given here, its credentials win over keys in "
        "the environment, as in the AWS CLI; from AWS_PROFILE, they do not.",
        envvar="AWS_PROFILE",
        # An empty name (an unset $PROFILE in a template) would silently sign with other
        # credentials, maybe another account's.
        parse=_nonempty,
    ),
    Option(
        "--endpoint-url",
        "Custom AWS endpoint for every service (LocalStack, moto, a VPC endpoint). Without it, "
        "botocore's AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL and config file apply.",
        envvar="AWS_ENDPOINT_URL",
        parse=_endpoint,
    ),
)
