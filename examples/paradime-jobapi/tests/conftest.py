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
