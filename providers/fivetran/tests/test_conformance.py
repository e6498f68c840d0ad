"""The conformance kit (paradime.testing.conformance) run against the fake Fivetran API."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any, ClassVar

import paradime_fivetran
from paradime import hookimpl
from paradime.testing.conformance import Adapter, ConformanceSuite
from paradime_fivetran.testing import FAKE_KEY, FAKE_SECRET, FakeFivetran


class FivetranAdapter(Adapter):
    command = "fivetran-sync"
    target_option = "--connector-id"
    list_command = "fivetran-list-connectors"
    lookup_action = "GET /v1/connections/"  # the baseline read: its status reads are the same
    start_action = "/sync"
    status_action = "GET /v1/connections/"
    list_action = "GET /v1/connections"
    not_applicable: ClassVar[dict[str, str]] = {
        "two_spellings": "a connector has one id, case-sensitive, and no other name",
        "cancel_after_end": "Fivetran's API has no call that stops a sync: --cancel-on-exit "
        "leaves it running",
    }

    def __init__(self) -> None:
        self.names = itertools.count()

    def new_fake(self) -> FakeFivetran:
        return FakeFivetran()

    def env(self, url: str) -> dict[str, str]:
        assert self.fake is not None
        return {**self.fake.env, "FIVETRAN_BASE_URL": url}

    def plugins(self) -> list[Any]:
        # The command's cap of one status read a second (Fivetran's hourly quota) is lifted.
        fast = dataclasses.replace(paradime_fivetran.TRIGGER_COMMAND, poll_rate_per_s=100.0)
        return [_Provider(fast)]

    def make_target(self, seconds: float, *, fail: bool = False) -> str:
        assert self.fake is not None
        name = f"conn_{next(self.names)}"
        self.fake.add_connector(
            name, sync_seconds=seconds, outcome="failed" if fail else "succeeded"
        )
        return name

    def make_listed(self, count: int) -> list[str]:
        assert self.fake is not None
        self.fake.max_page = 2
        return [self.make_target(0.1) for _ in range(count)]

    def runs(self, target: str) -> int:
        assert self.fake is not None
        return self.fake.connectors[target].started_syncs

    def secrets(self) -> list[str]:
        return [FAKE_KEY, FAKE_SECRET]


class _Provider:
    """The Fivetran provider with its trigger command replaced."""

    def __init__(self, command: Any) -> None:
        self.command = command

    @hookimpl
    def paradime_register_commands(self, register: Any) -> None:
        register(self.command)
        register(paradime_fivetran.LIST_COMMAND)


class TestFivetranConformance(ConformanceSuite):
    adapter = FivetranAdapter()
