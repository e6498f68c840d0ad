"""A job status Airbyte's reference does not list yet: the job is followed as RUNNING, the status
named in its progress line, until it reaches one paradime knows."""

from __future__ import annotations

from paradime_airbyte import TRIGGER_COMMAND


def test_an_unknown_job_status_is_followed_until_a_known_end(airbyte_api, airbyte):
    later = airbyte_api.add_connection("later", script=(("awaiting_capacity", 0.8),))
    result = airbyte(airbyte_api, TRIGGER_COMMAND.name, "--connection-id", later.connection_id,
                     "--json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.json["results"][0]["status"] == "SUCCEEDED"
    assert "status 'awaiting_capacity' unknown to paradime" in result.stderr
