"""Access tokens: exchanged once per expiry for the whole run, refreshed before they expire,
replaced once after a 401; a 401 that outlives a fresh token ends the run ERROR."""

from __future__ import annotations

import itertools

from paradime_airbyte import TRIGGER_COMMAND
from paradime_airbyte.testing import CLIENT_SECRET, script_of

SYNC = TRIGGER_COMMAND.name
CREDENTIALS = "--client-id/--client-secret (AIRBYTE_CLIENT_ID/AIRBYTE_CLIENT_SECRET)"


def test_a_token_expiring_three_times_during_a_run_still_succeeds(airbyte_fakes, airbyte):
    """Tokens live 1 s, the jobs about 4 s: three expiries at least, one exchange each, shared
    by the three connections' starts and status checks; no request ever carries a dead token."""
    api = airbyte_fakes(expires_in=1)
    ids = [
        api.add_connection(name, script=script_of(4 / 60)).connection_id
        for name in ("orders", "users", "events")
    ]
    result = airbyte(api, SYNC, "--connection-id", ",".join(ids), "--json")
    assert result.exit_code == 0, result.stderr
    assert set(result.statuses.values()) == {"SUCCEEDED"}
    issued = [token.issued_at for token in api.tokens]
    assert len(issued) >= 4  # the first token and one per expiry during the run
    # One exchange per expiry, not per request, target or thread: each token was used until it
    # was due (80 % of its second), then replaced once.
    assert all(later - earlier >= 0.75 for earlier, later in itertools.pairwise(issued))
    run_s = api.requests[-1].at - api.requests[0].at
    assert len(issued) <= run_s / 0.8 + 1
    assert api.count("POST", "/v1/applications/token") == len(issued)
    assert [r for r in api.requests if r.answered == 401] == []
    assert sum(token.uses for token in api.tokens) > 3 * len(issued)


def test_a_revoked_token_is_replaced_once_and_the_run_goes_on(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders")
    airbyte_api.revoke_tokens(after=0.6)  # mid-run: the run's token dies long before it expires
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 0, result.stderr
    refused = [r for r in airbyte_api.requests if r.answered == 401]
    assert len(refused) == 1  # the one request that met the revoked token, then repeated
    assert refused[0].bearer == airbyte_api.tokens[0].value
    assert airbyte_api.exchanges == 2
    assert airbyte_api.requests[-1].bearer == airbyte_api.tokens[1].value


def test_a_401_after_a_fresh_token_ends_error_naming_the_credentials(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders")
    airbyte_api.reject_tokens = True  # the application has no access to this workspace
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 1
    [row] = result.json["results"]
    assert row["status"] == "ERROR"
    assert "Airbyte rejected the credentials (HTTP 401 unauthorized" in row["error"]
    assert CREDENTIALS in row["error"]
    assert airbyte_api.exchanges == 2  # the first token, and one more after the 401
    assert airbyte_api.count("POST", "/v1/jobs") == 0


def test_a_wrong_client_secret_is_an_error_naming_the_options(airbyte_api, airbyte):
    orders = airbyte_api.add_connection("orders")
    env = {"AIRBYTE_CLIENT_SECRET": "not-" + CLIENT_SECRET}
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, "--json", env=env)
    assert result.exit_code == 1
    [row] = result.json["results"]
    assert row["status"] == "ERROR"
    assert row["error"].startswith(
        f"could not obtain an Airbyte access token: Airbyte rejected the credentials (HTTP 401 "
        f"unauthorized: invalid client credentials); check {CREDENTIALS}"
    )
    assert airbyte_api.jobs_of(orders) == []
