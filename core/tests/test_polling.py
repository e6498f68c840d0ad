"""The poll schedule's jitter bounds, the rate cap's defaults and edges, the poll thread count and
the clocks' waits: numbers a plausible one-character bug changes without any end-to-end test
seeing it (a backoff three times too long, a cap one token too generous, a wait that never ends)."""

from __future__ import annotations

import queue
import random
from typing import Any

import pytest

from paradime.polling import Clock, FakeClock, PollPolicy, RateLimiter, poll_threads


class Fixed(random.Random):
    """A random source that always draws ``value``."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


class Recording(queue.Queue):  # type: ignore[type-arg]
    """A queue that records how each ``get`` was asked to wait."""

    def __init__(self) -> None:
        super().__init__()
        self.gets: list[tuple[bool, float | None]] = []

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        self.gets.append((block, timeout))
        return super().get(block=False)


@pytest.mark.parametrize(("draw", "delay"), [(0.0, 1.0), (0.5, 1.5)])
def test_the_first_status_check_comes_within_the_first_interval_from_its_half(draw, delay):
    assert PollPolicy(min_interval_s=2.0).first_delay(Fixed(draw)) == delay


def test_failed_status_checks_back_off_doubling_from_the_minimum_to_the_cap():
    policy = PollPolicy(min_interval_s=2.0, max_interval_s=30.0)
    delays = [policy.failure_backoff(failures, Fixed(0.5)) for failures in range(0, 7)]
    assert delays == [1.5, 1.5, 3.0, 6.0, 12.0, 22.5, 22.5]
    assert policy.failure_backoff(3, Fixed(0.0)) == 4.0


def test_a_failure_backoff_is_never_under_half_a_second():
    assert PollPolicy(min_interval_s=0.5).failure_backoff(1, Fixed(0.0)) == 0.5


def test_an_unconfigured_service_gets_ten_checks_a_second_in_bursts_of_ten():
    limiter = RateLimiter()
    assert [limiter.acquire("svc", 0.0) for _ in range(10)] == [0.0] * 10
    assert limiter.acquire("svc", 0.0) == pytest.approx(0.1)


def test_a_slow_rate_waits_for_its_next_token_and_bursts_at_least_one():
    limiter = RateLimiter()
    limiter.configure("svc", 0.5)
    assert limiter.acquire("svc", 0.0) == 0.0
    assert limiter.acquire("svc", 0.0) == pytest.approx(2.0)
    assert limiter.acquire("svc", 1.0) == pytest.approx(1.0)  # half a token saved up


def test_the_wait_for_a_token_is_what_the_bucket_lacks_at_the_rate():
    limiter = RateLimiter()
    limiter.configure("svc", 2.0, burst=1)
    assert limiter.acquire("svc", 0.0) == 0.0
    assert limiter.acquire("svc", 0.25) == pytest.approx(0.25)


def test_a_token_short_of_whole_by_rounding_only_is_granted():
    limiter = RateLimiter()
    limiter.configure("svc", 1.0, burst=1)
    assert limiter.acquire("svc", 0.0) == 0.0
    assert limiter.acquire("svc", 1.0 - 1e-9) == 0.0


@pytest.mark.parametrize(
    ("rate", "concurrency", "runs", "threads"),
    [(1.0, 1, 1, 1), (10.0, 3, 100, 3), (10.0, 100, 2, 2), (1.0, 100, 100, 2), (4.0, 100, 100, 8)],
)
def test_poll_threads_keep_up_with_the_rate_within_concurrency_and_runs(
    rate, concurrency, runs, threads
):
    assert poll_threads(rate, concurrency, runs) == threads


@pytest.mark.parametrize(("timeout", "asked"), [(-1.0, 0.0), (0.1, 0.1), (9.0, Clock.MAX_WAIT_S)])
def test_the_real_clock_waits_no_longer_than_asked_nor_than_its_signal_check(timeout, asked):
    events = Recording()
    assert Clock().wait(events, timeout, busy=False) is None
    assert events.gets == [(True, asked)]


def test_the_fake_clock_waits_for_a_call_in_flight_with_a_bound_and_jumps_otherwise():
    clock, events = FakeClock(), Recording()
    events.put("answer")
    assert clock.wait(events, 60.0, busy=True) == "answer"
    [(block, timeout)] = events.gets
    assert block and timeout is not None
    before = clock.monotonic()
    assert clock.wait(events, 60.0, busy=False) is None
    assert clock.monotonic() == before + 60.0
