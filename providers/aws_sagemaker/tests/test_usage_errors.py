"""Bad input: one line naming the problem, exit code 2, and not one request sent to AWS."""

from __future__ import annotations

import json

import pytest

from paradime.testing import run_cli
from paradime.testing.proxy import FaultProxy

COMMAND = "aws-sagemaker-start-pipeline"
ARN = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/train"


@pytest.fixture(scope="module")
def counting_proxy(moto_server):  # type: ignore[no-untyped-def]
    """One proxy for the module (stopping one takes half a second): it counts AWS requests."""
    proxy = FaultProxy(moto_server.url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def bad_input(aws, counting_proxy, monkeypatch):  # type: ignore[no-untyped-def]
    """Run the command and check it stopped at exit 2, one line, before any AWS request."""
    counting_proxy.clear()
    monkeypatch.setenv("AWS_ENDPOINT_URL", counting_proxy.url)

    def run(*args: str) -> str:
        result = run_cli(["run", COMMAND, *args])
        assert result.exit_code == 2, result.stdout + result.stderr
        assert counting_proxy.count() == 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "Traceback" not in result.stderr
        return lines[0]

    return run


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("my_pipeline", "pipeline name 'my_pipeline' is not a valid SageMaker pipeline name"),
        ("-train", "'-train' is not a valid SageMaker pipeline name"),
        ("train-", "'train-' is not a valid SageMaker pipeline name"),
        ("a" * 257, "at most 256 characters"),
        (
            "arn:aws:states:eu-west-1:123456789012:stateMachine:train",
            "is an ARN of service 'states', not 'sagemaker'",
        ),
        (
            "arn:aws:sagemaker:eu-west-1:123456789012:training-job/train",
            "is a 'training-job' ARN, not a 'pipeline' ARN",
        ),
        (f"{ARN}/execution/abc123", "is a pipeline execution ARN"),
        ("arn:aws:sagemaker:eu-west-1:123456789012:pipeline/", "is not a pipeline ARN"),
        ("arn:aws:sagemaker:eu-west-1:123456789012:pipeline/bad_name", "the ARN's pipeline name"),
        ("arn:aws:sagemaker:eu-west-1:1234:pipeline/train", "invalid account id"),
    ],
)
def test_malformed_pipeline_names_and_arns(bad_input, target, words):
    line = bad_input("--pipeline-name", f"ok-one,{target}")
    assert words in line


def test_no_pipeline_given(bad_input):
    assert "missing option '--pipeline-name'" in bad_input()


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("Alpha", "'Alpha' is not NAME=VALUE"),
        ("=0.5", "empty parameter name"),
        ("Al pha=1", "'Al pha' is not a valid parameter name"),
        ("Big=" + "x" * 1025, "has 1025 characters; SageMaker accepts at most 1024"),
    ],
)
def test_malformed_parameters(bad_input, value, words):
    line = bad_input("--pipeline-name", "train", "--parameter", value)
    assert line.startswith("Error: invalid value for '--parameter': ")
    assert words in line


def test_a_value_of_exactly_1024_characters_is_accepted(sagemaker, pipelines, fast_polling):
    pipelines("train")
    result = run_cli(
        ["run", COMMAND, "--pipeline-name", "train", "--parameter", "Big=" + "x" * 1024, "--json"]
    )
    assert result.exit_code == 0, result.stderr
    assert sagemaker.parameters(result.json["results"][0]["run_id"]) == {"Big": "x" * 1024}


def test_more_than_200_parameters(bad_input, tmp_path):
    path = tmp_path / "params.json"
    path.write_text(json.dumps({"train": {f"P{i}": "v" for i in range(150)}}))
    line = bad_input(
        "--pipeline-name", "train",
        "--parameters-file", str(path),
        *[arg for i in range(60) for arg in ("--parameter", f"Q{i}=v")],
    )  # fmt: skip
    assert "210 pipeline parameters for pipeline 'train'; SageMaker accepts at most 200" in line


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "is not valid JSON: Expecting property name"),
        ('["a", "b"]', "must hold a JSON object, not an array"),
        ('{"Alpha": null}', "'Alpha' is null; a parameter value must be a string"),
        ('{"Alpha": [1]}', "'Alpha' is an array"),
        ('{"train": {"Epochs": {"deep": 1}}}', "pipeline 'train': parameter 'Epochs' is an object"),
        ('{"bad_pipeline": {"Epochs": 1}}', "key 'bad_pipeline' holds an object"),
        ('{"Bad Name": "1"}', "'Bad Name' is not a valid parameter name"),
        ('{"Big": "' + "x" * 1025 + '"}', "SageMaker accepts at most 1024"),
    ],
)
def test_malformed_parameters_files(bad_input, tmp_path, content, words):
    path = tmp_path / "params.json"
    path.write_text(content)
    line = bad_input("--pipeline-name", "train", "--parameters-file", str(path))
    assert line.startswith("Error: invalid value for '--parameters-file': ")
    assert words in line


def test_unreadable_parameters_file(bad_input, tmp_path):
    missing = tmp_path / "nope.json"
    line = bad_input("--pipeline-name", "train", "--parameters-file", str(missing))
    assert f"cannot read '{missing}': No such file or directory" in line


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("nightly_run", "'nightly_run' is not a valid execution display name"),
        ("nightly run", "no underscores or spaces"),
        ("x" * 83, "at most 82 characters"),
        ("-nightly", "is not a valid execution display name"),
    ],
)
def test_malformed_display_names(bad_input, value, words):
    line = bad_input("--pipeline-name", "train", "--display-name", value)
    assert line.startswith("Error: invalid value for '--display-name': ")
    assert words in line


def test_description_too_long(bad_input):
    line = bad_input("--pipeline-name", "train", "--description", "d" * 3073)
    assert "invalid value for '--description': 3073 characters; SageMaker accepts at most 3072" in (
        line
    )


def test_old_and_new_target_spelling_together_are_one_list(sagemaker, pipelines, fast_polling):
    pipelines("train", "score")
    result = run_cli(
        ["run", COMMAND, "--pipeline-name", "train", "--pipeline-names", "score", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {"train": "SUCCEEDED", "score": "SUCCEEDED"}
