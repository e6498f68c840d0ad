"""aws-sagemaker-start-pipeline against the emulator: what starts, with what, what is reported."""

from __future__ import annotations

import json

from paradime.testing import run_cli
from paradime_aws_common.testing import aws_error, when

COMMAND = "aws-sagemaker-start-pipeline"


def start(*args: str):  # type: ignore[no-untyped-def]
    return run_cli(["run", COMMAND, *args, "--json"])


def test_pipelines_succeed_with_execution_arn_and_console_link(sagemaker, pipelines, fast_polling):
    pipelines("train", "score")
    result = start("--pipeline-name", "train", "--pipeline-name", "score")
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {"train": "SUCCEEDED", "score": "SUCCEEDED"}
    for row in result.json["results"]:
        [execution] = sagemaker.executions(row["target"])
        assert row["run_id"] == execution["PipelineExecutionArn"]
        execution_id = row["run_id"].rsplit("/", 1)[1]
        assert row["console_url"] == (
            "https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1"
            f"#/pipelines/{row['target']}/executions/{execution_id}"
        )
        assert row["pipeline"] == row["target"]
        assert row["sagemaker_status"] == "Succeeded"


def test_parameters_reach_the_execution(sagemaker, pipelines, fast_polling):
    pipelines("train")
    result = start(
        "--pipeline-name", "train",
        "--parameter", "InputDataUrl=s3://bucket/2024-06-01/",
        "--parameter", "Filter=a=b,c",
        "--parameter", "Empty=",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert sagemaker.parameters(result.json["results"][0]["run_id"]) == {
        "InputDataUrl": "s3://bucket/2024-06-01/",
        "Filter": "a=b,c",
        "Empty": "",
    }


def test_parameters_file_common_and_per_pipeline_values_with_cli_winning(
    sagemaker, pipelines, fast_polling, tmp_path
):
    arns = pipelines("train", "score", "report")
    path = tmp_path / "params.json"
    path.write_text(
        json.dumps(
            {
                "Region": "eu",
                "Epochs": 3,
                "Alpha": 0.5,
                "Full": True,
                "train": {"Epochs": 10, "Model": "xgb"},
                arns[1]: {"Model": "linear"},
                "score": {"Model": "by-name", "Threshold": "0.7"},
                "some-other-pipeline": {"Model": "unused"},
            }
        )
    )
    result = start(
        "--pipeline-name", f"train,{arns[1]},report",
        "--parameters-file", str(path),
        "--parameter", "Region=us",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    runs = {row["target"]: row["run_id"] for row in result.json["results"]}
    common = {"Region": "us", "Epochs": "3", "Alpha": "0.5", "Full": "true"}
    assert sagemaker.parameters(runs["train"]) == {**common, "Epochs": "10", "Model": "xgb"}
    # By name, then by exact ARN: the ARN's entry is the more specific one.
    assert sagemaker.parameters(runs[arns[1]]) == {**common, "Model": "linear", "Threshold": "0.7"}
    assert sagemaker.parameters(runs["report"]) == common


def test_display_name_and_description_reach_the_execution(sagemaker, pipelines, fast_polling):
    pipelines("train")
    result = start(
        "--pipeline-name", "train",
        "--display-name", "nightly-2024-06-01",
        "--description", "Nightly retrain: new data from the warehouse",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    execution = sagemaker.client.describe_pipeline_execution(
        PipelineExecutionArn=result.json["results"][0]["run_id"]
    )
    assert execution["PipelineExecutionDisplayName"] == "nightly-2024-06-01"
    assert execution["PipelineExecutionDescription"] == (
        "Nightly retrain: new data from the warehouse"
    )


def test_a_pipeline_arn_is_started_in_its_own_region(aws, sagemaker, fast_polling):
    eu_client = aws.client("sagemaker", "eu-west-1")
    arn = sagemaker.create_pipeline("eu-train", client=eu_client)
    assert ":eu-west-1:" in arn
    result = start("--pipeline-name", arn)  # the default region is us-east-1
    assert result.exit_code == 0, result.stderr
    row = result.json["results"][0]
    [execution] = sagemaker.executions("eu-train", client=eu_client)
    assert row["run_id"] == execution["PipelineExecutionArn"]
    assert row["region"] == "eu-west-1"
    assert row["console_url"].startswith("https://eu-west-1.console.aws.amazon.com/")


def test_a_missing_pipeline_is_an_error_naming_it_and_others_still_run(
    sagemaker, pipelines, fast_polling
):
    pipelines("train")
    result = start("--pipeline-name", "no-such-pipeline,train")
    assert result.exit_code == 1
    assert result.statuses == {"no-such-pipeline": "ERROR", "train": "SUCCEEDED"}
    error = result.json["results"][0]["error"]
    # moto answers ValidationException where AWS answers ResourceNotFound; both read the same.
    assert error.startswith("pipeline 'no-such-pipeline' not found in us-east-1 (")
    assert "ValidationException" in error
    assert result.json["results"][0]["run_id"] is None


def test_no_wait_reports_started_and_exits_zero(sagemaker, pipelines):
    pipelines("train")
    sagemaker.script("train", "Executing")
    result = start("--pipeline-name", "train", "--no-wait-for-completion")
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {"train": "STARTED"}
    assert (
        result.json["results"][0]["run_id"]
        == sagemaker.executions("train")[0]["PipelineExecutionArn"]
    )


def test_old_command_and_option_names_still_work(sagemaker, pipelines, fast_polling):
    pipelines("train", "score")
    result = run_cli(["run", "aws-sagemaker-trigger", "--pipeline-names", "train,score", "--json"])
    assert result.exit_code == 0, result.stderr
    assert result.json["command"] == COMMAND
    assert result.statuses == {"train": "SUCCEEDED", "score": "SUCCEEDED"}


def test_duplicate_pipelines_start_once(sagemaker, pipelines, fast_polling):
    pipelines("train")
    result = start("--pipeline-name", "train,train", "--pipeline-name", "train")
    assert result.exit_code == 0, result.stderr
    assert len(sagemaker.executions("train")) == 1
    assert "duplicate target 'train'" in result.stderr


def test_table_output_names_each_pipeline_and_its_status(sagemaker, pipelines, fast_polling):
    pipelines("train")
    result = run_cli(["run", COMMAND, "--pipeline-name", "train,gone"])
    assert result.exit_code == 1
    assert "train" in result.stdout and "✅ SUCCESS" in result.stdout
    assert "pipeline 'gone' not found" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_missing_pipeline_as_aws_reports_it_names_the_pipeline(
    aws_faults, sagemaker, fast_polling
):
    arn = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/retired"
    aws_faults.add_rule(
        when(aws_error("ResourceNotFound", f"Pipeline '{arn}' does not exist."),
             action="StartPipelineExecution")
    )  # fmt: skip
    result = start("--pipeline-name", arn)
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "ERROR"
    assert row["error"] == (
        f"pipeline '{arn}' not found (ResourceNotFound: Pipeline '{arn}' does not exist.)"
    )
    assert aws_faults.count("StartPipelineExecution") == 1  # not retried
