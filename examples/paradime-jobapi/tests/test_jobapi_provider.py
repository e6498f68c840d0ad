"""The jobapi provider through the real CLI, in-process, against the fake job API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import paradime_jobapi
import pytest

JOB = r"/v1/jobs/job-\d+"
SYNC = r"/v1/connectors/[^/]+/sync"


# -- outcomes ------------------------------------------------------------------------------
def test_a_sync_that_succeeds_exits_zero_with_the_job_id_and_result(api, jobapi):
    api.add_connector("orders", polls=2)
    result = jobapi("jobapi-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 0, result.stderr
    [job] = api.jobs_of("orders")
    row = result.json["results"][0]
    assert row["status"] == "SUCCEEDED"
    assert row["run_id"] == job.id
    assert row["output"] == {"rows_synced": 1200}
    assert row["console_url"] == f"{api.url}/ui/jobs/{job.id}"
    assert api.count("GET", JOB) == 3


def test_the_console_speaks_of_syncs_and_connectors(api, jobapi):
    from paradime.testing import progress_lines

    api.add_connector("orders", polls=1)
    result = jobapi("jobapi-sync", "--connector-id", "orders")
    assert result.exit_code == 0, result.stderr
    [job] = api.jobs_of("orders")
    lines = progress_lines(result.stderr)
    assert lines[2] == "🚀 TRIGGERING JOBAPI SYNCS"
    assert "🚀 [orders] Starting sync..." in lines
    assert f"✅ [orders] Sync started: job {job.id}" in lines
    assert "📊 SYNC RESULTS" in result.stdout
    assert any(line.startswith("CONNECTOR ID ") for line in result.stdout.splitlines())


def test_every_connector_gets_a_row_in_order_and_a_failure_says_why(api, jobapi):
    api.add_connector("orders")
    api.add_connector("billing", outcome="failed", error_message="source timed out")
    api.add_connector("users")
    result = jobapi("jobapi-sync", "--connector-id", "orders,billing", "--connector-id", "users")
    assert result.exit_code == 1
    billing = next(line for line in result.stdout.splitlines() if line.startswith("billing"))
    assert "FAILED" in billing and "sync_failed: source timed out" in billing
    doc = jobapi("jobapi-sync", "--connector-id", "orders,billing,users", "--json").json
    assert [r["target"] for r in doc["results"]] == ["orders", "billing", "users"]
    assert [r["status"] for r in doc["results"]] == ["SUCCEEDED", "FAILED", "SUCCEEDED"]


def test_a_sync_cancelled_remotely_is_stopped(api, jobapi):
    api.add_connector("orders", outcome="cancelled")
    result = jobapi("jobapi-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 1
    assert result.statuses == {"orders": "STOPPED"}
    assert result.json["results"][0]["error"] == "the sync was cancelled"


def test_an_unknown_connector_is_an_error_and_the_others_still_run(api, jobapi):
    api.add_connector("orders")
    result = jobapi("jobapi-sync", "--connector-id", "nope,orders", "--json")
    assert result.exit_code == 1
    assert result.statuses == {"nope": "ERROR", "orders": "SUCCEEDED"}
    error = result.json["results"][0]["error"]
    assert error == (
        "could not start the sync: not found (HTTP 404 not_found: connector 'nope' not found)"
    )
    assert api.count("POST", r"/v1/connectors/nope/sync") == 1


def test_a_paused_connector_is_not_retried(api, jobapi):
    api.add_connector("orders", paused=True)
    result = jobapi("jobapi-sync", "--connector-id", "orders", "--json")
    assert result.statuses == {"orders": "ERROR"}
    assert "HTTP 409 connector_paused" in result.json["results"][0]["error"]
    assert api.count("POST", SYNC) == 1


def test_no_wait_reports_started_without_a_status_check(api, jobapi):
    api.add_connector("orders", outcome="running")
    result = jobapi("jobapi-sync", "--connector-id", "orders", "--no-wait-for-completion", "--json")
    assert result.exit_code == 0
    assert result.statuses == {"orders": "STARTED"}
    assert result.json["results"][0]["run_id"] == api.jobs_of("orders")[0].id
    assert api.count("GET", JOB) == 0


# -- retries: what is safe to repeat ---------------------------------------------------------
def test_a_throttled_start_is_retried_and_starts_one_job(api, jobapi):
    api.add_connector("orders", sync_faults=[429, 429])
    result = jobapi("jobapi-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 0, result.stderr
    assert api.count("POST", SYNC) == 3
    assert len(api.jobs_of("orders")) == 1
    assert "rate_limited" in result.stderr  # the retry is visible in the progress lines


def test_a_throttled_start_honours_retry_after(api, jobapi):
    api.add_connector("orders", sync_faults=[429])
    result = jobapi("jobapi-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 0, result.stderr
    assert "jobapi asked to retry after 1s" in result.stderr


def test_a_command_retried_under_an_idempotency_key_attaches_to_its_job(api, jobapi):
    api.add_connector("orders", outcome="running")
    args = ("jobapi-sync", "--connector-id", "orders", "--idempotency-key", "nightly-1", "--json")
    first = jobapi(*args, "--no-wait-for-completion")
    second = jobapi(*args, "--no-wait-for-completion")
    assert [first.exit_code, second.exit_code] == [0, 0], second.stderr
    [job] = api.jobs_of("orders")
    assert [r["attached"] for r in (first.json["results"][0], second.json["results"][0])] == [
        False,
        True,
    ]
    assert second.json["results"][0]["run_id"] == job.id


def test_throttling_that_never_ends_is_throttled(api, jobapi):
    api.add_connector("orders", sync_faults=[429] * 10)
    result = jobapi("jobapi-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 1
    assert result.statuses == {"orders": "THROTTLED"}
    assert api.jobs_of("orders") == []


def test_a_start_whose_answer_was_lost_is_retried_without_a_second_job(api, jobapi):
    api.add_connector("orders", lose_responses=1)
    result = jobapi("jobapi-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 0, result.stderr
    [job] = api.jobs_of("orders")
    assert result.json["results"][0]["run_id"] == job.id
    assert api.count("POST", SYNC) == 2
    first, second = (r for r in api.requests if r.method == "POST")
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]


def test_each_command_run_uses_new_idempotency_keys(api, jobapi):
    api.add_connector("orders")
    jobapi("jobapi-sync", "--connector-id", "orders")
    jobapi("jobapi-sync", "--connector-id", "orders")
    assert len(api.jobs_of("orders")) == 2


def test_failed_status_checks_are_survived(api, jobapi):
    api.add_connector("orders", poll_faults=[503, 500])
    result = jobapi("jobapi-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 0, result.stderr
    assert api.count("GET", JOB) == 3
    assert "HTTP 503 internal" in result.stderr


def test_dropped_connections_on_status_checks_are_survived(api, jobapi, fault_proxy):
    from paradime.testing.proxy import RESET

    api.add_connector("orders", polls=1)
    proxy = fault_proxy(api.url)
    resets = iter(range(2))
    proxy.add_rule(
        lambda r: RESET if r.method == "GET" and next(resets, None) is not None else None
    )
    result = jobapi(
        "jobapi-sync", "--connector-id", "orders", "--json", env={"JOBAPI_BASE_URL": proxy.url}
    )
    assert result.exit_code == 0, result.stderr
    assert proxy.count("GET /v1/jobs/job-0001", forwarded_only=True) == 2
    assert proxy.count("GET /v1/jobs/job-0001") == 4


def test_a_rejected_api_key_is_not_retried_and_never_printed(api, jobapi):
    api.add_connector("orders")
    wrong = "wrong-key-5b1d0c77"
    for fmt in ("console", "json"):
        result = jobapi(
            "jobapi-sync",
            "--connector-id",
            "orders",
            "--log-level",
            "debug",
            "--log-format",
            fmt,
            "--json",
            env={"JOBAPI_API_KEY": wrong},
        )
        assert result.exit_code == 1
        assert result.statuses == {"orders": "ERROR"}
        assert "HTTP 401 unauthorized: invalid API key '****'" in result.json["results"][0]["error"]
        assert wrong not in result.stdout + result.stderr
    assert api.count("POST", SYNC) == 2


# -- deadlines and cancellation --------------------------------------------------------------
def test_at_the_timeout_a_running_sync_is_timed_out_and_left_running(api, jobapi):
    api.add_connector("orders", outcome="running")
    result = jobapi(
        "jobapi-sync", "--connector-id", "orders", "--timeout-minutes", "0.01", "--json"
    )
    assert result.exit_code == 1
    assert result.statuses == {"orders": "TIMED_OUT"}
    assert api.jobs_of("orders")[0].state == "running"


def test_cancel_on_exit_cancels_the_job_at_the_timeout(api, jobapi):
    api.add_connector("orders", outcome="running")
    result = jobapi(
        "jobapi-sync",
        "--connector-id",
        "orders",
        "--timeout-minutes",
        "0.01",
        "--cancel-on-exit",
        "--json",
    )
    assert result.exit_code == 1
    row = result.json["results"][0]
    assert row["status"] == "TIMED_OUT"
    assert "stop requested (remote status: STOPPED)" in row["error"]
    [job] = api.jobs_of("orders")
    assert job.state == "cancelled"
    assert "timeout" in job.cancel_reason


# -- usage errors: exit 2 before any request -----------------------------------------------
@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {"JOBAPI_API_KEY": None}, "missing option '--api-key' (or set JOBAPI_API_KEY)"),
        ([], {"JOBAPI_BASE_URL": None}, "missing option '--base-url' (or set JOBAPI_BASE_URL)"),
        (["--base-url", "ftp://x"], {}, "invalid value for '--base-url': 'ftp://x' is not"),
        (["--connector-id", "a b"], {}, "'a b' is not a connector id"),
    ],
)
def test_bad_input_exits_2_before_any_request(api, jobapi, args, env, expected):
    result = jobapi("jobapi-sync", "--connector-id", "orders", *args, env=env)
    assert result.exit_code == 2, result.stderr
    assert expected in result.stderr
    assert api.requests == []


# -- listing -------------------------------------------------------------------------------
def test_list_connectors_reads_every_page(api, jobapi):
    for name in ("orders", "billing", "users", "events", "refunds"):
        api.add_connector(name, paused=name == "events")
    result = jobapi("jobapi-list-connectors", "--json")
    assert result.exit_code == 0, result.stderr
    assert [row["id"] for row in result.json] == ["orders", "billing", "users", "events", "refunds"]
    assert api.count("GET", r"/v1/connectors.*") == 3
    table = jobapi("jobapi-list-connectors")
    assert "CONNECTOR ID" in table.stdout and "(5 rows)" in table.stdout


def test_list_connectors_with_a_rejected_key_is_one_line_exit_1(api, jobapi):
    result = jobapi("jobapi-list-connectors", env={"JOBAPI_API_KEY": "wrong-key-123456"})
    assert result.exit_code == 1
    # The list's heading, then one error line, in the words of the sync command's error rows.
    assert result.stderr.strip().splitlines()[-1] == (
        "❌ jobapi API error: 401 - could not list connectors: jobapi rejected the credentials "
        "(HTTP 401 unauthorized: invalid API key '****'); check --api-key (JOBAPI_API_KEY)"
    )
    assert "📋 LISTING JOBAPI CONNECTORS" in result.stderr


# -- the declaration -----------------------------------------------------------------------
def test_commands_appear_in_run_help_with_their_environment_variables(jobapi):
    listing = jobapi("--help")
    assert "jobapi-sync" in listing.stdout and "jobapi-list-connectors" in listing.stdout
    help_text = jobapi("jobapi-sync", "--help").stdout
    assert "--connector-id ID" in help_text
    assert "JOBAPI_BASE_URL" in help_text and "JOBAPI_API_KEY" in help_text
    assert "--cancel-on-exit" in help_text  # the engine's options come with every trigger command


def test_importing_the_provider_does_not_import_the_http_client():
    src = Path(paradime_jobapi.__file__).resolve().parent.parent
    code = "import sys, paradime_jobapi; print('paradime_jobapi.client' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=src
    )
    assert out.stdout.strip() == "False"
