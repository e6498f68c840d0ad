"""fivetran-list-connectors: every page, a group's connectors, table and JSON."""

from __future__ import annotations

import pytest


def test_250_connectors_are_listed_over_several_pages(fivetran, fivetran_cli):
    names = [f"connector_{i:03d}" for i in range(250)]
    for i, name in enumerate(names):
        fivetran.add_connector(name, paused=i % 50 == 0)
    fivetran.max_page = 100  # a server may answer fewer items than asked for
    result = fivetran_cli("fivetran-list-connectors", "--json")
    assert result.exit_code == 0, result.stderr
    assert [row["id"] for row in result.json] == names
    pages = fivetran.seen("GET", "/v1/connections")
    assert len(pages) == 3
    assert [p.query.get("cursor") is None for p in pages] == [True, False, False]
    assert {p.query["limit"] for p in pages} == {"1000"}
    first = result.json[0]
    assert (first["state"], first["paused"], first["service"]) == ("paused", True, "postgres")
    assert result.json[1]["state"] == "scheduled"


def test_the_table_has_a_row_per_connector_and_a_count(fivetran, fivetran_cli):
    fivetran.add_connector("orders")
    fivetran.add_connector("crm", setup_state="broken")
    result = fivetran_cli("fivetran-list-connectors")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["CONNECTOR", "ID", "SERVICE"]
    crm = next(line for line in lines if line.startswith("crm"))
    assert "broken" in crm
    assert "(2 rows)" in result.stdout


def test_group_id_lists_only_that_groups_connectors(fivetran, fivetran_cli):
    fivetran.add_connector("orders", group_id="warehouse_a")
    fivetran.add_connector("billing", group_id="warehouse_b")
    result = fivetran_cli("fivetran-list-connectors", "--group-id", "warehouse_b", "--json")
    assert result.exit_code == 0, result.stderr
    assert [row["id"] for row in result.json] == ["billing"]
    assert fivetran.seen("GET")[0].path == "/v1/groups/warehouse_b/connections"


def test_an_unknown_group_or_a_refused_key_is_one_line_and_exit_1(fivetran, fivetran_cli):
    fivetran.add_connector("orders")
    result = fivetran_cli("fivetran-list-connectors", "--group-id", "nope")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (  # after the list's heading
        "❌ Fivetran API error: 404 - could not list the connectors of group 'nope': not found "
        "(HTTP 404 NotFound_Connection: Group with id 'nope' doesn't exist)"
    )
    refused = fivetran_cli("fivetran-list-connectors", env={"FIVETRAN_API_SECRET": "wrong-secret"})
    assert refused.exit_code == 1
    [line] = [x for x in refused.stderr.splitlines() if x.startswith("❌ ")]
    assert line.startswith("❌ Fivetran API error: ")
    assert "could not list connectors: Fivetran rejected the credentials" in line


def test_a_page_throttled_beyond_the_lists_budget_is_one_line_naming_the_wait(
    fivetran, fivetran_cli
):
    fivetran.add_connector("orders")
    fivetran.fail(429, retry_after=600)
    result = fivetran_cli("fivetran-list-connectors")
    assert result.exit_code == 1
    assert "Fivetran asked to retry after 600s" in result.stderr
    assert "the list is incomplete, so none of it is shown" in result.stderr
    assert "orders" not in result.stdout


@pytest.mark.parametrize("fault", ["429", "503", "lost"])
def test_a_page_throttled_failing_or_unanswered_once_is_read_again_and_the_list_is_whole(
    fault, fivetran, fivetran_cli
):
    """Before: one 429 or 5xx on a page gave exit 1 and no rows. Now: the page is read again
    (after its Retry-After) and every connector is listed."""
    for i in range(5):
        fivetran.add_connector(f"c{i}")
    fivetran.max_page = 2  # three pages
    page = {"method": "GET", "path": "/v1/connections"}  # the first page
    if fault == "lost":
        fivetran.lose_answers(**page)
    else:
        fivetran.fail(int(fault), retry_after=1 if fault == "429" else None, **page)
    result = fivetran_cli("fivetran-list-connectors", "--json")
    assert result.exit_code == 0, result.stderr
    assert sorted(row["id"] for row in result.json) == [f"c{i}" for i in range(5)]
    assert fivetran.count("GET", "/v1/connections") == 4  # three pages, one read twice
    if fault == "429":
        first, again = fivetran.seen("GET", "/v1/connections")[:2]
        assert again.at - first.at >= 1.0 - 0.05
