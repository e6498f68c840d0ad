"""Core's tests drive the engine with the scripted provider (paradime.testing.scripted)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from paradime.testing import registered
from paradime.testing.scripted import ScriptedProvider


@pytest.fixture
def scripted(fast_polling: object) -> Iterator[ScriptedProvider]:
    """The scripted provider, registered alone, with fast polling (the schedule itself is
    tested on an injected clock in test_engine_schedule.py)."""
    provider = ScriptedProvider()
    with registered(provider):
        yield provider
