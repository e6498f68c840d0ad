"""What the user gives the SageMaker commands, checked before any AWS call.

Pipeline names and ARNs, pipeline parameters (``--parameter`` and ``--parameters-file``), the
execution's display name and description. Every check raises :class:`~paradime.api.UsageError`
naming the problem, so a bad value exits 2 before anything reaches SageMaker. This module imports
no boto3: it is loaded when the commands are declared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from paradime.api import UsageError
from paradime.inputs import load_json, read_input
from paradime_aws_common.arn import Arn, looks_like_arn, parse_arn

# SageMaker's own constraints (API reference of CreatePipeline / StartPipelineExecution).
PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
PIPELINE_NAME_MAX = 256
DISPLAY_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$")
DISPLAY_NAME_MAX = 82
PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
PARAMETER_NAME_MAX = 256
PARAMETER_VALUE_MAX = 1024
PARAMETERS_MAX = 200
DESCRIPTION_MAX = 3072
# A --parameters-file is read up to this size: 200 parameters of 1 KiB values for several
# pipelines fit many times over.
PARAMETERS_FILE_LIMIT = 4 * 1024 * 1024

_NAME_RULE = "letters, digits and hyphens, starting and ending with a letter or digit"


@dataclass(frozen=True)
class PipelineRef:
    """A pipeline as the user named it: by name, or by ARN (whose region then wins)."""

    given: str
    name: str
    arn: Arn | None = None

    @property
    def region(self) -> str | None:
        return self.arn.region if self.arn else None


def _check_name(name: str, what: str) -> str:
    if len(name) > PIPELINE_NAME_MAX or not PIPELINE_NAME.match(name):
        raise UsageError(
            f"{what} '{name}' is not a valid SageMaker pipeline name ({_NAME_RULE}; "
            f"at most {PIPELINE_NAME_MAX} characters)"
        )
    return name


def pipeline_ref(value: str) -> PipelineRef:
    """Parse a ``--pipeline-name`` value: a pipeline name or a pipeline ARN."""
    if not looks_like_arn(value):
        return PipelineRef(value, _check_name(value, "pipeline name"))
    arn = parse_arn(value, service="sagemaker", resource_type="pipeline")
    parts = arn.resource.split("/")
    if len(parts) > 2 and parts[2] == "execution":
        raise UsageError(f"'{value}' is a pipeline execution ARN; give the pipeline's name or ARN")
    if len(parts) != 2 or not parts[1]:
        raise UsageError(f"'{value}' is not a pipeline ARN (expected ...:pipeline/NAME)")
    return PipelineRef(value, _check_name(parts[1], "the ARN's pipeline name"), arn)


def validate_target(value: str) -> str:
    """``TargetOption.validate``: reject a malformed name or ARN, keep the user's spelling."""
    pipeline_ref(value)
    return value


def canonical_target(value: str, params: Mapping[str, Any]) -> tuple[str | None, ...]:
    """``TargetOption.canonical``: region, account and name. A name is looked up in the
    command's region (unknown offline when it comes from a profile) and the caller's account
    (unknown offline): it agrees with an ARN of that name there."""
    ref = pipeline_ref(value)
    if ref.arn is None:
        return (params.get("aws_region") or None, None, ref.name)
    return (ref.arn.region, ref.arn.account, ref.name)


# -- parameters ---------------------------------------------------------------------------
def _check_parameter(name: str, value: str, where: str) -> None:
    if not name:
        raise UsageError(f"{where}: empty parameter name")
    if len(name) > PARAMETER_NAME_MAX or not PARAMETER_NAME.match(name):
        raise UsageError(
            f"{where}: '{name}' is not a valid parameter name (letters, digits, '-' and '_'; "
            f"at most {PARAMETER_NAME_MAX} characters)"
        )
    if len(value) > PARAMETER_VALUE_MAX:
        raise UsageError(
            f"{where}: the value of parameter '{name}' has {len(value)} characters; "
            f"SageMaker accepts at most {PARAMETER_VALUE_MAX}"
        )


def parse_parameter_options(values: Iterable[str]) -> dict[str, str]:
    """``--parameter NAME=VALUE`` (repeated) to a mapping; a name given twice is refused (which
    value was meant cannot be told)."""
    parameters: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"'{item}' is not NAME=VALUE")
        name = name.strip()
        _check_parameter(name, value, f"'{_shorten(item)}'")
        if name in parameters:
            raise UsageError(f"parameter '{name}' is given twice; give it once")
        parameters[name] = value
    return parameters


def _scalar(value: Any) -> str | None:
    """A JSON scalar as SageMaker's string parameter value; None for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return None


@dataclass(frozen=True)
class ParametersFile:
    """The parameters of a ``--parameters-file``.

    A top-level key whose value is a string, number or boolean is a parameter for every
    pipeline; a top-level key whose value is an object names a pipeline (by name or by ARN) and
    holds that pipeline's own parameters, which win over the common ones.
    """

    path: str = ""
    common: dict[str, str] = field(default_factory=dict)
    per_pipeline: dict[str, dict[str, str]] = field(default_factory=dict)

    def for_pipeline(self, ref: PipelineRef) -> dict[str, str]:
        """Common parameters, then the entry for the pipeline's name, then for its exact ARN."""
        merged = dict(self.common)
        merged.update(self.per_pipeline.get(ref.name, {}))
        if ref.arn is not None:
            merged.update(self.per_pipeline.get(ref.given, {}))
        return merged


def load_parameters_file(path: str) -> ParametersFile:
    """Read and check a ``--parameters-file`` (see :class:`ParametersFile`)."""
    limit = f"a parameters file may hold at most {PARAMETERS_FILE_LIMIT:,} bytes"
    read = read_input(path, PARAMETERS_FILE_LIMIT, limit)
    document = load_json(read.text, read.source)
    if not isinstance(document, dict):
        raise UsageError(f"'{path}' must hold a JSON object, not {_json_type(document)}")
    common: dict[str, str] = {}
    per_pipeline: dict[str, dict[str, str]] = {}
    for key, value in document.items():
        if isinstance(value, dict):
            try:
                validate_target(key)
            except UsageError as exc:
                raise UsageError(f"'{path}': key '{key}' holds an object: {exc}") from None
            per_pipeline[key] = _parameters_of(value, f"'{path}', pipeline '{key}'")
            continue
        text_value = _scalar(value)
        if text_value is None:
            raise UsageError(
                f"'{path}': '{key}' is {_json_type(value)}; a parameter value must be a string, "
                "number or boolean (or an object of parameters for the pipeline of that name)"
            )
        _check_parameter(key, text_value, f"'{path}'")
        common[key] = text_value
    return ParametersFile(path, common, per_pipeline)


def _parameters_of(entry: Mapping[str, Any], where: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for name, value in entry.items():
        text_value = _scalar(value)
        if text_value is None:
            raise UsageError(
                f"{where}: parameter '{name}' is {_json_type(value)}; "
                "a value must be a string, number or boolean"
            )
        _check_parameter(name, text_value, where)
        parameters[name] = text_value
    return parameters


def check_parameter_count(cli: Mapping[str, str], parameters_file: ParametersFile | None) -> None:
    """Reject more than SageMaker's 200 parameters for any pipeline, before any call."""
    entries: list[tuple[str, Mapping[str, str]]] = [("", {})]
    if parameters_file is not None:
        entries += list(parameters_file.per_pipeline.items())
    common = parameters_file.common if parameters_file is not None else {}
    for key, own in entries:
        count = len({**common, **own, **cli})
        if count > PARAMETERS_MAX:
            whom = f" for pipeline '{key}'" if key else ""
            raise UsageError(
                f"{count} pipeline parameters{whom}; SageMaker accepts at most {PARAMETERS_MAX}"
            )


# -- execution name and description ---------------------------------------------------
def parse_display_name(value: str) -> str:
    if len(value) > DISPLAY_NAME_MAX or not DISPLAY_NAME.match(value):
        raise UsageError(
            f"'{_shorten(value)}' is not a valid execution display name ({_NAME_RULE}, "
            f"no underscores or spaces; at most {DISPLAY_NAME_MAX} characters)"
        )
    return value


def parse_description(value: str) -> str:
    if len(value) > DESCRIPTION_MAX:
        raise UsageError(f"{len(value)} characters; SageMaker accepts at most {DESCRIPTION_MAX}")
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
