"""What the user gives the Step Functions commands, checked before any AWS call.

State machine names and ARNs (plain, or qualified with a version or an alias), the execution's
input (``--input`` / ``--input-file``) and its name. Every check raises
:class:`~paradime.api.UsageError` naming the problem, so a bad value exits 2 before anything
reaches Step Functions. This module imports no boto3: it is loaded when the commands are declared.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from paradime.api import UsageError
from paradime.inputs import load_json, read_input
from paradime_aws_common.arn import Arn, looks_like_arn, parse_arn

# Step Functions' limits: names of state machines, executions and aliases are 1-80 characters
# without white space, brackets, wildcards, some punctuation, control characters (U+0000-001F,
# U+007F-009F, U+FFFE-FFFF), surrogates (U+D800-DFFF) or U+10FFFF, as StartExecution's API
# reference lists them; an execution's input is at most 256 KiB of UTF-8 text.
NAME_MAX = 80
INPUT_LIMIT_BYTES = 256 * 1024
INPUT_LIMIT = (
    f"Step Functions accepts at most {INPUT_LIMIT_BYTES:,} bytes (256 KiB) of execution input"
)
_FORBIDDEN = re.compile(
    r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff\U0010ffff]"
)
_VERSION = re.compile(r"^[1-9][0-9]*$")


def check_name(name: str, what: str) -> str:
    """A state machine, alias or execution name as Step Functions accepts it."""
    if not name:
        raise UsageError(f"{what} is empty")
    if len(name) > NAME_MAX:
        raise UsageError(f"{what} '{name}' is {len(name)} characters long; at most {NAME_MAX}")
    bad = _FORBIDDEN.search(name)
    if bad is not None:
        char = bad.group()
        if 0xD800 <= ord(char) <= 0xDFFF or ord(char) >= 0xFFFE:  # invisible or unprintable
            shown = f"U+{ord(char):04X}"
        else:
            shown = repr(char) if not char.isprintable() or char.isspace() else f"'{char}'"
        raise UsageError(
            f"{what} '{name.encode('utf-8', 'backslashreplace').decode()}' contains {shown}; "
            "Step Functions names may not contain white space, brackets, wildcards, control "
            "characters, U+FFFE, U+FFFF, U+10FFFF, surrogates or any of "
            '" # % \\ ^ | ~ ` $ & , ; : /'
        )
    return name


@dataclass(frozen=True)
class MachineRef:
    """A state machine as the user named it: a name, or an ARN (whose region then wins).

    ``qualifier`` is the version number or alias name of a qualified ARN
    (``...:stateMachine:nightly:3`` or ``...:stateMachine:nightly:live``).
    """

    given: str
    name: str
    arn: Arn | None = None
    qualifier: str | None = None

    @property
    def base_arn(self) -> str | None:
        """The unqualified state machine ARN: versions and aliases share its type."""
        if self.arn is None:
            return None
        a = self.arn
        return f"arn:{a.partition}:states:{a.region}:{a.account}:stateMachine:{self.name}"

    @property
    def is_version(self) -> bool:
        return self.qualifier is not None and _VERSION.match(self.qualifier) is not None


def machine_ref(value: str) -> MachineRef:
    """Parse a ``--state-machine-arn`` value: a state machine ARN or a plain name."""
    if not looks_like_arn(value):
        return MachineRef(value, check_name(value, "state machine name"))
    arn = parse_arn(value, service="states", resource_type="stateMachine")
    parts = arn.resource.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise UsageError(
            f"'{value}' is not a state machine ARN (expected ...:stateMachine:NAME, optionally "
            "followed by :VERSION or :ALIAS)"
        )
    from paradime_aws_common.session import check_region

    check_region(arn.region)
    name = check_name(parts[1], f"the state machine name in '{value}'")
    qualifier = None
    if len(parts) == 3:
        qualifier = parts[2]
        if not qualifier.isdigit():
            check_name(qualifier, f"the alias name in '{value}'")
        elif not _VERSION.match(qualifier):
            raise UsageError(f"'{value}' has an invalid version number '{qualifier}'")
    return MachineRef(value, name, arn, qualifier)


def validate_target(value: str) -> str:
    """``TargetOption.validate``: reject a malformed name or ARN, keep the user's spelling."""
    machine_ref(value)
    return value


def canonical_target(value: str, params: Mapping[str, Any]) -> tuple[str | None, ...]:
    """``TargetOption.canonical``: region, account, name and qualifier ('' for none). A name
    is looked up in the command's region (unknown offline when it comes from a profile) and
    the caller's account (unknown offline): it agrees with an ARN of that name there."""
    ref = machine_ref(value)
    if ref.arn is None:
        return (params.get("aws_region") or None, None, ref.name, "")
    return (ref.arn.region, ref.arn.account, ref.name, ref.qualifier or "")


def parse_execution_name(value: str) -> str:
    """``--execution-name``."""
    return check_name(value, "execution name")


# -- input --------------------------------------------------------------------------------
def _check_input(text: str, source: str) -> str:
    load_json(text, source)
    size = len(text.encode("utf-8"))
    if size > INPUT_LIMIT_BYTES:
        raise UsageError(f"{source} is {size:,} bytes; {INPUT_LIMIT}")
    return text


def parse_input(value: str) -> str:
    """``--input``: JSON text, sent as given."""
    return _check_input(value, "the input")


def parse_input_file(path: str) -> str:
    """``--input-file``: a path, or ``-`` for standard input; read by :func:`read_input_file`
    once the options are known not to conflict (so a usage error never waits on stdin)."""
    if not path.strip():
        raise UsageError("empty path")
    return path


def read_input_file(path: str) -> str:
    """The JSON text of an ``--input-file``, checked like ``--input``."""
    read = read_input(path, INPUT_LIMIT_BYTES, INPUT_LIMIT)
    return _check_input(read.text, read.source)
