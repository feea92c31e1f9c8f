"""Per-service, per-operation counters with a snapshot for reports and hooks to ship events elsewhere.

Latency is per *call* (all attempts and waits included: what the pipeline experiences), kept as the last 1024
samples per operation so memory stays bounded on long runs.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Callable

from pydantic import BaseModel, ConfigDict

from mailroom.errors import ErrorClass

logger = logging.getLogger(__name__)
_LATENCY_SAMPLES = 1024


class ServiceMetrics(BaseModel):
    """A snapshot row: one service + operation. Counts only: safe for reports and Prefect artifacts."""

    model_config = ConfigDict(frozen=True)

    calls: int = 0
    successes: int = 0
    failures: int = 0
    failures_by_class: dict[str, int] = {}
    retries: int = 0
    retries_by_class: dict[str, int] = {}
    throttles: int = 0
    retry_after_waits: int = 0
    retry_after_seconds: float = 0.0
    circuit_opens: int = 0
    circuit_rejections: int = 0
    budget_exhausted: int = 0
    wait_seconds: float = 0.0  # backoff + Retry-After sleeps
    limiter_wait_seconds: float = 0.0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """Emitted before every call-level retry sleep. Log-safe: identifiers and classes, no messages or bodies."""

    service: str
    operation: str
    attempt: int  # the attempt that just failed (1-based)
    max_attempts: int
    wait: float
    error_class: ErrorClass
    reason: str
    status: int | None = None
    retry_after: float | None = None  # set when the wait came from the server's Retry-After


@dataclass(frozen=True, slots=True)
class CallRecord:
    """Emitted to metrics hooks when a call finishes, successfully or not."""

    service: str
    operation: str
    succeeded: bool
    attempts: int
    latency: float
    error_class: ErrorClass | None = None
    reason: str | None = None


class _OperationStats:
    __slots__ = ("counts", "failures_by_class", "retries_by_class", "retry_after_seconds", "wait_seconds", "limiter_wait_seconds", "latencies")

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.failures_by_class: Counter[str] = Counter()
        self.retries_by_class: Counter[str] = Counter()
        self.retry_after_seconds = 0.0
        self.wait_seconds = 0.0
        self.limiter_wait_seconds = 0.0
        self.latencies: deque[float] = deque(maxlen=_LATENCY_SAMPLES)


class MetricsRecorder:
    def __init__(self, service: str) -> None:
        self.service = service
        self._lock = threading.Lock()
        self._ops: dict[str, _OperationStats] = {}

    def _op(self, operation: str) -> _OperationStats:
        stats = self._ops.get(operation)
        if stats is None:
            stats = self._ops.setdefault(operation, _OperationStats())
        return stats

    def record_call(self, operation: str, *, succeeded: bool, latency: float, error_class: ErrorClass | None) -> None:
        with self._lock:
            stats = self._op(operation)
            stats.counts["calls"] += 1
            stats.counts["successes" if succeeded else "failures"] += 1
            if not succeeded and error_class is not None:
                stats.failures_by_class[error_class.value] += 1
            stats.latencies.append(latency)

    def record_retry(self, operation: str, error_class: ErrorClass, wait: float, retry_after: float | None) -> None:
        with self._lock:
            stats = self._op(operation)
            stats.retries_by_class[error_class.value] += 1
            stats.wait_seconds += wait
            if retry_after is not None:
                stats.counts["retry_after_waits"] += 1
                stats.retry_after_seconds += retry_after

    def count(self, operation: str, name: str) -> None:
        """throttles, circuit_opens, circuit_rejections, budget_exhausted."""
        with self._lock:
            self._op(operation).counts[name] += 1

    def record_limiter_wait(self, operation: str, wait: float) -> None:
        with self._lock:
            self._op(operation).limiter_wait_seconds += wait

    def snapshot(self) -> dict[str, ServiceMetrics]:
        with self._lock:
            return {op: _freeze(stats) for op, stats in self._ops.items()}


def _freeze(stats: _OperationStats) -> ServiceMetrics:
    ordered = sorted(stats.latencies)
    c = stats.counts
    return ServiceMetrics(
        calls=c["calls"],
        successes=c["successes"],
        failures=c["failures"],
        failures_by_class=dict(stats.failures_by_class),
        retries=sum(stats.retries_by_class.values()),
        retries_by_class=dict(stats.retries_by_class),
        throttles=c["throttles"],
        retry_after_waits=c["retry_after_waits"],
        retry_after_seconds=round(stats.retry_after_seconds, 6),
        circuit_opens=c["circuit_opens"],
        circuit_rejections=c["circuit_rejections"],
        budget_exhausted=c["budget_exhausted"],
        wait_seconds=round(stats.wait_seconds, 6),
        limiter_wait_seconds=round(stats.limiter_wait_seconds, 6),
        latency_p50_ms=_percentile(ordered, 0.50),
        latency_p95_ms=_percentile(ordered, 0.95),
    )


def _percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index] * 1000.0, 3)


def emit(hooks: list[Callable], event: object) -> None:
    """Call every hook; a broken hook is logged and never breaks the call it observes."""
    for hook in list(hooks):
        try:
            hook(event)
        except Exception:  # noqa: BLE001 - observers must not change the outcome
            logger.warning("resilience hook %r failed", getattr(hook, "__name__", hook), exc_info=True)
