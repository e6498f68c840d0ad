"""aws-lambda-list-functions: every page, the table, JSON, the name filter."""

from __future__ import annotations

from paradime.testing import run_cli
from paradime_aws_common.testing import aws_error, when

LIST = "GET /2015-03-31/functions"


def test_every_page_is_listed(aws_faults, functions, lambda_emulator):
    names = [f"fn-{i:03d}" for i in range(123)]
    functions.create(*names)
    result = run_cli(["run", "aws-lambda-list-functions", "--json"])
    assert result.exit_code == 0, result.stderr
    assert [row["name"] for row in result.json] == names
    assert aws_faults.count(LIST) == 3  # pages of 50
    assert lambda_emulator.list_requests == 3


def test_the_table_has_name_runtime_memory_timeout_and_last_modified(functions, lambda_emulator):
    functions.create("report", Timeout=42, MemorySize=512)
    result = run_cli(["run", "aws-lambda-list-functions"])
    assert result.exit_code == 0, result.stderr
    header, _rule, row, count = result.stdout.strip().splitlines()
    assert header.split() == [
        "NAME",
        "RUNTIME",
        "MEMORY",
        "(MB)",
        "TIMEOUT",
        "(S)",
        "LAST",
        "MODIFIED",
    ]
    assert row.split()[:4] == ["report", "python3.12", "512", "42"]
    assert count == "(1 row)"


def test_json_rows_carry_the_arn(functions, lambda_emulator):
    (arn,) = functions.create("report")
    result = run_cli(["run", "aws-lambda-list-functions", "--json"])
    (row,) = result.json
    assert row["arn"] == arn
    assert set(row) >= {"name", "runtime", "memory_mb", "timeout_s", "last_modified", "arn"}


def test_name_contains_filters_case_insensitively(functions, lambda_emulator):
    functions.create("Nightly-Report", "nightly-export", "hourly-sync")
    result = run_cli(["run", "aws-lambda-list", "--name-contains", "NIGHTLY", "--json"])
    assert result.exit_code == 0, result.stderr
    assert [row["name"] for row in result.json] == ["Nightly-Report", "nightly-export"]


def test_the_region_option_lists_that_region(functions, lambda_emulator):
    functions.create("here")
    functions.create("there", region="eu-west-1")
    result = run_cli(["run", "aws-lambda-list-functions", "--aws-region", "eu-west-1", "--json"])
    assert [row["name"] for row in result.json] == ["there"]


def test_access_denied_is_one_line_and_exit_1(aws_faults):
    denied = aws_error(
        "AccessDeniedException", "not authorized to perform: lambda:ListFunctions", 403
    )
    aws_faults.add_rule(when(denied, action=LIST))
    result = run_cli(["run", "aws-lambda-list-functions"])
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(
        "❌ AWS Error: AccessDeniedException - ListFunctions: not authorized to perform: "
        "lambda:ListFunctions"
    )
    assert "Traceback" not in result.stderr
