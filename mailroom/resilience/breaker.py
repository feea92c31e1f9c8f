"""Per-service circuit breaker: closed → open after N consecutive outage-like failures → one probe after cooldown."""

from __future__ import annotations

import threading
from enum import Enum

from mailroom.resilience.clock import SYSTEM_CLOCK, Clock


class BreakerState(str, Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Counts consecutive THROTTLED/TRANSIENT/AMBIGUOUS attempt failures; any answer from a healthy service (success
    or a PERMANENT error such as 404) resets the count. While open, callers fail fast; after ``cooldown`` one caller
    is let through as the probe and everybody else keeps failing fast until the probe reports back."""

    def __init__(self, *, failure_threshold: int = 5, cooldown: float = 30.0, clock: Clock = SYSTEM_CLOCK) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False
        self._probe_started = 0.0
        self.opens = 0

    @property
    def state(self) -> BreakerState:
        with self._lock:
            if self._state is BreakerState.OPEN and self._clock.monotonic() - self._opened_at >= self.cooldown:
                return BreakerState.HALF_OPEN
            return self._state

    def seconds_until_probe(self) -> float:
        with self._lock:
            return max(0.0, self.cooldown - (self._clock.monotonic() - self._opened_at))

    def allow(self) -> bool:
        """May this attempt go out? Exactly one caller gets True once the cooldown has passed."""
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return True
            if self._state is BreakerState.OPEN and self._clock.monotonic() - self._opened_at >= self.cooldown:
                self._state = BreakerState.HALF_OPEN
                self._probe_in_flight = False
            now = self._clock.monotonic()
            # A probe that never reported back (its thread died) must not keep the circuit shut forever.
            if self._state is BreakerState.HALF_OPEN and (not self._probe_in_flight or now - self._probe_started >= self.cooldown):
                self._probe_in_flight = True
                self._probe_started = now
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._state = BreakerState.CLOSED
            self._probe_in_flight = False

    def release_probe(self) -> None:
        """The attempt ended in a way that says nothing about the service's health (e.g. a bug in the caller):
        let the next caller probe instead of leaving the half-open circuit waiting forever."""
        with self._lock:
            self._probe_in_flight = False

    def record_failure(self) -> bool:
        """Count an outage-like failure; True when this failure opened (or re-opened) the circuit."""
        with self._lock:
            self._failures += 1
            if self._state is BreakerState.HALF_OPEN or (
                self._state is BreakerState.CLOSED and self._failures >= self.failure_threshold
            ):
                self._state = BreakerState.OPEN
                self._opened_at = self._clock.monotonic()
                self._probe_in_flight = False
                self.opens += 1
                return True
            return False
