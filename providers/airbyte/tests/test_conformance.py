"""The conformance kit (paradime.testing.conformance) run against the fake Airbyte API."""

from __future__ import annotations

from typing import ClassVar

from paradime.testing.conformance import JSON, Adapter, ConformanceSuite
from paradime.testing.proxy import Reply
from paradime_airbyte.testing import CLIENT_SECRET, FakeAirbyte


class AirbyteAdapter(Adapter):
    command = "airbyte-sync"
    target_option = "--connection-id"
    list_command = "airbyte-list-connections"
    lookup_action = "GET /v1/connections/"
    start_action = "POST /v1/jobs"
    status_action = "GET /v1/jobs/"
    list_action = "GET /v1/connections"
    not_found = Reply(404, b'{"title": "Not Found", "detail": "Job not found"}', JSON)
    not_applicable: ClassVar[dict[str, str]] = {}

    def new_fake(self) -> FakeAirbyte:
        return FakeAirbyte()

    def env(self, url: str) -> dict[str, str]:
        assert self.fake is not None
        return {**self.fake.env, "AIRBYTE_BASE_URL": url + self.fake.prefix}

    def make_target(self, seconds: float, *, fail: bool = False) -> str:
        assert self.fake is not None
        script = (("running", seconds),) if seconds else ()
        outcome = "failed" if fail else "succeeded"
        return self.fake.add_connection("c", script=script, outcome=outcome).connection_id

    def make_listed(self, count: int) -> list[str]:
        assert self.fake is not None
        self.fake.max_page = 2
        return [self.make_target(0.1) for _ in range(count)]

    def runs(self, target: str) -> int:
        assert self.fake is not None
        return len(self.fake.jobs_of(self.fake.connections[target]))

    def secrets(self) -> list[str]:
        assert self.fake is not None
        return [CLIENT_SECRET, *(token.value for token in self.fake.tokens)]

    def spellings(self, target: str) -> tuple[str, str]:
        return target, target.upper()  # a UUID, in either case


class TestAirbyteConformance(ConformanceSuite):
    adapter = AirbyteAdapter()
