"""Fixtures of the example's tests: the fake job API, and the provider registered in-process.

``paradime_register``, ``paradime_cli`` and ``fast_polling`` come from the pytest plugin that
ships with paradime-core; nothing else is needed to test a provider.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import paradime_jobapi
import pytest
from fake_jobapi import FakeJobApi


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A skip mark on the conformance kit (its module or class) stops the run: CI runs these
    tests alone (tox env ``example``), where a skipped kit would otherwise pass unnoticed. The
    kit's own skips of a scenario that does not apply, with their reasons, are unaffected."""
    for item in items:
        marks = [*item.iter_markers("skip"), *item.iter_markers("skipif")]
        if item.path.name == "test_conformance.py" and marks:
            raise pytest.UsageError(f"the conformance kit must not be skipped: {item.nodeid}")


@pytest.fixture
def api() -> Iterator[FakeJobApi]:
    fake = FakeJobApi().start()
    yield fake
    fake.stop()


@pytest.fixture
def jobapi(api: FakeJobApi, paradime_register: Any, paradime_cli: Any, fast_polling: Any) -> Any:
    """Run ``paradime`` in-process with only this provider, pointed at the fake API."""
    paradime_register(paradime_jobapi)

    def run(*args: str, env: dict[str, str | None] | None = None) -> Any:
        return paradime_cli(["run", *args], env={**api.env, **(env or {})})

    return run
