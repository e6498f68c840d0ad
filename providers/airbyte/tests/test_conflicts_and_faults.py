"""A connection runs one job at a time: a 409 joins the running job, never a second one. What is
repeated after throttles, server errors and lost answers, and what is not."""

from __future__ import annotations

import itertools

from paradime_airbyte import TRIGGER_COMMAND

SYNC = TRIGGER_COMMAND.name
JOBS = "/v1/jobs"


def test_a_sync_already_running_is_joined_with_exactly_one_job(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders", script=(("running", 1.0),))
    theirs = airbyte_api.start_job(orders)  # the schedule started one a moment ago
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 0, result.stderr
    assert airbyte_api.jobs_of(orders) == [theirs]
    [row] = result.json["results"]
    assert (row["status"], row["run_id"], row["joined"]) == ("SUCCEEDED", str(theirs.job_id), True)
    assert [r.answered for r in airbyte_api.seen("POST", JOBS)] == [409]
    [lookup] = airbyte_api.seen("GET", JOBS)
    assert lookup.query["connectionId"] == orders.connection_id
    assert lookup.query["status"] == "running"
    assert "joined: it was already running" in result.stderr


def test_a_pending_job_is_found_too(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders", script=(("pending", 1.0), ("running", 0.4)))
    theirs = airbyte_api.start_job(orders)
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json["results"][0]["run_id"] == str(theirs.job_id)
    assert [r.query["status"] for r in airbyte_api.seen("GET", JOBS)] == ["running", "pending"]
    assert airbyte_api.jobs_of(orders) == [theirs]


def test_a_running_reset_is_not_taken_for_the_sync(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders", script=(("running", 60.0),))
    reset = airbyte_api.start_job(orders, "reset")
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 1
    [row] = result.json["results"]
    assert row["status"] == "ERROR"
    assert row["error"] == (
        f"connection {orders.connection_id} is running its reset job {reset.job_id} (running): "
        "no sync job started; run again once it ends"
    )
    assert airbyte_api.jobs_of(orders) == [reset]


def test_a_start_whose_answer_was_lost_is_looked_for_and_its_job_followed(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders")
    airbyte_api.lose_answers(method="POST", path=JOBS)
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 0, result.stderr
    [job] = airbyte_api.jobs_of(orders)  # the first start reached Airbyte; no second job
    assert result.json["results"][0]["run_id"] == str(job.job_id)
    assert [r.answered for r in airbyte_api.seen("POST", JOBS)] == [None]
    [lookup] = airbyte_api.seen("GET", JOBS)
    assert lookup.query["connectionId"] == orders.connection_id
    assert "createdAtStart" in lookup.query
    assert f"found job {job.job_id}, which the unanswered start made" in result.stderr


def test_a_lost_start_answer_whose_job_failed_before_the_retry_is_one_failed_job(
    airbyte_api, airbyte
):
    """The answer to ``POST /jobs`` is lost and the job fails before any retry. Before: the
    retry met no 409 and made a second job (exit 0). Now: the recovery look-up finds the
    first job: 1 job, FAILED, exit 1."""
    orders = airbyte_api.add_connection("orders", script=(), outcome="failed")
    older = airbyte_api.start_job(orders)  # an earlier job, ended: not this run's
    airbyte_api.lose_answers(method="POST", path=JOBS)
    route = airbyte_api.route

    def later_jobs_succeed(request):  # a second job, if one were made, would succeed
        answer = route(request)
        if request.method == "POST" and request.path == JOBS:
            orders.outcome = "succeeded"
        return answer

    airbyte_api.route = later_jobs_succeed
    # The earlier job was created a moment before the run: on the fake's whole-second Date
    # header it may share the run's first second, so it is moved a minute back.
    older.created_at -= 60
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 1, result.stderr
    jobs = airbyte_api.jobs_of(orders)
    assert len(jobs) == 2  # the earlier one and this run's: no third
    [row] = result.json["results"]
    assert (row["status"], row["run_id"]) == ("FAILED", str(jobs[-1].job_id))
    assert [r.answered for r in airbyte_api.seen("POST", JOBS)] == [None]


def test_a_server_error_on_the_start_that_made_no_job_is_sent_again_once(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders")
    airbyte_api.fail(502, method="POST", path=JOBS)  # refused before any job was made
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 0, result.stderr
    assert len(airbyte_api.jobs_of(orders)) == 1
    assert [r.answered for r in airbyte_api.seen("POST", JOBS)] == [502, 200]


def test_a_409_whose_job_ended_meanwhile_starts_one_job(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders")
    airbyte_api.fail(409, method="POST", path=JOBS, message="A sync is already running for: x")
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 0, result.stderr
    assert len(airbyte_api.jobs_of(orders)) == 1
    assert [r.answered for r in airbyte_api.seen("POST", JOBS)] == [409, 200]
    assert "no job of this connection is running now: starting again" in result.stderr


def test_a_409_with_no_running_job_twice_says_so_and_stops_retrying(airbyte_api, airbyte):
    """Airbyte can hold a connection as busy (409 "a sync is already running") while it lists
    no running job: after one retry the row says exactly that instead of retrying on."""
    orders = airbyte_api.add_connection("orders")
    busy = f"A sync is already running for: {orders.connection_id}"
    airbyte_api.fail(409, method="POST", path=JOBS, message=busy, times=20)
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 1
    [row] = result.json["results"]
    assert row["status"] == "ERROR"
    assert row["error"] == (
        f"could not start a sync job of connection {orders.connection_id}: HTTP 409 "
        f"try-again-later: {busy}; yet Airbyte lists no pending, running, incomplete or queued "
        f"job for connection {orders.connection_id}, twice: no job started (Airbyte holds the "
        "connection as busy without a job to show; see its job history, or cancel the stuck job "
        "in Airbyte)"
    )
    assert [r.answered for r in airbyte_api.seen("POST", JOBS)] == [409, 409]
    assert airbyte_api.jobs_of(orders) == []
    assert "has ended since" not in result.stderr


def test_a_throttled_start_waits_for_retry_after_and_starts_one_job(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders")
    airbyte_api.fail(429, method="POST", path=JOBS, retry_after=1, times=2)
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 0, result.stderr
    starts = airbyte_api.seen("POST", JOBS)
    assert [r.answered for r in starts] == [429, 429, 200]
    assert all(b.at - a.at >= 1.0 for a, b in itertools.pairwise(starts))
    assert len(airbyte_api.jobs_of(orders)) == 1


def test_server_errors_and_throttles_on_status_checks_are_retried(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders")
    airbyte_api.fail(503, method="GET", path=r"/v1/jobs/\d+", times=2)
    airbyte_api.fail(429, method="GET", path=r"/v1/jobs/\d+", retry_after=0)
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 0, result.stderr
    answers = [r.answered for r in airbyte_api.seen("GET", r"/v1/jobs/\d+")]
    assert answers[:3] == [503, 503, 429] and answers[-1] == 200


def test_a_server_error_on_the_token_exchange_is_retried(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders")
    airbyte_api.fail(502, method="POST", path="/v1/applications/token")
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 0, result.stderr
    assert [r.answered for r in airbyte_api.seen("POST", "/v1/applications/token")] == [502, 200]
    assert len(airbyte_api.jobs_of(orders)) == 1


def test_a_throttle_storm_ends_throttled_with_no_job(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders")
    airbyte_api.throttle_for(3600, retry_after=0)
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 1
    [row] = result.json["results"]
    assert row["status"] == "THROTTLED"
    assert "throttled by Airbyte" in row["error"]
    assert airbyte_api.jobs_of(orders) == []


SIGN_IN = b"<!DOCTYPE html><html><body>Sign in to Airbyte</body></html>"


def test_a_base_url_answering_an_html_page_fails_at_once_naming_the_base_url(airbyte_api, airbyte):
    """A web UI's address given as --base-url answers its HTML page with 200: no retry can
    change that, so the first answer ends the run."""
    orders = airbyte_api.add_connection("orders")
    asked = []
    airbyte_api.answer = lambda request: asked.append(request) or (200, SIGN_IN, {})
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 1
    [row] = result.json["results"]
    assert row["status"] == "ERROR"
    assert row["error"] == (
        "could not obtain an Airbyte access token: HTTP 200 with an HTML page (text/html): "
        "not an Airbyte API answer; check --base-url"
    )
    assert len(asked) == 1


def test_a_redirect_says_where_it_points_and_is_not_followed(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders")
    moved = "https://airbyte.example.com/api/public/v1/applications/token"
    asked = []
    airbyte_api.answer = lambda request: asked.append(request) or (301, None, {"Location": moved})
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 1
    [row] = result.json["results"]
    assert row["error"] == (
        f"could not obtain an Airbyte access token: HTTP 301 Moved Permanently, redirecting to "
        f"{moved}: not an Airbyte API answer; check --base-url"
    )
    assert len(asked) == 1
