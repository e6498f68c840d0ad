"""Every example command of the user documentation runs, as written, against the emulator.

The examples are the ``paradime ...`` commands of the ```sh blocks of README.md and
docs/providers/*.md (``pip install`` and benchmark lines are not product commands). Each one is
followed in its block by the outcome it documents, ``# exit N: what happens``. The resources an
example names (functions, aliases, state machines, pipelines, in the regions their ARNs name,
account 123456789012 being the emulator's) are created first, so the command runs verbatim: only
the environment points it at the emulator. The test checks the documented exit code, and for a
trigger command that the service saw exactly one run per target.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from paradime.testing import run_cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs" / "providers").glob("*.md"))]
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)
EXPECTATION = re.compile(r"^#\s*exit (\d+)\b")
DEFAULT_REGION = "us-east-1"
TARGET_OPTIONS = {
    "aws-lambda-invoke": "--function-name",
    "aws-stepfunctions-start-execution": "--state-machine-arn",
    "aws-sagemaker-start-pipeline": "--pipeline-name",
}


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
                        tuple(shlex.split(line)),
                        int(expected.group(1)) if expected else None,
                    )
                )
    return found


EXAMPLES = examples()


def test_every_provider_doc_has_examples_for_each_of_its_commands():
    documented = {example.command for example in EXAMPLES}
    for command in (*TARGET_OPTIONS, "aws-lambda-list-functions"):
        assert command in documented
    for command in ("aws-stepfunctions-list-state-machines", "aws-sagemaker-list-pipelines"):
        assert command in documented


# -- resources named by an example ----------------------------------------------------------
def _arn_parts(value: str, service: str) -> list[str] | None:
    parts = value.split(":")
    return parts if value.startswith(f"arn:aws:{service}:") else None


def _create_functions(example: Example, emulators: Any) -> None:
    for target in example.option("--function-name"):
        parts = _arn_parts(target, "lambda")
        region = parts[3] if parts else example.region
        name, _, qualifier = (":".join(parts[6:]) if parts else target).partition(":")
        emulators.functions.create(name, region=region)
        if qualifier and not qualifier.isdigit() and qualifier != "$LATEST":
            client = emulators.aws.client("lambda", region)
            version = client.publish_version(FunctionName=name)["Version"]
            client.create_alias(FunctionName=name, Name=qualifier, FunctionVersion=version)


def _create_machines(example: Example, emulators: Any) -> list[str]:
    from paradime_aws_stepfunctions.testing import pass_machine

    arns = []
    for target in example.option("--state-machine-arn"):
        parts = _arn_parts(target, "states")
        region, name = (parts[3], parts[6]) if parts else (example.region, target)
        arns.append(emulators.machines.arn(name, pass_machine(), region=region))
    return arns


def _create_pipelines(example: Example, emulators: Any) -> list[tuple[str, Any]]:
    created = []
    for target in example.option("--pipeline-name"):
        parts = _arn_parts(target, "sagemaker")
        region = parts[3] if parts else example.region
        name = target.rsplit("pipeline/", 1)[1] if parts else target
        client = emulators.aws.client("sagemaker", region)
        emulators.sagemaker.create_pipeline(name, client=client)
        created.append((name, client))
    return created


def _create_listed(example: Example, emulators: Any) -> None:
    from paradime_aws_stepfunctions.testing import pass_machine

    names = ("nightly-report", "nightly-export", "weekly-report")
    if example.command == "aws-lambda-list-functions":
        emulators.functions.create(*names, region=example.region)
    elif example.command == "aws-stepfunctions-list-state-machines":
        for name in names:
            emulators.machines.arn(name, pass_machine(), region=example.region)
    elif example.command == "aws-sagemaker-list-pipelines":
        client = emulators.aws.client("sagemaker", example.region)
        for name in names:
            emulators.sagemaker.create_pipeline(name, client=client)


def _runs_seen(example: Example, emulators: Any, arns: list[str], pipes: list[Any]) -> list[int]:
    """How many runs the service saw for each target of a trigger command."""
    if example.command == "aws-lambda-invoke":
        invoked = emulators.lambda_.invoked()
        names = [t.split(":function:")[-1].split(":")[0] for t in example.option("--function-name")]
        return [sum(1 for i in invoked if i.function.endswith(name)) for name in names]
    if example.command == "aws-stepfunctions-start-execution":
        return [len(emulators.machines.executions(arn, region=arn.split(":")[3])) for arn in arns]
    return [len(emulators.sagemaker.executions(name, client=client)) for name, client in pipes]


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_the_documented_example_runs_with_its_documented_outcome(example, emulators, fast_polling):
    assert example.exit_code is not None, (
        f"{example}: follow the command with its documented outcome, '# exit N: ...'"
    )
    _create_functions(example, emulators)
    arns = _create_machines(example, emulators)
    pipes = _create_pipelines(example, emulators)
    _create_listed(example, emulators)
    result = run_cli(list(example.argv[1:]))
    assert result.exit_code == example.exit_code, f"{example}\n{result.stderr}\n{result.stdout}"
    assert "Traceback" not in result.stderr
    if example.command in TARGET_OPTIONS:
        targets = example.option(TARGET_OPTIONS[example.command])
        assert _runs_seen(example, emulators, arns, pipes) == [1] * len(targets)
    else:
        assert "nightly-report" in result.stdout
