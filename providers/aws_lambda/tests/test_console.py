"""What a person (or a log alert) reads on stderr, and the results table: the spec's lines.

Times differ from run to run: :func:`progress_lines` drops the ``HH:MM:SS`` of each line.
"""

from __future__ import annotations

import re

from paradime.testing import CliResult, progress_lines, run_cli
from paradime_aws_common.testing import throttle, when

RULE = "=" * 60


def invoke(*args: str) -> CliResult:
    return run_cli(["run", "aws-lambda-invoke", *args])


def test_a_synchronous_invocation_reads_as_the_spec_shows_it(functions, lambda_emulator):
    functions.create("data-preprocessing", "feature-build")
    result = invoke("--function-name", "data-preprocessing,feature-build")
    assert result.exit_code == 0, result.stderr
    lines = progress_lines(result.stderr)
    assert lines[1:4] == [RULE, "🚀 TRIGGERING AWS LAMBDA FUNCTIONS", RULE]
    block = lines.index("[1/2] ⚡ data-preprocessing")
    assert lines[block + 1 : block + 4] == [
        "-" * 40,
        "🚀 [data-preprocessing] Invoking Lambda function...",
        "📝 [data-preprocessing] Invocation type: RequestResponse",
    ]
    assert "[2/2] ⚡ feature-build" in lines
    (done,) = [line for line in lines if line.startswith("✅ [data-preprocessing]")]
    request_id = lambda_emulator.invoked("data-preprocessing")[0].request_id
    assert done.startswith("✅ [data-preprocessing] Invocation successful (0m ")
    assert done.endswith(f"run_id={request_id}")  # the product's extra, after the spec's words
    # Every run ended in its trigger call: nothing was waited for after it.
    assert "⚡ LIVE PROGRESS" not in lines


def test_the_results_table_has_the_specs_title_and_first_two_columns(functions, lambda_emulator):
    functions.create("data-preprocessing")
    result = invoke("--function-name", "data-preprocessing,gone")
    table = result.stdout.splitlines()
    title = table.index("📊 INVOCATION RESULTS")
    assert table[title - 1] == table[title + 1] == RULE
    header, rule = table[title + 2], table[title + 3]
    assert header.split()[:3] == ["FUNCTION", "NAME", "STATUS"]
    assert header.startswith("FUNCTION NAME" + " " * 28 + "STATUS")
    assert rule.startswith("-" * 40 + " " + "-" * 15 + " ")
    ok = next(line for line in table if line.startswith("data-preprocessing "))
    assert ok[41:].startswith("✅ SUCCESS")
    assert lambda_emulator.invoked("data-preprocessing")[0].request_id in ok  # extra columns
    gone = next(line for line in table if line.startswith("gone "))
    assert gone[41:].startswith("❌ ERROR") and "ResourceNotFoundException" in gone
    # The JSON keeps its statuses.
    doc = invoke("--function-name", "data-preprocessing", "--json").json
    assert doc["results"][0]["status"] == "SUCCEEDED"


def test_a_dry_run_says_its_invocation_type(functions, lambda_emulator):
    functions.create("data-preprocessing")
    result = invoke("--function-name", "data-preprocessing", "--invocation-type", "DryRun")
    assert result.exit_code == 0
    lines = progress_lines(result.stderr)
    assert "📝 [data-preprocessing] Invocation type: DryRun" in lines
    assert "📝 [data-preprocessing] Invocation type: RequestResponse" not in lines
    assert [i.invocation_type for i in lambda_emulator.invoked()] == ["DryRun"]


def test_a_waited_for_event_invocation_has_its_live_progress_section(
    functions, lambda_emulator, fast_polling
):
    functions.create("ml-training")
    result = invoke("--function-name", "ml-training", "--invocation-type", "Event")
    assert result.exit_code == 0, result.stderr
    lines = progress_lines(result.stderr)
    request_id = lambda_emulator.invoked("ml-training")[0].request_id
    queued = lines.index(f"✅ [ml-training] Invocation queued: request id {request_id}")
    live = lines.index("⚡ LIVE PROGRESS")
    assert queued < live
    assert lines[live - 1] == lines[live + 1] == RULE
    (done,) = [line for line in lines if line.startswith("✅ [ml-training] Completed")]
    assert done.startswith("✅ [ml-training] Completed successfully (0m ")
    assert lines.index(done) > live


def test_a_run_still_going_reports_running_then_the_timeout(
    functions, lambda_emulator, fast_polling, frequent_progress
):
    functions.create("ml-training")
    lambda_emulator.behave("ml-training", async_outcome="running")
    result = invoke(
        "--function-name", "ml-training", "--invocation-type", "Event", "--timeout-minutes", "0.05"
    )
    assert result.exit_code == 1
    lines = progress_lines(result.stderr)
    # Seconds, not the exact figure: a loaded machine can be a second late with the first one.
    running = re.compile(r"🔄 \[ml-training\] Running\.\.\. \(0m \ds elapsed\)")
    assert any(running.fullmatch(line) for line in lines), lines
    (timeout,) = [line for line in lines if line.startswith("⏰ [ml-training]")]
    assert timeout.startswith(
        "⏰ [ml-training] Timeout waiting for execution to complete after 0.05 minutes - "
        "still running at the 0.05-minute timeout"
    )


def test_an_aws_error_reads_aws_error_and_its_code_then_the_detail(functions, lambda_emulator):
    result = invoke("--function-name", "missing-fn")
    assert result.exit_code == 1
    (line,) = [x for x in progress_lines(result.stderr) if x.startswith("❌ [missing-fn]")]
    assert line.startswith(
        "❌ [missing-fn] AWS Error: ResourceNotFoundException - function 'missing-fn': "
        "ResourceNotFoundException: Function not found"
    )


def test_a_throttled_function_reads_throttled_and_the_code(
    aws_faults, functions, lambda_emulator, fast_polling
):
    functions.create("hot")
    aws_faults.add_rule(when(throttle("lambda"), action="/invocations"))
    result = invoke("--function-name", "hot")
    assert result.exit_code == 1
    (line,) = [x for x in progress_lines(result.stderr) if x.startswith("⚠️ [hot] THROTTLED")]
    assert line.startswith(
        "⚠️ [hot] THROTTLED (TooManyRequestsException) - function 'hot': TooManyRequestsException"
    )
    row = next(x for x in result.stdout.splitlines() if x.startswith("hot "))
    assert row[41:].startswith("⚠️ THROTTLED")


def test_listing_shows_a_heading_and_a_count_on_stderr_only(functions, lambda_emulator):
    functions.create("data-preprocessing", "ml-training")
    result = run_cli(["run", "aws-lambda-list-functions"])
    assert result.exit_code == 0
    lines = progress_lines(result.stderr)
    assert lines[1:4] == [RULE, "📋 LISTING AWS LAMBDA FUNCTIONS", RULE]
    assert lines[4].startswith("✅ Found 2 functions (")
    assert result.stdout.startswith("NAME ")  # the table alone on stdout
    as_json = run_cli(["run", "aws-lambda-list-functions", "--json"])
    assert [row["name"] for row in as_json.json] == ["data-preprocessing", "ml-training"]
