"""The console in the spec's words for Step Functions: stderr progress and the results table."""

from __future__ import annotations

import pytest

from paradime.testing import progress_lines

pytestmark = pytest.mark.usefixtures("fast_polling")
RULE = "=" * 60


def test_a_standard_execution_reads_as_the_spec_shows_it(start, machines, asl):
    arn = machines.arn("nightly-etl", asl.passing())
    result = start("--state-machine-arn", "nightly-etl")
    assert result.exit_code == 0, result.stderr
    lines = progress_lines(result.stderr)
    assert lines[1:4] == [RULE, "🚀 TRIGGERING AWS STEP FUNCTIONS STATE MACHINES", RULE]
    block = lines.index("[1/1] 🔀 nightly-etl")
    assert lines[block + 1 : block + 3] == ["-" * 40, "🚀 [nightly-etl] Starting execution..."]
    [execution] = machines.executions(arn)
    started = lines.index(f"✅ [nightly-etl] Execution started: {execution['executionArn']}")
    live = lines.index("⚡ LIVE PROGRESS")
    done = next(i for i, x in enumerate(lines) if x.startswith("✅ [nightly-etl] Completed"))
    assert block < started < live < done
    assert lines[done].startswith("✅ [nightly-etl] Completed successfully (0m ")


def test_an_express_execution_waited_for_completes_in_its_start(start, machines, asl):
    arn = machines.arn("clickstream", asl.passing(), type="EXPRESS")
    result = start("--state-machine-arn", arn)
    assert result.exit_code == 0, result.stderr
    lines = progress_lines(result.stderr)
    assert any(x.startswith(f"✅ [{arn}] Execution completed successfully (0m ") for x in lines)
    assert "⚡ LIVE PROGRESS" not in lines  # nothing left to wait for after the start


def test_failures_read_failed_and_aws_error_with_the_code(start, machines, asl):
    machines.arn("weekly-report", asl.failing("Report.Failed", "no data"))
    result = start("--state-machine-arn", "weekly-report,ghost")
    assert result.exit_code == 1
    lines = progress_lines(result.stderr)
    failed = next(x for x in lines if x.startswith("❌ [weekly-report]"))
    assert failed.startswith("❌ [weekly-report] Failed (0m ")
    assert "): Report.Failed: no data run_id=arn:aws:states:" in failed
    ghost = next(x for x in lines if x.startswith("❌ [ghost]"))
    assert ghost == (
        "❌ [ghost] AWS Error: StateMachineDoesNotExist - state machine 'ghost' does not exist in "
        "us-east-1 (no state machine of that name; give its ARN for another region)"
    )


def test_the_results_table_has_the_specs_headings(start, machines, asl):
    machines.arn("nightly-etl", asl.passing())
    table = start("--state-machine-arn", "nightly-etl").stdout.splitlines()
    title = table.index("📊 EXECUTION RESULTS")
    assert table[title + 2].startswith("STATE MACHINE" + " " * 28 + "STATUS")
    row = next(x for x in table if x.startswith("nightly-etl "))
    assert row[41:].startswith("✅ SUCCESS")
    assert ":execution:nightly-etl:" in row


def test_listing_shows_a_heading_and_a_count(paradime_cli, machines, asl):
    for name in ("nightly-etl", "weekly-report", "backfill"):
        machines.arn(name, asl.passing())
    result = paradime_cli(["run", "aws-stepfunctions-list-state-machines"])
    lines = progress_lines(result.stderr)
    assert lines[2] == "📋 LISTING AWS STEP FUNCTIONS STATE MACHINES"
    assert lines[4].startswith("✅ Found 3 state machines (")
    assert result.stdout.startswith("NAME")
