"""Internal: when to poll: the per-run schedule, the per-service rate cap, the clock they run on.

The schedule polls often while a run is young and backs off as it ages, so that a short run is
reported within a couple of seconds and a day-long run costs a few thousand calls, not tens of
thousands:

* interval = ``clamp(fraction * elapsed, min_interval, max_interval)``: with the defaults
  (10 %, 2 s, 30 s) the delay between a run's end and its report is at most
  ``max(2 s, 10 % of the run's length)`` and never above 30 s.
* jitter: each run gets a random phase, a fraction of its first interval, so runs started together
  do not poll together; later polls keep that offset instead of adding noise to every interval,
  which would cost calls without spreading them further.
"""

from __future__ import annotations

import math
import queue
import random
import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PollPolicy:
    """The per-run poll schedule."""

    min_interval_s: float = 2.0
    max_interval_s: float = 30.0
    fraction: float = 0.1
    # Consecutive failed polls (after the provider's own retries) before a run is ERROR.
    max_consecutive_failures: int = 6

    def interval(self, elapsed_s: float) -> float:
        return min(self.max_interval_s, max(self.min_interval_s, self.fraction * elapsed_s))

    def first_delay(self, rng: random.Random) -> float:
        """Delay of the first poll after a trigger: a random phase within the first interval."""
        return self.min_interval_s * (0.5 + 0.5 * rng.random())

    def failure_backoff(self, failures: int, rng: random.Random) -> float:
        """Delay before retrying a failed poll: exponential with full jitter, capped."""
        cap = min(self.max_interval_s, self.min_interval_s * 2.0 ** max(0, failures - 1))
        return max(0.5, cap * (0.5 + 0.5 * rng.random()))


class RateLimiter:
    """A token bucket per key (a service's polls, its starts): at most ``rate`` requests per
    second, in bursts of at most ``burst`` (by default one second's worth)."""

    def __init__(self) -> None:
        self._buckets: dict[str, list[float]] = {}
        self._rates: dict[str, tuple[float, float]] = {}
        # The engine takes tokens in its loop, runners (further pages of a poll) in poll threads.
        self._lock = threading.Lock()

    def configure(self, service: str, rate_per_s: float, burst: float | None = None) -> None:
        rate = max(rate_per_s, 0.01)
        with self._lock:
            self._rates[service] = (rate, max(1.0, burst if burst is not None else rate))

    def acquire(self, service: str, now: float) -> float:
        """Take a token if one is free and return 0, else return seconds until one is."""
        with self._lock:
            rate, burst = self._rates.get(service, (10.0, 10.0))
            tokens, last = self._buckets.get(service, [burst, now])
            tokens = min(burst, tokens + max(0.0, now - last) * rate)
            # The epsilon keeps float rounding from granting "wait 1e-17 s" forever.
            if tokens >= 1.0 - 1e-9:
                self._buckets[service] = [max(0.0, tokens - 1.0), max(now, last)]
                return 0.0
            self._buckets[service] = [tokens, max(now, last)]
            return max(0.001, (1.0 - tokens) / rate)


# A status check answers in well under this many seconds; the poll threads are enough for this
# long of checks at the rate cap, so that checks slower than usual still go out at the full rate.
POLL_CALL_BUDGET_S = 2.0


def poll_threads(rate_per_s: float, max_concurrency: int, runs: int) -> int:
    """Threads making status checks (and stop requests): the rate cap lets at most
    ``rate_per_s`` checks start a second, so ``rate_per_s x POLL_CALL_BUDGET_S`` threads keep
    up with it; never more than ``--max-concurrency`` or than there are runs."""
    return max(1, min(max_concurrency, runs, math.ceil(rate_per_s * POLL_CALL_BUDGET_S)))


class Clock:
    """Real time. The engine waits for events through :meth:`wait` so a test clock can jump."""

    def monotonic(self) -> float:
        return time.monotonic()

    # A signal handler runs promptly, but the wait it interrupts resumes until its timeout: the
    # engine must look at its signal flag often, so no single wait is longer than this.
    MAX_WAIT_S = 0.25

    def wait(self, events: queue.Queue[Any], timeout: float, busy: bool) -> Any:
        """Return the next event, or ``None`` once ``timeout`` (at most MAX_WAIT_S) has passed."""
        try:
            return events.get(timeout=min(max(0.0, timeout), self.MAX_WAIT_S))
        except queue.Empty:
            return None


class FakeClock(Clock):
    """Virtual time for benchmarks and tests: waiting with no call in flight costs nothing.

    When a call is in flight (``busy``) it waits for real, since the event comes from a thread.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += max(0.0, seconds)

    def wait(self, events: queue.Queue[Any], timeout: float, busy: bool) -> Any:
        try:
            return events.get(timeout=5.0) if busy else events.get_nowait()
        except queue.Empty:
            if not busy:
                self.advance(timeout)
            return None
