"""fivetran-sync under an idempotency key: a sync still running is joined, never started twice;
an ended one cannot be recognised (Fivetran gives a sync no id), so a rerun starts a new sync;
--force restarts syncs, which the key exists to prevent."""

from __future__ import annotations

KEY = "scheduled__2026-06-01T02:00:00+00:00"


def row_of(result, target):
    return next(r for r in result.json["results"] if r["target"] == target)


def test_a_retry_under_the_key_joins_the_sync_the_first_attempt_started(fivetran, fivetran_cli):
    connector = fivetran.add_connector("orders", sync_seconds=1.0)
    first = fivetran_cli(
        "fivetran-sync", "--connector-id", "orders", "--idempotency-key", KEY,
        "--no-wait-for-completion", "--json",
    )  # fmt: skip
    assert first.exit_code == 0, first.stderr
    assert first.statuses == {"orders": "STARTED"}
    # The scheduler retries the task while the sync runs: same key from its environment.
    retry = fivetran_cli(
        "fivetran-sync", "--connector-id", "orders", "--json",
        env={"PARADIME_IDEMPOTENCY_KEY": KEY},
    )  # fmt: skip
    assert retry.exit_code == 0, retry.stderr
    row = row_of(retry, "orders")
    assert (row["status"], row["attached"], row["idempotency_key"]) == ("SUCCEEDED", True, KEY)
    assert row["joined"] is True
    assert len(fivetran.sync_posts("orders")) == 1
    assert connector.started_syncs == 1


def test_a_rerun_after_the_sync_ended_starts_a_new_sync_as_documented(fivetran, fivetran_cli):
    connector = fivetran.add_connector("orders", sync_seconds=0.2)
    args = ("fivetran-sync", "--connector-id", "orders", "--idempotency-key", KEY, "--json")
    first = fivetran_cli(*args)
    assert first.exit_code == 0, first.stderr
    again = fivetran_cli(*args)
    assert again.exit_code == 0, again.stderr
    # Nothing in Fivetran ties the ended sync to the key: a second sync, said plainly.
    assert row_of(again, "orders")["attached"] is False
    assert len(fivetran.sync_posts("orders")) == 2
    assert connector.started_syncs == 2
    assert "an ended sync cannot be tied to the idempotency key" in again.stderr


def test_force_with_a_typed_key_is_a_usage_error_and_nothing_is_called(fivetran, fivetran_cli):
    fivetran.add_connector("orders")
    result = fivetran_cli(
        "fivetran-sync", "--connector-id", "orders", "--force", "--idempotency-key", KEY
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: --idempotency-key cannot be honoured: --force restarts a running sync, and the "
        "key exists to join it instead"
    )
    assert fivetran.requests == []


def test_force_with_the_key_from_the_environment_warns_once_and_restarts_the_sync(
    fivetran, fivetran_cli
):
    connector = fivetran.add_connector("orders", syncing=True, sync_seconds=0.5)
    result = fivetran_cli(
        "fivetran-sync", "--connector-id", "orders", "--force", "--json",
        env={"PARADIME_IDEMPOTENCY_KEY": KEY},
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("PARADIME_IDEMPOTENCY_KEY is set, but fivetran-sync cannot") == 1
    [post] = fivetran.sync_posts("orders")
    assert post.body == {"force": True}
    assert connector.started_syncs == 2
    assert "idempotency_key" not in row_of(result, "orders")  # run as without a key
