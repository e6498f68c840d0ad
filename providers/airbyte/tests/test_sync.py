"""airbyte-sync through the CLI against the fake Airbyte API: outcomes and what each row says."""

from __future__ import annotations

from paradime_airbyte import TRIGGER_COMMAND
from paradime_airbyte.testing import fake_uuid

SYNC = TRIGGER_COMMAND.name
JOB = r"/v1/jobs/\d+"


def test_a_sync_that_succeeds_reports_its_job_id_and_the_rows_synced(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders", rows=1200, bytes=480_000)
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 0, result.stderr
    [job] = airbyte_api.jobs_of(orders)
    [row] = result.json["results"]
    assert row["status"] == "SUCCEEDED"
    assert row["run_id"] == str(job.job_id)
    assert row["output"] == {"rows_synced": 1200, "bytes_synced": 480_000}
    assert (row["rows_synced"], row["bytes_synced"]) == (1200, 480_000)
    assert (row["job_type"], row["job_status"], row["connection_name"]) == (
        "sync",
        "succeeded",
        "orders",
    )
    assert row["console_url"] == (
        f"{airbyte_api.url}/workspaces/{orders.workspace_id}/connections/"
        f"{orders.connection_id}/timeline"
    )
    [start] = airbyte_api.seen("POST", "/v1/jobs")
    assert start.body == {"connectionId": orders.connection_id, "jobType": "sync"}


def test_incomplete_then_success_is_succeeded(airbyte_api, airbyte):
    """An attempt failed (incomplete), Airbyte retried, the job succeeded: so did the run."""
    flaky = airbyte_api.add_connection(
        "flaky",
        script=(("running", 0.3), ("incomplete", 0.4), ("running", 0.3), ("incomplete", 0.4)),
    )
    result = airbyte(airbyte_api, SYNC, "--connection-id", flaky.connection_id, "--json")
    assert result.exit_code == 0, result.stderr
    [row] = result.json["results"]
    assert row["status"] == "SUCCEEDED"
    assert row["failed_attempts"] == 2
    assert "incomplete: an attempt failed, Airbyte tries again" in result.stderr
    seen = [r.answered for r in airbyte_api.seen("GET", JOB)]
    assert seen and set(seen) == {200}


def test_a_failed_job_is_failed_with_what_airbyte_says(airbyte_api, airbyte):
    broken = airbyte_api.add_connection(
        "broken", outcome="failed", script=(("running", 0.2), ("incomplete", 0.3))
    )
    result = airbyte(airbyte_api, SYNC, "--connection-id", broken.connection_id, "--json")
    assert result.exit_code == 1
    [row] = result.json["results"]
    [job] = airbyte_api.jobs_of(broken)
    assert row["status"] == "FAILED"
    assert row["run_id"] == str(job.job_id)
    assert row["error"].startswith(f"Airbyte sync job {job.job_id} failed after ")
    assert "1 earlier attempt(s) failed and were retried" in row["error"]
    assert row["console_url"] in row["error"]  # where the logs are: the API gives no reason
    assert "Traceback" not in result.stderr


def test_a_job_cancelled_in_airbyte_is_stopped(airbyte_api, airbyte):
    cancelled = airbyte_api.add_connection("cancelled", outcome="cancelled")
    result = airbyte(airbyte_api, SYNC, "--connection-id", cancelled.connection_id, "--json")
    assert result.exit_code == 1
    [job] = airbyte_api.jobs_of(cancelled)
    assert result.statuses == {cancelled.connection_id: "STOPPED"}
    assert result.json["results"][0]["error"] == f"Airbyte job {job.job_id} was cancelled"


def test_every_connection_gets_a_row_in_order_and_one_token_serves_them_all(airbyte_api, airbyte):
    ids = [airbyte_api.add_connection(name).connection_id for name in ("a", "b", "c")]
    failing = airbyte_api.add_connection("d", outcome="failed").connection_id
    result = airbyte(
        airbyte_api, SYNC, "--connection-id", f"{ids[0]},{failing}", "--connection-id", ids[1],
        "--connection-ids", ids[2], "--json",
    )  # fmt: skip
    assert result.exit_code == 1
    assert [r["target"] for r in result.json["results"]] == [ids[0], failing, ids[1], ids[2]]
    assert list(result.statuses.values()) == ["SUCCEEDED", "FAILED", "SUCCEEDED", "SUCCEEDED"]
    assert airbyte_api.exchanges == 1
    assert airbyte_api.count("POST", "/v1/jobs") == 4


def test_a_reset_job_is_started_when_asked(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders")
    args = ("--connection-id", orders.connection_id, "--job-type", "RESET", "--json")
    result = airbyte(airbyte_api, SYNC, *args)
    assert result.exit_code == 0, result.stderr
    [job] = airbyte_api.jobs_of(orders)
    assert job.job_type == "reset"
    assert result.json["results"][0]["job_type"] == "reset"


def test_an_unknown_connection_is_an_error_naming_it_and_the_others_run(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders")
    missing = "0badc0de-0000-4000-8000-000000000000"
    args = ("--connection-id", f"{missing},{orders.connection_id}", "--json")
    result = airbyte(airbyte_api, SYNC, *args)
    assert result.exit_code == 1
    assert result.statuses == {missing: "ERROR", orders.connection_id: "SUCCEEDED"}
    error = result.json["results"][0]["error"]
    assert error.startswith(f"could not read connection {missing}: not found (HTTP 404")
    assert airbyte_api.count("POST", "/v1/jobs") == 1


def test_a_connection_of_another_workspace_is_refused_before_any_job(airbyte_api, airbyte):
    elsewhere = airbyte_api.add_connection("elsewhere", workspace_id=fake_uuid(2, kind=1))
    args = ("--connection-id", elsewhere.connection_id, "--workspace-id", fake_uuid(1, kind=1))
    result = airbyte(airbyte_api, SYNC, *args, "--json")
    assert result.exit_code == 1
    [row] = result.json["results"]
    assert row["status"] == "ERROR"
    assert "belongs to workspace" in row["error"] and "no job started" in row["error"]
    assert airbyte_api.count("POST", "/v1/jobs") == 0


def test_no_wait_reports_started_with_the_job_id_and_no_status_check(airbyte_api, airbyte):
    slow = airbyte_api.add_connection("slow", outcome="running")
    args = ("--connection-id", slow.connection_id, "--no-wait-for-completion", "--json")
    result = airbyte(airbyte_api, SYNC, *args)
    assert result.exit_code == 0, result.stderr
    [job] = airbyte_api.jobs_of(slow)
    assert result.statuses == {slow.connection_id: "STARTED"}
    assert result.json["results"][0]["run_id"] == str(job.job_id)
    assert airbyte_api.count("GET", JOB) == 0
