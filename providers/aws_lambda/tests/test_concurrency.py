"""Synchronous invocations run a hundred at once by default, on at most that many connections
(issue 17). Durations come from the fault proxy's added latency; no timing is asserted."""

from __future__ import annotations

from paradime.testing import run_cli


def test_help_shows_a_default_concurrency_of_100():
    shown = run_cli(["run", "aws-lambda-invoke", "--help"], env={"COLUMNS": "200"}).stdout
    assert "[default: 100]" in shown.split("--max-concurrency", 1)[1].split("--", 1)[0]
    # Status checks here are CloudWatch Logs reads, at FilterLogEvents' quota.
    assert "[default: 5.0]" in shown.split("--poll-rate", 1)[1].split("--", 1)[0]


def test_a_fan_out_invokes_100_functions_at_once_on_at_most_100_connections(
    aws_faults, functions, lambda_emulator
):
    names = [f"fan-{i:03d}" for i in range(150)]
    functions.create(*names)
    aws_faults.latency_s = 0.5  # each invocation holds its call half a second
    result = run_cli(["run", "aws-lambda-invoke", "--function-name", ",".join(names), "--json"])
    assert result.exit_code == 0, result.stderr
    assert len(lambda_emulator.invoked()) == 150
    assert aws_faults.in_flight_peak == 100
    assert aws_faults.connections() <= 100


def test_max_concurrency_still_bounds_the_invocations_in_flight(
    aws_faults, functions, lambda_emulator
):
    names = [f"few-{i:02d}" for i in range(12)]
    functions.create(*names)
    aws_faults.latency_s = 0.3
    result = run_cli(
        ["run", "aws-lambda-invoke", "--function-name", ",".join(names), "--max-concurrency", "4"]
    )
    assert result.exit_code == 0, result.stderr
    assert aws_faults.in_flight_peak == 4
    assert aws_faults.connections() <= 4
