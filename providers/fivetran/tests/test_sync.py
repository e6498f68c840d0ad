"""fivetran-sync through the CLI against the fake Fivetran API: outcomes, the baseline, paused and
broken connectors, joining or restarting a running sync, rescheduled syncs, the deadline."""

from __future__ import annotations

import threading

import pytest

CONNECTION = r"/v1/connections/[^/]+"
SYNC = r"/v1/connections/[^/]+/sync"


def row_of(result, target):
    return next(r for r in result.json["results"] if r["target"] == target)


def test_a_sync_that_succeeds_exits_zero_with_its_run_id_link_and_fivetran_fields(
    fivetran, fivetran_cli
):
    fivetran.add_connector("orders", service="postgres", schema="shop_orders", sync_seconds=0.3)
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 0, result.stderr
    row = row_of(result, "orders")
    connector = fivetran.connectors["orders"]
    [sync] = connector.syncs
    assert row["status"] == "SUCCEEDED"
    # The connector id and the sync's start on Fivetran's clock (its Date header).
    started = fivetran.time_at(sync.started).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert row["run_id"] == f"orders@{started}"
    assert row["console_url"] == "https://fivetran.com/dashboard/connectors/orders/status"
    assert (row["service"], row["schema"], row["group_id"]) == (
        "postgres",
        "shop_orders",
        "projected_sickle",
    )
    assert row["succeeded_at"] == connector.succeeded_at.isoformat().replace("+00:00", "Z")
    assert row["joined"] is False
    [post] = fivetran.sync_posts("orders")
    assert post.body == {"force": False}
    assert post.basic == (fivetran.credentials[0], fivetran.credentials[1])


def test_a_failed_sync_is_failed_with_fivetrans_own_reason_and_the_others_still_run(
    fivetran, fivetran_cli
):
    fivetran.add_connector("orders")
    fivetran.add_connector(
        "billing",
        outcome="failed",
        failure_tasks=[{"code": "table_missing", "message": "Table 'invoices' does not exist"}],
    )
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders,billing", "--json")
    assert result.exit_code == 1
    assert result.statuses == {"orders": "SUCCEEDED", "billing": "FAILED"}
    error = row_of(result, "billing")["error"]
    failed_at = fivetran.connectors["billing"].failed_at.isoformat().replace("+00:00", "Z")
    assert (
        error == f"the sync failed at {failed_at}: table_missing: Table 'invoices' does not exist"
    )
    table = fivetran_cli("fivetran-sync", "--connector-id", "billing")
    line = next(line for line in table.stdout.splitlines() if line.startswith("billing"))
    assert "FAILED" in line and "table_missing" in table.stdout


def test_a_sync_that_finishes_before_the_first_status_check_is_reported_succeeded(
    fivetran, fivetran_cli
):
    fivetran.add_connector("orders", sync_seconds=0.0)
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {"orders": "SUCCEEDED"}
    # The baseline was read before the start: read, start, then one status check saw the end.
    assert [(r.method, r.path) for r in fivetran.requests] == [
        ("GET", "/v1/connections/orders"),
        ("POST", "/v1/connections/orders/sync"),
        ("GET", "/v1/connections/orders"),
    ]
    assert (
        fivetran.connectors["orders"].syncs[0].ended
        == fivetran.connectors["orders"].syncs[0].started
    )


def test_a_paused_connector_is_refused_with_how_to_fix_it_and_no_sync_is_started(
    fivetran, fivetran_cli
):
    fivetran.add_connector("events", paused=True)
    fivetran.add_connector("orders")
    result = fivetran_cli("fivetran-sync", "--connector-id", "events,orders", "--json")
    assert result.exit_code == 1
    assert result.statuses == {"events": "ERROR", "orders": "SUCCEEDED"}
    error = row_of(result, "events")["error"]
    assert "connector 'events' is paused" in error
    assert "no sync was started" in error and "Resume it in the Fivetran dashboard" in error
    assert fivetran.sync_posts("events") == []
    assert fivetran.count("GET", "/v1/connections/events") == 1  # refused at once, not retried


@pytest.mark.parametrize("setup_state", ["broken", "incomplete"])
def test_a_connector_whose_setup_is_broken_or_incomplete_is_refused_and_not_synced(
    fivetran, fivetran_cli, setup_state
):
    fivetran.add_connector("crm", setup_state=setup_state)
    result = fivetran_cli("fivetran-sync", "--connector-id", "crm", "--json")
    assert result.exit_code == 1
    error = row_of(result, "crm")["error"]
    assert error.startswith(f"connector 'crm' cannot sync: its setup is {setup_state}")
    assert "reconnect: Reconnect: the source credentials were revoked" in error
    assert "Fix its setup in the Fivetran dashboard" in error
    assert fivetran.sync_posts("crm") == []


def test_a_running_sync_is_joined_and_no_second_sync_is_started(fivetran, fivetran_cli):
    connector = fivetran.add_connector("orders", syncing=True, sync_seconds=0.5)
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {"orders": "SUCCEEDED"}
    assert row_of(result, "orders")["joined"] is True
    assert fivetran.sync_posts("orders") == []
    assert connector.started_syncs == 1  # the one that was running
    assert "a sync was already running: joined it" in result.stderr


def test_force_restarts_a_running_sync_and_waits_for_the_new_one(fivetran, fivetran_cli):
    connector = fivetran.add_connector("orders", syncing=True, sync_seconds=0.5)
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders", "--force", "--json")
    assert result.exit_code == 0, result.stderr
    [post] = fivetran.sync_posts("orders")
    assert post.body == {"force": True}
    first, second = connector.syncs
    assert first.restarted and second.forced and second.ended is not None
    assert row_of(result, "orders")["joined"] is False
    assert "the running sync was restarted (--force)" in result.stderr


def test_a_rescheduled_sync_is_not_success_it_is_waited_for_until_it_resumes_and_succeeds(
    fivetran, fivetran_cli
):
    connector = fivetran.add_connector(
        "ads", sync_seconds=0.6, reschedule_after=0.1, reschedule_for=1.2
    )
    result = fivetran_cli("fivetran-sync", "--connector-id", "ads", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {"ads": "SUCCEEDED"}
    [sync] = connector.syncs
    rescheduled_for = fivetran.time_at(sync.rescheduled_for).isoformat().replace("+00:00", "Z")
    assert f"rescheduled by Fivetran for {rescheduled_for}" in result.stderr
    # The success came after the reschedule ended, and only one start was sent.
    assert connector.succeeded_at > fivetran.time_at(sync.rescheduled_for)
    assert len(fivetran.sync_posts("ads")) == 1


def test_a_rescheduled_sync_quotes_fivetrans_reason_instead_of_blaming_a_quota(
    fivetran, fivetran_cli
):
    """Fivetran reschedules after source errors too: its warning is the reason, and with none
    the line does not guess one."""
    warning = {"code": "source_unavailable", "message": "The source database refused the login"}
    fivetran.add_connector("ads", sync_seconds=0.6, reschedule_after=0.1, reschedule_for=1.2,
                           reschedule_warnings=[warning])  # fmt: skip
    fivetran.add_connector("crm", sync_seconds=0.6, reschedule_after=0.1, reschedule_for=1.2)
    result = fivetran_cli("fivetran-sync", "--connector-id", "ads,crm", "--json")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    [ads] = {line.split(" (", 1)[1] for line in lines if "[ads] rescheduled by Fivetran" in line}
    assert ads.startswith("source_unavailable: The source database refused the login); waiting")
    [crm] = {line.split(" (", 1)[1] for line in lines if "[crm] rescheduled by Fivetran" in line}
    assert crm.startswith("no reason given); waiting")
    assert "API quota" not in result.stderr


def test_a_rescheduled_sync_on_a_manual_schedule_is_started_again_once_when_due(
    fivetran, fivetran_cli
):
    connector = fivetran.add_connector(
        "ads", schedule_type="manual", sync_seconds=0.4, reschedule_after=0.1, reschedule_for=0.5
    )
    result = fivetran_cli("fivetran-sync", "--connector-id", "ads", "--json")
    assert result.exit_code == 0, result.stderr
    _start, resume = fivetran.sync_posts("ads")
    assert resume.body == {"force": False}
    assert len(connector.syncs) == 1  # resumed, not a second sync
    assert "started it again (manual schedule)" in result.stderr


@pytest.mark.parametrize("cancel", [[], ["--cancel-on-exit"]])
def test_at_the_deadline_a_rescheduled_sync_is_timed_out_and_the_row_says_it_cannot_be_stopped(
    fivetran, fivetran_cli, cancel
):
    fivetran.add_connector("ads", sync_seconds=60, reschedule_after=0.05, reschedule_for=600)
    result = fivetran_cli(
        "fivetran-sync", "--connector-id", "ads", "--timeout-minutes", "0.02", "--json", *cancel
    )
    assert result.exit_code == 1
    row = row_of(result, "ads")
    assert row["status"] == "TIMED_OUT"
    assert "not stopped (fivetran-sync cannot stop its runs)" in row["error"]
    assert row["sync_state"] == "rescheduled" and row["rescheduled_for"]
    assert fivetran.count("DELETE") == 0


def test_a_connector_paused_while_its_sync_runs_is_stopped_not_waited_for_forever(
    fivetran, fivetran_cli
):
    fivetran.add_connector("orders", sync_seconds=30)
    threading.Timer(0.5, fivetran.pause, args=("orders",)).start()
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 1
    row = row_of(result, "orders")
    assert row["status"] == "STOPPED"
    assert row["error"] == (
        "connector 'orders' was paused in Fivetran while paradime waited: the sync will not finish"
    )


def test_no_wait_reports_started_with_the_run_id_and_checks_nothing_more(fivetran, fivetran_cli):
    fivetran.add_connector("orders", sync_seconds=30)
    result = fivetran_cli(
        "fivetran-sync", "--connector-id", "orders", "--no-wait-for-completion", "--json"
    )
    assert result.exit_code == 0, result.stderr
    assert result.statuses == {"orders": "STARTED"}
    assert row_of(result, "orders")["run_id"].startswith("orders@")
    assert fivetran.count("GET") == 1  # the baseline read only


def test_an_unknown_connector_is_an_error_naming_it_and_the_others_still_run(
    fivetran, fivetran_cli
):
    fivetran.add_connector("orders")
    result = fivetran_cli("fivetran-sync", "--connector-id", "nope,orders", "--json")
    assert result.exit_code == 1
    assert result.statuses == {"nope": "ERROR", "orders": "SUCCEEDED"}
    assert row_of(result, "nope")["error"] == (
        "could not read connector 'nope': not found "
        "(HTTP 404 NotFound_Connection: Connection with id 'nope' doesn't exist)"
    )
    assert fivetran.count("GET", "/v1/connections/nope") == 1
