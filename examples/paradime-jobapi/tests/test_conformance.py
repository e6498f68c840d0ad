"""The conformance kit (paradime.testing.conformance) run against the example's fake job API:
what a third-party provider writes to check the product's promises."""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

import paradime_jobapi
from fake_jobapi import FakeJobApi

from paradime.testing.conformance import Adapter, ConformanceSuite


class JobApiAdapter(Adapter):
    command = "jobapi-sync"
    target_option = "--connector-id"
    list_command = "jobapi-list-connectors"
    lookup_action = None  # one call starts a sync: nothing is looked up first
    start_action = "/sync"
    status_action = "GET /v1/jobs/"
    list_action = "GET /v1/connectors"
    not_applicable: ClassVar[dict[str, str]] = {
        "two_spellings": "a connector has one id and no other name",
    }

    def __init__(self) -> None:
        self.names = itertools.count()

    def new_fake(self) -> FakeJobApi:
        return FakeJobApi()

    def env(self, url: str) -> dict[str, str]:
        assert self.fake is not None
        return {**self.fake.env, "JOBAPI_BASE_URL": url}

    def plugins(self) -> list[Any]:
        return [paradime_jobapi]

    def make_target(self, seconds: float, *, fail: bool = False) -> str:
        assert self.fake is not None
        name = f"conn-{next(self.names)}"
        self.fake.add_connector(name, seconds=seconds, outcome="failed" if fail else "succeeded")
        return name

    def make_listed(self, count: int) -> list[str]:
        return [self.make_target(0.1) for _ in range(count)]

    def runs(self, target: str) -> int:
        assert self.fake is not None
        return len(self.fake.jobs_of(target))

    def secrets(self) -> list[str]:
        assert self.fake is not None
        return [self.fake.api_key]


class TestJobApiConformance(ConformanceSuite):
    adapter = JobApiAdapter()
