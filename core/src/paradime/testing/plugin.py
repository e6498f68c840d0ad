"""pytest plugin shipped with paradime-core: fixtures for testing providers.

Loaded through the ``pytest11`` entry point. It imports nothing heavy at collection time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from paradime.testing import CliResult, registered, run_cli


@pytest.fixture
def paradime_cli() -> Callable[..., CliResult]:
    """Run ``paradime`` in-process: ``paradime_cli(["run", "my-cmd", "--json"], env={...})``."""
    return run_cli


@pytest.fixture
def paradime_register() -> Iterator[Callable[..., Any]]:
    """Register provider objects for one test: ``paradime_register(MyProvider())``."""
    stack: list[Any] = []

    def register(*plugins: Any, entry_points: bool = False) -> Any:
        ctx = registered(*plugins, entry_points=entry_points)
        manager = ctx.__enter__()
        stack.append(ctx)
        return manager

    yield register
    while stack:
        stack.pop().__exit__(None, None, None)


@pytest.fixture
def fault_proxy() -> Iterator[Callable[[str], Any]]:
    """Start loopback fault proxies in front of an upstream URL: ``proxy = fault_proxy(url)``."""
    from paradime.testing.proxy import FaultProxy

    proxies: list[FaultProxy] = []

    def start(upstream: str) -> FaultProxy:
        proxy = FaultProxy(upstream)
        proxy.start()
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()


@pytest.fixture
def fast_polling(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Poll every 50-200 ms instead of 2-30 s, and retry starts and list pages after 50 ms
    instead of 1 s, for in-process tests of waiting commands."""
    import functools

    from paradime import engine, listing
    from paradime.polling import PollPolicy

    policy = functools.partial(PollPolicy, min_interval_s=0.05, max_interval_s=0.2)
    monkeypatch.setattr(engine, "PollPolicy", policy)
    monkeypatch.setattr(engine, "TRIGGER_BACKOFF_S", 0.05)
    monkeypatch.setattr(listing, "LIST_BACKOFF_S", 0.05)
    return policy


@pytest.fixture
def frequent_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress lines ("Running... (0m 0s elapsed)") every 0.2 s instead of every 30 s."""
    from paradime import output

    monkeypatch.setattr(output, "STILL_RUNNING_EVERY_S", 0.2)
    monkeypatch.setattr(output, "STILL_RUNNING_LATER_EVERY_S", 0.2)
