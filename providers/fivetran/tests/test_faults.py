"""fivetran-sync when Fivetran throttles, refuses credentials, fails or loses answers."""

from __future__ import annotations

import itertools

import pytest

CONNECTORS = ["orders", "billing", "users", "events", "refunds"]


def row_of(result, target):
    return next(r for r in result.json["results"] if r["target"] == target)


def test_a_429_storm_is_survived_honouring_retry_after_and_each_connector_syncs_once(
    fivetran, fivetran_cli
):
    for name in CONNECTORS:
        fivetran.add_connector(name, sync_seconds=0.3)
    fivetran.throttle_for(2.0, retry_after=3)  # every request for 2 s: 429, Retry-After: 3
    result = fivetran_cli("fivetran-sync", "--connector-id", ",".join(CONNECTORS), "--json")
    assert result.exit_code == 0, result.stderr
    assert set(result.statuses.values()) == {"SUCCEEDED"}
    for name in CONNECTORS:
        assert fivetran.connectors[name].started_syncs == 1
        assert len(fivetran.sync_posts(name)) == 1
    throttled = [r for r in fivetran.requests if r.answered == 429]
    assert len(throttled) == len(CONNECTORS)  # one refused read each, then the wait was honoured
    for refused in throttled:
        later = [r for r in fivetran.requests if r.path == refused.path and r.at > refused.at]
        assert min(r.at for r in later) - refused.at >= 3.0 - 0.05
    assert "asked to retry after 3s" in result.stderr


def test_throttled_status_checks_wait_for_retry_after_and_the_run_still_succeeds(
    fivetran, fivetran_cli
):
    fivetran.add_connector("orders", sync_seconds=0.5)
    fivetran.fail(429, times=2, method="GET", retry_after=1)
    fivetran.fail(429, times=1, method="POST", retry_after=1)
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 0, result.stderr
    assert fivetran.connectors["orders"].started_syncs == 1
    times = [r.at for r in fivetran.requests]
    refused = [i for i, r in enumerate(fivetran.requests) if r.answered == 429]
    assert len(refused) == 3
    assert all(times[i + 1] - times[i] >= 1.0 - 0.05 for i in refused)


def test_a_retry_after_beyond_the_deadline_ends_throttled_at_once_with_no_sync(
    fivetran, fivetran_cli
):
    fivetran.add_connector("orders")
    fivetran.throttle_for(7200, retry_after=3600)  # Fivetran's hourly quota is spent
    result = fivetran_cli(
        "fivetran-sync", "--connector-id", "orders", "--timeout-minutes", "5", "--json"
    )
    assert result.exit_code == 1
    row = row_of(result, "orders")
    assert row["status"] == "THROTTLED"
    assert "throttled by Fivetran (HTTP 429 TooManyRequests" in row["error"]
    assert "asked to retry after 3600s" in row["error"]
    assert fivetran.count() == 1
    assert fivetran.connectors["orders"].started_syncs == 0


@pytest.mark.parametrize("wrong", ["FIVETRAN_API_KEY", "FIVETRAN_API_SECRET"])
def test_rejected_credentials_end_error_naming_the_options_and_nothing_is_retried(
    fivetran, fivetran_cli, wrong
):
    fivetran.add_connector("orders")
    fivetran.add_connector("billing")
    result = fivetran_cli(
        "fivetran-sync", "--connector-id", "orders,billing", "--json", env={wrong: "not-it-4711"}
    )
    assert result.exit_code == 1
    assert result.statuses == {"orders": "ERROR", "billing": "ERROR"}
    error = row_of(result, "orders")["error"]
    assert error.startswith("could not read connector 'orders': Fivetran rejected the credentials")
    assert "HTTP 401 AuthFailed" in error
    assert "check --api-key/--api-secret (FIVETRAN_API_KEY/FIVETRAN_API_SECRET)" in error
    assert "not-it-4711" not in result.stdout + result.stderr
    assert row_of(result, "orders")["http_status"] == 401
    assert fivetran.count() == 2  # one read per connector, no retry, no start
    assert fivetran.count("POST") == 0


def test_a_403_ends_error_saying_the_credentials_lack_permission(fivetran, fivetran_cli):
    fivetran.add_connector("orders")
    fivetran.fail(403, method="POST", message="No permission to sync connection 'orders'")
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 1
    error = row_of(result, "orders")["error"]
    assert error.startswith("could not start a sync of connector 'orders': Fivetran refused access")
    assert "lack the permission" in error
    assert len(fivetran.sync_posts("orders")) == 1


def test_server_errors_on_status_checks_are_retried_like_any_poll(fivetran, fivetran_cli):
    fivetran.add_connector("orders", sync_seconds=0.4)
    calls = itertools.count()
    # Every other status read of the connector fails with a 5xx (not the baseline read).
    original = fivetran.answer

    def flaky(request):
        is_read = request.method == "GET" and request.path == "/v1/connections/orders"
        if is_read and next(calls) % 2 == 1:
            fivetran.fail(503, times=1, method="GET")
        return original(request)

    fivetran.answer = flaky
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 0, result.stderr
    assert any(r.answered == 503 for r in fivetran.requests)
    assert fivetran.connectors["orders"].started_syncs == 1
    assert "status check failed" in result.stderr and "HTTP 503" in result.stderr


def test_a_5xx_on_a_start_without_force_is_retried_and_one_sync_runs(fivetran, fivetran_cli):
    fivetran.add_connector("orders", sync_seconds=0.3)
    fivetran.fail(502, method="POST")
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 0, result.stderr
    assert len(fivetran.sync_posts("orders")) == 2
    assert fivetran.connectors["orders"].started_syncs == 1


def test_a_lost_start_answer_is_looked_for_and_the_running_sync_it_began_followed(
    fivetran, fivetran_cli
):
    # Long enough for the look-up to find it still running, however slow the machine.
    connector = fivetran.add_connector("orders", sync_seconds=3)
    fivetran.lose_answers(method="POST")
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 0, result.stderr
    assert connector.started_syncs == 1
    assert len(fivetran.sync_posts("orders")) == 1  # the look-up read the connector: syncing
    assert "found the sync the unanswered start began" in result.stderr
    # Our own sync, found again: not "a sync was already running: joined it".
    assert "joined it" not in result.stderr
    [row] = result.json["results"]
    assert row["joined"] is False


def test_a_lost_start_answer_whose_sync_failed_before_the_retry_is_one_failed_sync(
    fivetran, fivetran_cli
):
    """The answer to ``POST .../sync`` is lost and that sync fails at once. Before: the retry
    re-read the connector (the failure became the baseline) and posted again: 2 syncs, exit 0,
    SUCCEEDED. Now: the recovery look-up judges against the first baseline: 1 sync, FAILED."""
    connector = fivetran.add_connector("orders", sync_seconds=0.0, outcome="failed")
    fivetran.lose_answers(method="POST")
    route = fivetran.route

    def later_syncs_succeed(request):  # a second sync, if one were started, would succeed
        answer = route(request)
        if request.method == "POST":
            connector.outcome = "succeeded"
        return answer

    fivetran.route = later_syncs_succeed
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders", "--json")
    assert (result.exit_code, connector.started_syncs) == (1, 1), result.stderr
    assert len(fivetran.sync_posts("orders")) == 1
    row = row_of(result, "orders")
    assert row["status"] == "FAILED"
    assert "Could not connect to the source database" in row["error"]


def test_a_lost_forced_start_on_a_running_sync_is_not_sent_again(fivetran, fivetran_cli):
    connector = fivetran.add_connector("orders", syncing=True, sync_seconds=5)
    fivetran.lose_answers(method="POST")
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders", "--force", "--json")
    assert result.exit_code == 1
    error = row_of(result, "orders")["error"]
    assert "the run may have started" in error
    assert "no difference between that sync and a restart" in error
    assert len(fivetran.sync_posts("orders")) == 1
    assert connector.started_syncs == 2  # the one running, and the forced restart


def test_a_base_url_answering_an_html_page_fails_at_once_naming_the_base_url(
    fivetran, fivetran_cli
):
    """A proxy's sign-in page answered with 200 instead of the API: final at the first answer,
    not retried as if the API had stumbled."""
    fivetran.add_connector("orders")
    asked = []
    fivetran.answer = lambda request: (
        asked.append(request) or (200, b"<html><body>Please sign in</body></html>", {})
    )
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 1
    row = row_of(result, "orders")
    assert row["status"] == "ERROR"
    assert row["error"].endswith(
        "HTTP 200 with an HTML page (text/html): not a Fivetran API answer; check --base-url"
    )
    assert len(asked) == 1


def test_a_redirect_says_where_it_points(fivetran, fivetran_cli):
    fivetran.add_connector("orders")
    moved = "https://api.fivetran.example/v1/connectors/orders"
    asked = []
    fivetran.answer = lambda request: asked.append(request) or (302, None, {"Location": moved})
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders", "--json")
    assert result.exit_code == 1
    assert row_of(result, "orders")["error"].endswith(
        f"HTTP 302 Found, redirecting to {moved}: not a Fivetran API answer; check --base-url"
    )
    assert len(asked) == 1
