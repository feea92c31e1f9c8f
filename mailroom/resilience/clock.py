"""Time sources, injectable so unit tests never sleep."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...  # for intervals: limiter, breaker cooldown, budget window, deadline
    def time(self) -> float: ...  # epoch seconds: only to turn an HTTP-date Retry-After into a delay
    def sleep(self, seconds: float) -> None: ...  # the default sleep for policies and `rate_limited`


class SystemClock:
    monotonic = staticmethod(time.monotonic)
    sleep = staticmethod(time.sleep)
    time = staticmethod(time.time)  # last: the name shadows the module inside this class body


class FakeClock:
    """A manual clock for tests; ``sleep`` advances it instead of blocking, and records every wait."""

    def __init__(self, start: float = 1000.0, epoch: float = 1_700_000_000.0) -> None:
        self._now = start
        self._epoch_offset = epoch - start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def time(self) -> float:
        with self._lock:
            return self._now + self._epoch_offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(0.0, seconds)


SYSTEM_CLOCK = SystemClock()
