"""Every example command of the user documentation runs, as written, against the emulator.

The examples are the ``paradime ...`` commands of the ```sh blocks of README.md,
docs/from-the-spec.md and docs/providers/*.md (``pip install``, ``export`` and benchmark lines
are not product commands).
Each one is followed in its block by the outcome it documents, ``# exit N: what happens``. The
resources an example names (functions, aliases, state machines, pipelines, in the regions their
ARNs name, account 123456789012 being the emulator's; Fivetran connectors, Airbyte connections
in their fakes) are created first, so the command runs verbatim: only the environment points it
at the emulator or the fake. The test checks the documented exit code, and for a trigger command
that the service saw exactly one run per target (none for a usage error, exit 2).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from paradime.testing import run_cli
from paradime_airbyte.testing import airbyte_api, airbyte_fakes

__all__ = ["airbyte_api", "airbyte_fakes"]  # fixtures, registered by being imported here

ROOT = Path(__file__).resolve().parents[1]
DOCS = [
    ROOT / "README.md",
    ROOT / "docs" / "from-the-spec.md",
    *sorted((ROOT / "docs" / "providers").glob("*.md")),
]
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)
EXPECTATION = re.compile(r"^#\s*exit (\d+)\b")
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Example:
    doc: str
    line: int
    argv: tuple[str, ...]
    exit_code: int | None  # None: the documentation gives no outcome (a failure of its own)

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def command(self) -> str:
        return self.argv[2] if len(self.argv) > 2 and self.argv[1] == "run" else ""

    def option(self, name: str) -> list[str]:
        """Every value of ``name`` (repeated, comma-separated), in order."""
        values = [b for a, b in zip(self.argv, self.argv[1:], strict=False) if a == name]
        return [item for value in values for item in value.split(",")]

    @property
    def region(self) -> str:
        return (self.option("--aws-region") or [DEFAULT_REGION])[-1]


def _logical_lines(block: str, first_line: int) -> Iterator[tuple[int, str]]:
    """The block's lines with ``\\`` continuations joined, each with its line number."""
    pending, start = "", first_line
    for offset, raw in enumerate(block.splitlines()):
        if not pending:
            start = first_line + offset
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        yield start, (pending + raw).strip()
        pending = ""


def examples() -> list[Example]:
    found: list[Example] = []
    for doc in DOCS:
        text = doc.read_text()
        for block in BLOCK.finditer(text):
            first_line = text.count("\n", 0, block.start(1)) + 1
            lines = list(_logical_lines(block.group(1), first_line))
            for i, (number, line) in enumerate(lines):
                if not line.startswith("paradime "):
                    continue
                following = lines[i + 1][1] if i + 1 < len(lines) else ""
                expected = EXPECTATION.match(following)
                found.append(
                    Example(
                        str(doc.relative_to(ROOT)),
                        number,
                        tuple(shlex.split(line, comments=True)),
                        int(expected.group(1)) if expected else None,
                    )
                )
    return found


EXAMPLES = examples()


def test_every_provider_doc_has_examples_for_each_of_its_commands():
    documented = {example.command for example in EXAMPLES}
    assert set(ARRANGE) <= documented, set(ARRANGE) - documented


# -- what an example names, created for it ------------------------------------------------
# Each command's arrangement creates the resources an example names and returns a probe: how
# many runs the service saw per target (trigger commands), or None (list commands, which are
# given three resources to list, "nightly-report" among them).
LISTED = ("nightly-report", "nightly-export", "weekly-report")


@dataclass
class Services:
    emulators: Any
    fivetran: Any
    airbyte: Any

    def env_for(self, command: str) -> dict[str, str]:
        if command.startswith("fivetran-"):
            return dict(self.fivetran.env)
        if command.startswith("airbyte-"):
            return dict(self.airbyte.env)
        return {}


Probe = Callable[[], list[int]] | None


def _arn_parts(value: str, service: str) -> list[str] | None:
    parts = value.split(":")
    return parts if value.startswith(f"arn:aws:{service}:") else None


def _lambda_invoke(example: Example, services: Services) -> Probe:
    emulators = services.emulators
    names = []
    for target in example.option("--function-name"):
        parts = _arn_parts(target, "lambda")
        region = parts[3] if parts else example.region
        name, _, qualifier = (":".join(parts[6:]) if parts else target).partition(":")
        emulators.functions.create(name, region=region)
        names.append(name)
        if qualifier and not qualifier.isdigit() and qualifier != "$LATEST":
            client = emulators.aws.client("lambda", region)
            version = client.publish_version(FunctionName=name)["Version"]
            client.create_alias(FunctionName=name, Name=qualifier, FunctionVersion=version)

    def seen() -> list[int]:
        invoked = emulators.lambda_.invoked()
        return [sum(1 for i in invoked if i.function.endswith(name)) for name in names]

    return seen


def _sfn_start(example: Example, services: Services) -> Probe:
    from paradime_aws_stepfunctions.testing import pass_machine

    machines = services.emulators.machines
    arns = []
    for target in example.option("--state-machine-arn"):
        parts = _arn_parts(target, "states")
        region, name = (parts[3], parts[6]) if parts else (example.region, target)
        arns.append(machines.arn(name, pass_machine(), region=region))
    return lambda: [len(machines.executions(arn, region=arn.split(":")[3])) for arn in arns]


def _sagemaker_start(example: Example, services: Services) -> Probe:
    emulators = services.emulators
    created = []
    for target in example.option("--pipeline-name"):
        parts = _arn_parts(target, "sagemaker")
        region = parts[3] if parts else example.region
        name = target.rsplit("pipeline/", 1)[1] if parts else target
        client = emulators.aws.client("sagemaker", region)
        emulators.sagemaker.create_pipeline(name, client=client)
        created.append((name, client))
    return lambda: [len(emulators.sagemaker.executions(n, client=c)) for n, c in created]


def _fivetran_sync(example: Example, services: Services) -> Probe:
    connectors = [services.fivetran.add_connector(c) for c in example.option("--connector-id")]
    return lambda: [c.started_syncs for c in connectors]


def _airbyte_sync(example: Example, services: Services) -> Probe:
    api = services.airbyte
    ids = example.option("--connection-id")
    connections = [api.add_connection(f"c{i}", connection_id=c) for i, c in enumerate(ids)]
    return lambda: [len(api.jobs_of(c)) for c in connections]


def _lambda_list(example: Example, services: Services) -> Probe:
    services.emulators.functions.create(*LISTED, region=example.region)
    return None


def _sfn_list(example: Example, services: Services) -> Probe:
    from paradime_aws_stepfunctions.testing import pass_machine

    for name in LISTED:
        services.emulators.machines.arn(name, pass_machine(), region=example.region)
    return None


def _sagemaker_list(example: Example, services: Services) -> Probe:
    client = services.emulators.aws.client("sagemaker", example.region)
    for name in LISTED:
        services.emulators.sagemaker.create_pipeline(name, client=client)
    return None


def _fivetran_list(example: Example, services: Services) -> Probe:
    for name in LISTED:
        services.fivetran.add_connector(name)
    return None


def _airbyte_list(example: Example, services: Services) -> Probe:
    for name in LISTED:
        services.airbyte.add_connection(name)
    return None


ARRANGE: dict[str, Callable[[Example, Services], Probe]] = {
    "aws-lambda-invoke": _lambda_invoke,
    "aws-lambda-list-functions": _lambda_list,
    "aws-stepfunctions-start-execution": _sfn_start,
    "aws-stepfunctions-list-state-machines": _sfn_list,
    "aws-sagemaker-start-pipeline": _sagemaker_start,
    "aws-sagemaker-list-pipelines": _sagemaker_list,
    "fivetran-sync": _fivetran_sync,
    "fivetran-list-connectors": _fivetran_list,
    "airbyte-sync": _airbyte_sync,
    "airbyte-list-connections": _airbyte_list,
}


@pytest.fixture
def services(emulators: Any, fivetran: Any, airbyte_api: Any) -> Services:
    return Services(emulators, fivetran, airbyte_api)


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_the_documented_example_runs_with_its_documented_outcome(example, services, fast_polling):
    assert example.exit_code is not None, (
        f"{example}: follow the command with its documented outcome, '# exit N: ...'"
    )
    assert example.command in ARRANGE, f"{example}: no arrangement for {example.command}"
    probe = ARRANGE[example.command](example, services)
    result = run_cli(list(example.argv[1:]), env=services.env_for(example.command))
    assert result.exit_code == example.exit_code, f"{example}\n{result.stderr}\n{result.stdout}"
    assert "Traceback" not in result.stderr
    if probe is None:
        assert "nightly-report" in result.stdout
    else:
        runs = 0 if example.exit_code == 2 else 1  # exit 2 promises nothing was started
        assert probe() == [runs] * len(probe()), f"{example}: {runs} run(s) per target"
