"""airbyte-sync under an idempotency key: Airbyte runs one job per connection, so a retry joins
the job the first attempt started; an ended job cannot be tied to the key, so a rerun starts a
new one."""

from __future__ import annotations

from paradime_airbyte import TRIGGER_COMMAND

SYNC = TRIGGER_COMMAND.name
JOBS = "/v1/jobs"
KEY = "nightly-2026-06-01"


def test_a_retry_under_the_key_joins_the_job_the_first_attempt_started(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders", script=(("running", 1.0),))
    args = (SYNC, "--connection-id", orders.connection_id, "--idempotency-key", KEY, "--json")
    first = airbyte(airbyte_api, *args, "--no-wait-for-completion")
    assert first.exit_code == 0, first.stderr
    [job] = airbyte_api.jobs_of(orders)
    retry = airbyte(airbyte_api, *args)
    assert retry.exit_code == 0, retry.stderr
    [row] = retry.json["results"]
    assert (row["status"], row["run_id"]) == ("SUCCEEDED", str(job.job_id))
    assert (row["attached"], row["idempotency_key"]) == (True, KEY)
    assert airbyte_api.jobs_of(orders) == [job]
    assert [r.answered for r in airbyte_api.seen("POST", JOBS)] == [200, 409]


def test_a_rerun_after_the_job_ended_starts_a_new_job_as_documented(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders", script=(("running", 0.2),))
    args = (SYNC, "--connection-id", orders.connection_id, "--idempotency-key", KEY, "--json")
    first = airbyte(airbyte_api, *args)
    again = airbyte(airbyte_api, *args)
    assert (first.exit_code, again.exit_code) == (0, 0), again.stderr
    first_job, second_job = airbyte_api.jobs_of(orders)
    assert again.json["results"][0]["run_id"] == str(second_job.job_id) != str(first_job.job_id)
    assert again.json["results"][0]["attached"] is False
    assert "an ended job cannot be tied to the idempotency key" in again.stderr
