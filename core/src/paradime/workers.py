"""Internal: daemon worker pools for the engine's driver."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable


class Workers:
    """Daemon worker threads pulling jobs from a queue; a thread starts when a job would
    otherwise wait for one, up to ``size``."""

    def __init__(self, size: int, name: str) -> None:
        self.size = max(1, size)
        self.name = name
        self.jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self.threads: list[threading.Thread] = []
        self._idle = 0  # threads waiting for a job
        self._queued = 0  # jobs no thread has taken yet
        self._lock = threading.Lock()

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            with self._lock:
                self._idle -= 1
                if job is not None:
                    self._queued -= 1
            if job is None:
                return
            job()
            with self._lock:
                self._idle += 1

    def submit(self, job: Callable[[], None]) -> None:
        thread = None
        with self._lock:
            self._queued += 1
            if self._queued > self._idle and len(self.threads) < self.size:
                thread = threading.Thread(
                    target=self._work, name=f"{self.name}-{len(self.threads)}", daemon=True
                )
                self.threads.append(thread)
                self._idle += 1
        self.jobs.put(job)
        if thread is not None:
            thread.start()

    def shutdown(self) -> None:
        for _ in self.threads:
            self.jobs.put(None)
