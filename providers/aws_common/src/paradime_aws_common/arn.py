"""ARN parsing with usage errors that say what is wrong."""

from __future__ import annotations

import re
from dataclasses import dataclass

from paradime.api import UsageError

_PARTITION = re.compile(r"^aws(-[a-z]+)*$")
_REGION = re.compile(r"^[a-z]{2,}(-[a-z]+)+-\d+$")
_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class Arn:
    """``arn:partition:service:region:account:resource``."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def resource_type(self) -> str:
        return re.split(r"[:/]", self.resource, maxsplit=1)[0]

    @property
    def resource_parts(self) -> list[str]:
        return re.split(r"[:/]", self.resource)

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def looks_like_arn(value: str) -> bool:
    return value.startswith("arn:")


def parse_arn(value: str, service: str | None = None, resource_type: str | None = None) -> Arn:
    """Parse and check an ARN; raise :class:`UsageError` naming the problem."""
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise UsageError(
            f"'{value}' is not an ARN (expected arn:partition:service:region:account:resource)"
        )
    _, partition, svc, region, account, resource = parts
    if not _PARTITION.match(partition):
        raise UsageError(f"'{value}' has an unknown partition '{partition}'")
    if service is not None and svc != service:
        raise UsageError(f"'{value}' is an ARN of service '{svc or '?'}', not '{service}'")
    if not _REGION.match(region):
        raise UsageError(f"'{value}' has an invalid region '{region}'")
    # botocore's data, read only when checking
    from paradime_aws_common.session import check_region, partition_of

    try:
        check_region(region)
    except UsageError as exc:
        raise UsageError(f"'{value}': {exc}") from None
    if partition != partition_of(region):
        # arn:aws:...:cn-north-1:... names nothing: China's regions are in partition aws-cn.
        raise UsageError(
            f"'{value}' has partition '{partition}', but region '{region}' is in partition "
            f"'{partition_of(region)}'"
        )
    if not _ACCOUNT.match(account):
        raise UsageError(f"'{value}' has an invalid account id '{account}' (12 digits expected)")
    if not resource:
        raise UsageError(f"'{value}' names no resource")
    arn = Arn(partition, svc, region, account, resource)
    if resource_type is not None and arn.resource_type != resource_type:
        raise UsageError(f"'{value}' is a '{arn.resource_type}' ARN, not a '{resource_type}' ARN")
    return arn
