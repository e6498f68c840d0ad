"""Core's tests drive the engine with the scripted provider (paradime.testing.scripted)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from paradime.testing import registered
from paradime.testing.scripted import ScriptedProvider


@pytest.fixture
def scripted() -> Iterator[ScriptedProvider]:
    provider = ScriptedProvider()
    with registered(provider):
        yield provider
