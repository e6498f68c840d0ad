"""aws-sagemaker-list-pipelines: every page, the columns, and --json."""

from __future__ import annotations

from paradime.testing import run_cli
from paradime_aws_common.testing import throttle, when

COMMAND = "aws-sagemaker-list-pipelines"
COLUMNS = ["name", "arn", "created", "last_modified", "last_execution"]


def test_every_page_is_listed(aws_faults, sagemaker, pipelines):
    # ListPipelines returns at most 100 pipelines a page.
    names = [f"pipeline-{i:03d}" for i in range(130)]
    arns = pipelines(*names)
    result = run_cli(["run", COMMAND, "--json"])
    assert result.exit_code == 0, result.stderr
    rows = result.json
    assert [row["name"] for row in rows] == names
    assert [row["arn"] for row in rows] == arns
    assert aws_faults.count("ListPipelines") == 2


def test_json_rows_have_the_columns_and_the_last_execution_time(sagemaker, pipelines):
    pipelines("train", "score")
    started = run_cli(
        [
            "run",
            "aws-sagemaker-start-pipeline",
            "--pipeline-name",
            "score",
            "--no-wait-for-completion",
        ]
    )
    assert started.exit_code == 0, started.stderr
    result = run_cli(["run", COMMAND, "--json"])
    assert result.exit_code == 0, result.stderr
    score, train = result.json
    assert list(score) == COLUMNS
    assert score["name"] == "score"
    assert score["arn"] == "arn:aws:sagemaker:us-east-1:123456789012:pipeline/score"
    execution = sagemaker.executions("score")[0]
    assert score["last_execution"] == execution["StartTime"].isoformat(timespec="seconds")
    assert score["created"].endswith("+00:00")
    assert train["last_execution"] is None


def test_table_lists_names_arns_and_times(sagemaker, pipelines):
    pipelines("train", "score")
    result = run_cli(["run", COMMAND])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == ["NAME", "ARN", "CREATED", "LAST", "MODIFIED", "LAST", "EXECUTION"]
    assert lines[2].startswith("score  arn:aws:sagemaker:us-east-1:123456789012:pipeline/score")
    assert lines[3].startswith("train  ")
    assert lines[-1] == "(2 rows)"


def test_no_pipelines_is_an_empty_list(sagemaker):
    result = run_cli(["run", COMMAND, "--json"])
    assert result.exit_code == 0, result.stderr
    assert result.json == []


def test_the_region_option_chooses_where_to_list(aws, sagemaker):
    sagemaker.create_pipeline("eu-only", client=aws.client("sagemaker", "eu-west-1"))
    assert run_cli(["run", COMMAND, "--json"]).json == []
    result = run_cli(["run", COMMAND, "--aws-region", "eu-west-1", "--json"])
    assert [row["name"] for row in result.json] == ["eu-only"]


def test_old_command_name_still_works(sagemaker, pipelines):
    pipelines("train")
    result = run_cli(["run", "aws-sagemaker-list", "--json"])
    assert result.exit_code == 0, result.stderr
    assert [row["name"] for row in result.json] == ["train"]


def test_a_list_throttled_beyond_retries_says_so_and_exits_one(
    aws_faults, sagemaker, pipelines, instant_botocore_retries, fast_polling
):
    pipelines("train")
    aws_faults.add_rule(when(throttle("sagemaker"), action="ListPipelines"))
    result = run_cli(["run", COMMAND])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (  # after the heading and the retries
        "❌ AWS Error: ThrottlingException - ListPipelines in us-east-1: Rate exceeded (6 "
        "attempts at one page; the list is incomplete, so none of it is shown)"
    )
    assert result.stdout == ""


def test_a_list_page_throttled_once_still_gives_the_whole_list(
    aws_faults, sagemaker, pipelines, fast_polling
):
    """Core reads a throttled page again (before: botocore's retries alone, then exit 1)."""
    for name in ("a", "b", "c"):
        pipelines(name)
    aws_faults.add_rule(when(throttle("sagemaker"), action="ListPipelines", times=5))
    result = run_cli(["run", COMMAND, "--json"])
    assert result.exit_code == 0, result.stderr
    assert [row["name"] for row in result.json] == ["a", "b", "c"]
