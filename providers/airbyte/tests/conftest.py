"""Fixtures of the Airbyte provider's tests: the fake Airbyte API (from
:mod:`paradime_airbyte.testing`) and the CLI run in-process with only this provider.

``paradime_register``, ``paradime_cli`` and ``fast_polling`` come from paradime-core's pytest
plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import paradime_airbyte
from paradime_airbyte.testing import FakeAirbyte, airbyte_api, airbyte_fakes

__all__ = ["airbyte_api", "airbyte_fakes"]  # fixtures, registered by being imported here


@pytest.fixture
def airbyte(
    paradime_register: Callable[..., Any], paradime_cli: Callable[..., Any], fast_polling: Any
) -> Callable[..., Any]:
    """``airbyte(api, "airbyte-sync", "--connection-id", id, "--json")``: the CLI in-process,
    polling fast, pointed at the fake ``api``."""
    paradime_register(paradime_airbyte)

    def run(api: FakeAirbyte, *args: str, env: dict[str, str | None] | None = None) -> Any:
        return paradime_cli(["run", *args], env={**api.env, **(env or {})})

    return run
