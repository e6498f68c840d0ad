"""Self-managed installs: the token exchange at either of the addresses Airbyte's guides give,
and installs deployed with authentication disabled (--no-auth)."""

from __future__ import annotations

import pytest

from paradime_airbyte import LIST_COMMAND, TRIGGER_COMMAND
from paradime_airbyte.testing import CLIENT_SECRET

SYNC = TRIGGER_COMMAND.name
WEBAPP_TOKEN = "/api/v1/applications/token"
PUBLIC_TOKEN = "/api/public/v1/applications/token"
NO_CREDENTIALS = {"AIRBYTE_CLIENT_ID": None, "AIRBYTE_CLIENT_SECRET": None}


def test_a_token_exchange_only_at_the_webapps_api_v1_is_found_there(airbyte_fakes, airbyte):
    """The Enterprise guide (and older versions) put the exchange at <webapp>/api/v1: a 404 at
    the public API's address moves it there, once for the run."""
    api = airbyte_fakes(server_auth=True, token_path=WEBAPP_TOKEN, expires_in=1)
    orders = api.add_connection("orders")
    result = airbyte(api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {orders.connection_id: "SUCCEEDED"}
    exchanges = [(r.path, r.answered) for r in api.seen("POST") if "token" in r.path]
    # One 404 at the documented address, then every exchange (tokens of 1 s expire during the
    # sync) at the one that answered.
    assert exchanges[0] == (PUBLIC_TOKEN, 404)
    assert exchanges[1:] == [(WEBAPP_TOKEN, 200)] * api.exchanges
    assert api.exchanges >= 2
    assert CLIENT_SECRET not in result.stdout + result.stderr


def test_the_public_api_token_exchange_is_used_first_when_the_install_has_it(
    airbyte_fakes, airbyte
):
    api = airbyte_fakes(server_auth=True)
    orders = api.add_connection("orders")
    result = airbyte(api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 0, result.stderr
    assert [r.path for r in api.seen("POST") if "token" in r.path] == [PUBLIC_TOKEN]


def test_no_token_exchange_at_either_address_names_both(airbyte_fakes, airbyte):
    api = airbyte_fakes(server_auth=True, token_path="/elsewhere/token")
    orders = api.add_connection("orders")
    result = airbyte(api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 1
    error = result.json["results"][0]["error"]
    assert error.startswith(
        f"could not obtain an Airbyte access token at {api.url}{WEBAPP_TOKEN} (after HTTP 404 "
        f"at {api.url}{PUBLIC_TOKEN})"
    )
    assert [r.answered for r in api.requests] == [404, 404]


def test_airbyte_cloud_has_one_token_address(airbyte_fakes, airbyte):
    api = airbyte_fakes(token_path="/elsewhere/token")
    orders = api.add_connection("orders")
    result = airbyte(api, SYNC, "--connection-id", orders.connection_id, "--json")
    assert result.exit_code == 1
    assert [r.path for r in api.requests] == ["/v1/applications/token"]


def test_no_auth_syncs_and_lists_sending_no_credentials(airbyte_fakes, airbyte):
    api = airbyte_fakes(server_auth=True, auth=False)
    orders = api.add_connection("orders")
    synced = airbyte(
        api,
        SYNC,
        "--connection-id",
        orders.connection_id,
        "--no-auth",
        "--json",
        env=NO_CREDENTIALS,
    )
    assert synced.exit_code == 0, synced.stderr
    assert synced.statuses == {orders.connection_id: "SUCCEEDED"}
    listed = airbyte(
        api, LIST_COMMAND.name, "--json", env={**NO_CREDENTIALS, "AIRBYTE_NO_AUTH": "1"}
    )
    assert listed.exit_code == 0, listed.stderr
    assert [row["connection_id"] for row in listed.json] == [orders.connection_id]
    assert api.exchanges == 0
    assert all("authorization" not in r.headers for r in api.requests)


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (
            ("--no-auth", "--client-id", "x"),
            {"AIRBYTE_CLIENT_SECRET": None},
            "--no-auth sends no credentials, yet --client-id is given",
        ),
        (
            ("--no-auth",),
            {"AIRBYTE_CLIENT_ID": None},
            "--no-auth sends no credentials, yet --client-secret is given (from "
            "AIRBYTE_CLIENT_SECRET)",
        ),
        (
            ("--no-auth", "--use-server-auth"),
            NO_CREDENTIALS,
            "--no-auth sends no credentials: not with --use-server-auth",
        ),
        (
            (),
            NO_CREDENTIALS,
            "missing option '--client-id' (or set AIRBYTE_CLIENT_ID; or --no-auth)",
        ),
    ],
)
def test_no_auth_with_credentials_is_refused_before_any_request(
    airbyte_api, airbyte, args, env, expected
):
    orders = airbyte_api.add_connection("orders")
    result = airbyte(airbyte_api, SYNC, "--connection-id", orders.connection_id, *args, env=env)
    assert result.exit_code == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert expected in line
    assert "Traceback" not in result.stderr
    assert airbyte_api.requests == []
