"""Function names as users give them: a name, a partial ARN or a full ARN, with a qualifier.

Checked before any AWS call, so a typo is a usage error (exit 2) rather than a failed run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from paradime.api import UsageError
from paradime_aws_common.arn import parse_arn

# Lambda's own rules: a name is 1-64 letters, digits, '-' or '_'; a qualifier is $LATEST, a
# version number or an alias (1-128 letters, digits, '-' or '_').
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_QUALIFIER = re.compile(r"^(\$LATEST|[A-Za-z0-9_-]{1,128})$")
_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class FunctionRef:
    """One target: what to send as ``FunctionName``, and what it says about itself."""

    function_name: str  # as sent to Lambda, without the qualifier
    name: str  # the bare function name
    qualifier: str | None
    region: str | None  # a full ARN's region; None means the command's region
    account: str | None = None  # an ARN's account; None means the caller's


def check_qualifier(value: str) -> str:
    """A version number, an alias or ``$LATEST``."""
    if not _QUALIFIER.match(value):
        raise UsageError(
            f"'{value}' is not a Lambda qualifier (a version number, an alias or $LATEST)"
        )
    return value


def _name_and_qualifier(given: str, rest: list[str]) -> tuple[str, str | None]:
    if not rest or len(rest) > 2:
        raise UsageError(f"'{given}' is not a Lambda function name or ARN")
    name = rest[0]
    if not _NAME.match(name):
        raise UsageError(
            f"'{given}': '{name}' is not a valid Lambda function name "
            "(1-64 letters, digits, '-' or '_')"
        )
    qualifier = check_qualifier(rest[1]) if len(rest) == 2 else None
    return name, qualifier


def parse_function(value: str) -> FunctionRef:
    """Parse ``name``, ``name:qualifier``, ``account:function:name[:qualifier]`` or
    ``arn:partition:lambda:region:account:function:name[:qualifier]``."""
    value = value.strip()
    if value.startswith("arn:"):
        arn = parse_arn(value, "lambda", "function")
        if "/" in arn.resource:
            # Lambda's ARNs separate the qualifier with ':'; 'f1/live' names no function.
            raise UsageError(
                f"'{value}' is not a Lambda function ARN (a qualifier follows ':', not '/')"
            )
        name, qualifier = _name_and_qualifier(value, arn.resource_parts[1:])
        function_name = f"arn:{arn.partition}:lambda:{arn.region}:{arn.account}:function:{name}"
        return FunctionRef(function_name, name, qualifier, arn.region, arn.account)
    parts = value.split(":")
    if len(parts) >= 3 and parts[1] == "function":
        if not _ACCOUNT.match(parts[0]):
            raise UsageError(f"'{value}' has an invalid account id '{parts[0]}' (12 digits)")
        name, qualifier = _name_and_qualifier(value, parts[2:])
        return FunctionRef(f"{parts[0]}:function:{name}", name, qualifier, None, parts[0])
    name, qualifier = _name_and_qualifier(value, parts)
    return FunctionRef(name, name, qualifier, None)


def canonical_target(value: str, params: Mapping[str, Any]) -> tuple[str | None, ...]:
    """``TargetOption.canonical``: region, account, name and qualifier (unqualified is
    ``$LATEST``). A name without a region is in the command's region (unknown offline when it
    comes from a profile); one without an account in the caller's (unknown offline)."""
    ref = parse_function(value)
    region = ref.region or params.get("aws_region") or None
    return (region, ref.account, ref.name, ref.qualifier or "$LATEST")


def validate_target(value: str) -> str:
    """The target option's check: reject what Lambda would reject, keep the user's spelling."""
    parse_function(value)
    return value.strip()
