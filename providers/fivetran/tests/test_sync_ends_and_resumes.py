"""fivetran-sync against a fake Fivetran with two timings the plain fake never shows: a second
sync ending (the other way) just after ours, before the next status check, and a resumed
rescheduled sync that Fivetran still reports as rescheduled, past due, for a while."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from paradime_fivetran.testing import Connector, FakeFivetran

# Fivetran's delay in acting on a start that resumes a rescheduled sync (fake clock seconds).
RESUME_LAG = 1.0


class TwoEnds(FakeFivetran):
    """Fivetran's scheduler runs one more sync just after ours, which ends the other way
    (0.01 s later) before paradime looks again: the connector shows both ends."""

    def _advance(self, connector: Connector, now: float) -> None:
        sync = connector.sync
        super()._advance(connector, now)
        if sync is not None and sync.ended is not None:
            later = self.time_at(sync.ended + 0.01)
            if sync.outcome == "succeeded":
                connector.failed_at = later
            else:
                connector.succeeded_at = later


class SlowResume(FakeFivetran):
    """A start resuming a rescheduled sync takes effect RESUME_LAG later: until then the sync
    is still reported rescheduled, its rescheduled_for past due; a start meanwhile changes
    nothing."""

    def _sync(self, connector_id: str, body: Any) -> Any:
        connector = self.connectors.get(connector_id)
        sync = connector.sync if connector is not None else None
        resumed_before = sync.resumed_at if sync is not None else None
        answer = super()._sync(connector_id, body)
        if sync is not None and sync.resumed_at is not None:
            if resumed_before is not None:
                sync.resumed_at = resumed_before
            else:
                sync.resumed_at += RESUME_LAG
        return answer


@pytest.fixture
def fivetran(request: pytest.FixtureRequest) -> Iterator[FakeFivetran]:
    fake = request.param().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.mark.parametrize(("outcome", "status"), [("succeeded", "FAILED"), ("failed", "SUCCEEDED")])
@pytest.mark.parametrize("fivetran", [TwoEnds], indirect=True)
def test_when_both_ends_moved_past_the_baseline_the_later_one_is_the_status(
    fivetran, fivetran_cli, outcome, status
):
    fivetran.add_connector("orders", outcome=outcome, sync_seconds=0.3)
    result = fivetran_cli("fivetran-sync", "--connector-id", "orders", "--json")
    assert result.statuses == {"orders": status}, result.stderr
    assert result.exit_code == (0 if status == "SUCCEEDED" else 1)
    [row] = result.json["results"]
    assert row["succeeded_at"] and row["failed_at"]


@pytest.mark.parametrize("fivetran", [SlowResume], indirect=True)
def test_a_manual_sync_still_reported_past_due_after_its_resume_is_started_again_only_once(
    fivetran, fivetran_cli
):
    fivetran.add_connector("ads", schedule_type="manual", reschedule_after=0.1,
                           reschedule_for=0.3, sync_seconds=0.4)  # fmt: skip
    result = fivetran_cli("fivetran-sync", "--connector-id", "ads", "--json")
    assert (result.exit_code, result.statuses) == (0, {"ads": "SUCCEEDED"}), result.stderr
    # The first start, and one that resumes: none from the status checks in the lag.
    assert [post.body for post in fivetran.sync_posts("ads")] == [{"force": False}] * 2
    lines = result.stderr.splitlines()
    [resumed] = [i for i, line in enumerate(lines) if "started it again (manual schedule)" in line]
    # A status check in the lag saw the past-due reschedule again, and only waited.
    assert any("[ads] rescheduled by Fivetran" in line and "; waiting" in line
               for line in lines[resumed + 1 :])  # fmt: skip
