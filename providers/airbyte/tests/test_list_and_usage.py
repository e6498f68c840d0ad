"""airbyte-list-connections over every page; bad usage exits 2 before any request; importing
the provider stays cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

from paradime_airbyte import LIST_COMMAND, TRIGGER_COMMAND
from paradime_airbyte.testing import fake_uuid

SYNC, LIST = TRIGGER_COMMAND.name, LIST_COMMAND.name
CONNECTIONS = "/v1/connections"


@pytest.mark.parametrize("max_page", [100, 25])
def test_120_connections_are_listed_over_several_pages(max_page, airbyte_fakes, airbyte):
    api = airbyte_fakes(max_page=max_page)
    made = [api.add_connection(f"conn-{i:03d}").connection_id for i in range(120)]
    result = airbyte(api, LIST, "--json")
    assert result.exit_code == 0, result.stderr
    assert [row["connection_id"] for row in result.json] == made
    pages = api.seen("GET", CONNECTIONS)
    assert len(pages) == -(-120 // max_page)
    # The next link names the server's internal host: only its offset is taken.
    assert [int(p.query["offset"]) for p in pages] == list(range(0, 120, max_page))
    # 100 asked first (the API's maximum), then the page size the server's link gives.
    assert [p.query["limit"] for p in pages] == ["100"] + [str(max_page)] * (len(pages) - 1)
    table = airbyte(api, LIST)
    assert table.exit_code == 0
    assert all(c in table.stdout for c in made)
    assert "CONNECTION ID" in table.stdout and "conn-119" in table.stdout


@pytest.mark.parametrize("fault", ["429", "503", "lost"])
def test_a_page_throttled_failing_or_unanswered_once_is_read_again_and_the_list_is_whole(
    fault, airbyte_fakes, airbyte
):
    """Before: one 429 or 5xx on a page gave exit 1 and no rows. Now: the page is read again
    (after its Retry-After) and every connection is listed."""
    api = airbyte_fakes(max_page=2)
    made = [api.add_connection(f"conn-{i}").connection_id for i in range(5)]
    page = {"method": "GET", "path": CONNECTIONS}
    if fault == "lost":
        api.lose_answers(**page)
    else:
        api.fail(int(fault), retry_after=1 if fault == "429" else None, **page)
    result = airbyte(api, LIST, "--json")
    assert result.exit_code == 0, result.stderr
    assert [row["connection_id"] for row in result.json] == made
    assert api.count("GET", CONNECTIONS) == 4  # three pages, the first read twice


def test_connections_of_one_workspace(airbyte_api, airbyte):
    mine = airbyte_api.add_connection("mine").connection_id
    airbyte_api.add_connection("theirs", workspace_id=fake_uuid(9, kind=1))
    result = airbyte(airbyte_api, LIST, "--workspace-id", fake_uuid(1, kind=1).upper(), "--json")
    assert result.exit_code == 0, result.stderr
    assert [row["connection_id"] for row in result.json] == [mine]
    assert airbyte_api.seen("GET", CONNECTIONS)[0].query["workspaceIds"] == fake_uuid(1, kind=1)


def test_a_listing_refused_is_one_error_line(airbyte_api, airbyte):
    result = airbyte(airbyte_api, LIST, env={"AIRBYTE_CLIENT_SECRET": "wrong-secret-value"})
    assert result.exit_code == 1
    [line] = [x for x in result.stderr.splitlines() if x.startswith("❌ ")]  # after the heading
    assert line.startswith("❌ Airbyte API error: ")  # the trigger rows' words
    assert "could not obtain an Airbyte access token: Airbyte rejected" in line
    assert "wrong-secret-value" not in result.stderr


ID = fake_uuid(1)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("--connection-id", "orders"), {}, "'orders' is not an Airbyte id (a UUID"),
        (("--connection-id", ID), {"AIRBYTE_CLIENT_ID": None}, "missing option '--client-id'"),
        (
            ("--connection-id", ID),
            {"AIRBYTE_CLIENT_SECRET": None},
            "missing option '--client-secret'",
        ),
        (("--connection-id", ID, "--base-url", "api.airbyte.com/v1"), {}, "not an http(s) URL"),
        (("--connection-id", ID, "--job-type", "refresh"), {}, "'refresh' is not one of"),
        (("--connection-id", ID, "--workspace-id", "ws-1"), {}, "'ws-1' is not an Airbyte id"),
        (("--connection-id", ID, "--timeout-minutes", "0"), {}, "--timeout-minutes"),
        ((), {}, "missing option '--connection-id'"),
    ],
)
def test_bad_usage_exits_2_before_any_request(args, env, message, airbyte_api, airbyte):
    result = airbyte(airbyte_api, SYNC, *args, env=env)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3  # click's usage lines, or one Error line
    assert "Traceback" not in result.stderr
    assert airbyte_api.requests == []


def test_the_list_command_checks_its_options_before_any_request(airbyte_api, airbyte):
    result = airbyte(airbyte_api, LIST, "--workspace-id", "nope")
    assert result.exit_code == 2
    assert airbyte_api.requests == []


def test_importing_the_provider_imports_no_http_client():
    code = "import sys, paradime_airbyte; print('httpx' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
