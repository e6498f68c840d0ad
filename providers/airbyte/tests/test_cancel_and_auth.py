"""--cancel-on-exit at the deadline (DELETE /jobs/{id}, Airbyte's answer reported), and the
self-managed server's HTTP Basic credentials."""

from __future__ import annotations

import base64

from paradime_airbyte import TRIGGER_COMMAND
from paradime_airbyte.testing import CLIENT_ID, CLIENT_SECRET

SYNC = TRIGGER_COMMAND.name
FOREVER = (("running", 3600.0),)
DEADLINE = ("--timeout-minutes", "0.02")  # 1.2 s


def test_cancel_on_exit_cancels_the_job_at_the_deadline(airbyte_api, airbyte):
    slow = airbyte_api.add_connection("slow", script=FOREVER)
    args = ("--connection-id", slow.connection_id, *DEADLINE, "--cancel-on-exit", "--json")
    result = airbyte(airbyte_api, SYNC, *args)
    assert result.exit_code == 1
    [job] = airbyte_api.jobs_of(slow)
    [row] = result.json["results"]
    assert (row["status"], row["run_id"]) == ("TIMED_OUT", str(job.job_id))
    assert row["error"] == (
        "still running at the 0.02-minute timeout; stop requested (remote status: STOPPED): "
        f"Airbyte answered: job {job.job_id} cancelled"
    )
    assert airbyte_api.status_of(job) == "cancelled"
    assert airbyte_api.count("DELETE", rf"/v1/jobs/{job.job_id}") == 1


def test_a_cancellation_airbyte_has_not_finished_is_reported_as_answered(airbyte_fakes, airbyte):
    api = airbyte_fakes(cancel_delay=30.0)  # the job is still running when DELETE answers
    slow = api.add_connection("slow", script=FOREVER)
    args = ("--connection-id", slow.connection_id, *DEADLINE, "--cancel-on-exit", "--json")
    result = airbyte(api, SYNC, *args)
    [job] = api.jobs_of(slow)
    assert result.json["results"][0]["error"].endswith(
        f"stop requested (remote status: RUNNING): Airbyte answered: job {job.job_id} running"
    )


def test_without_cancel_on_exit_the_job_is_left_running(airbyte_api, airbyte):
    slow = airbyte_api.add_connection("slow", script=FOREVER)
    result = airbyte(airbyte_api, SYNC, "--connection-id", slow.connection_id, *DEADLINE, "--json")
    assert result.exit_code == 1
    [job] = airbyte_api.jobs_of(slow)
    assert result.json["results"][0]["status"] == "TIMED_OUT"
    assert "not stopped (--cancel-on-exit stops it)" in result.json["results"][0]["error"]
    assert airbyte_api.status_of(job) == "running"
    assert airbyte_api.count("DELETE") == 0


def test_self_managed_basic_auth(airbyte_fakes, airbyte):
    api = airbyte_fakes(server_auth=True)
    orders = api.add_connection("orders")
    result = airbyte(
        api, SYNC, "--connection-id", orders.connection_id, "--use-server-auth", "--json"
    )
    assert result.exit_code == 0, result.stderr
    assert api.exchanges == 0  # no token: the id and secret go with every request
    assert {r.basic for r in api.requests} == {(CLIENT_ID, CLIENT_SECRET)}
    assert {r.bearer for r in api.requests} == {None}
    assert [r.path for r in api.requests][:2] == [
        f"/api/public/v1/connections/{orders.connection_id}",
        "/api/public/v1/jobs",
    ]
    assert result.json["results"][0]["console_url"] == (
        f"{api.url}/workspaces/{orders.workspace_id}/connections/{orders.connection_id}/timeline"
    )


def test_basic_credentials_refused_by_the_server_name_the_options(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders")  # Airbyte Cloud: no Basic auth
    args = ("--connection-id", orders.connection_id, "--use-server-auth", "--json")
    result = airbyte(airbyte_api, SYNC, *args, env={"AIRBYTE_USE_SERVER_AUTH": None})
    assert result.exit_code == 1
    error = result.json["results"][0]["error"]
    assert "Airbyte rejected the credentials (HTTP 401" in error
    assert "--client-id/--client-secret (AIRBYTE_CLIENT_ID/AIRBYTE_CLIENT_SECRET)" in error
    assert [r.answered for r in airbyte_api.requests] == [401]
    encoded = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert CLIENT_SECRET not in result.stdout + result.stderr
    assert encoded not in result.stdout + result.stderr


def test_a_cancel_refused_because_the_job_just_ended_reports_how_it_ended(airbyte_api, airbyte):
    """The job succeeds between the last status check and the DELETE: Airbyte answers 409 and
    the row says the job succeeded, not that it was stopped while running."""
    slow = airbyte_api.add_connection("slow", script=FOREVER, outcome="succeeded")
    answer = airbyte_api.answer

    def ends_first(request):  # type: ignore[no-untyped-def]
        if request.method == "DELETE":
            for job in airbyte_api.jobs_of(slow):
                job.script = ()  # its script is over: the job has succeeded
        return answer(request)

    airbyte_api.answer = ends_first
    args = ("--connection-id", slow.connection_id, *DEADLINE, "--cancel-on-exit", "--json")
    result = airbyte(airbyte_api, SYNC, *args)
    [job] = airbyte_api.jobs_of(slow)
    [row] = result.json["results"]
    assert [r.answered for r in airbyte_api.seen("DELETE")] == [409]
    assert (row["status"], row["job_status"], row["error"]) == ("SUCCEEDED", "succeeded", None)
    assert result.exit_code == 0, result.stderr
    assert row["run_id"] == str(job.job_id)
