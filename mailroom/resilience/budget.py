"""Per-service retry budget: retries may add at most ``ratio`` of recent calls (plus a small floor).

Why: per-call retries are fine when one call is unlucky, but during an incident every call retries and a fleet of
workers multiplies load on a service that is already struggling. Counting in one-second buckets over a sliding
window keeps memory constant whatever the call rate.
"""

from __future__ import annotations

import threading
from collections import deque

from mailroom.resilience.clock import SYSTEM_CLOCK, Clock


class RetryBudget:
    def __init__(self, *, ratio: float = 0.2, min_retries: int = 10, window_seconds: float = 60.0, clock: Clock = SYSTEM_CLOCK) -> None:
        self.ratio = ratio
        self.min_retries = min_retries
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: deque[list[float]] = deque()  # [second, calls, retries]

    def record_call(self) -> None:
        with self._lock:
            self._bucket_locked()[1] += 1

    def try_spend(self) -> bool:
        """Take one retry from the budget; False when the window's allowance is used up."""
        with self._lock:
            calls, retries = self._totals_locked()
            if retries + 1 > self.min_retries + self.ratio * calls:
                return False
            self._bucket_locked()[2] += 1
            return True

    def available(self) -> float:
        with self._lock:
            calls, retries = self._totals_locked()
            return max(0.0, self.min_retries + self.ratio * calls - retries)

    def _bucket_locked(self) -> list[float]:
        second = int(self._clock.monotonic())
        if not self._buckets or self._buckets[-1][0] != second:
            self._buckets.append([second, 0, 0])
        return self._buckets[-1]

    def _totals_locked(self) -> tuple[float, float]:
        horizon = self._clock.monotonic() - self.window_seconds
        while self._buckets and self._buckets[0][0] < horizon:
            self._buckets.popleft()
        return sum(b[1] for b in self._buckets), sum(b[2] for b in self._buckets)
