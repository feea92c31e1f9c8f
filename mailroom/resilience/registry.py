"""One limiter / breaker / budget / metrics set per named service, shared by every policy and thread."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from mailroom.resilience.breaker import CircuitBreaker
from mailroom.resilience.budget import RetryBudget
from mailroom.resilience.clock import SYSTEM_CLOCK, Clock
from mailroom.resilience.limiter import RateLimiter
from mailroom.resilience.metrics import CallRecord, MetricsRecorder, RetryEvent, ServiceMetrics


@dataclass
class ServiceState:
    name: str
    limiter: RateLimiter
    breaker: CircuitBreaker
    budget: RetryBudget
    metrics: MetricsRecorder


class ServiceRegistry:
    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self._lock = threading.Lock()
        self.clock: Clock = clock
        self._services: dict[str, ServiceState] = {}
        self.retry_hooks: list[Callable[[RetryEvent], None]] = []
        self.metrics_hooks: list[Callable[[CallRecord], None]] = []
        # service -> a limit shared with other processes (e.g. every worker of a pool): called before each attempt,
        # after the local limiter, and blocks until the fleet-wide limit admits one call. See ``set_shared_limit``.
        self.shared_limits: dict[str, Callable[[], None]] = {}

    def get(self, name: str) -> ServiceState:
        state = self._services.get(name)
        if state is not None:
            return state
        with self._lock:
            state = self._services.get(name)
            if state is None:
                state = ServiceState(
                    name=name,
                    limiter=RateLimiter(None, clock=self.clock),
                    breaker=CircuitBreaker(clock=self.clock),
                    budget=RetryBudget(clock=self.clock),
                    metrics=MetricsRecorder(name),
                )
                self._services[name] = state
            return state

    def configure(
        self,
        name: str,
        *,
        limiter: RateLimiter | None = None,
        breaker: CircuitBreaker | None = None,
        budget: RetryBudget | None = None,
    ) -> ServiceState:
        """Replace a service's components (e.g. a stricter breaker for Logiqs). Affects every policy of the service."""
        state = self.get(name)
        with self._lock:
            state.limiter = limiter or state.limiter
            state.breaker = breaker or state.breaker
            state.budget = budget or state.budget
        return state

    def snapshot(self) -> dict[str, dict[str, ServiceMetrics]]:
        with self._lock:
            services = list(self._services.values())
        return {s.name: s.metrics.snapshot() for s in services}

    def reset(self, clock: Clock | None = None, *, clear_hooks: bool = False) -> None:
        with self._lock:
            self._services.clear()
            if clear_hooks:
                self.retry_hooks.clear()
                self.metrics_hooks.clear()
                self.shared_limits.clear()
            self.clock = clock or SYSTEM_CLOCK


registry = ServiceRegistry()


def get_service(name: str) -> ServiceState:
    return registry.get(name)


def metrics_snapshot() -> dict[str, dict[str, ServiceMetrics]]:
    return registry.snapshot()


def add_retry_hook(hook: Callable[[RetryEvent], None]) -> Callable[[], None]:
    """Register ``hook(event: RetryEvent)`` for every call-level retry; returns a function that removes it."""
    registry.retry_hooks.append(hook)
    return lambda: _remove(registry.retry_hooks, hook)


def add_metrics_hook(hook: Callable[[CallRecord], None]) -> Callable[[], None]:
    """Register ``hook(record: CallRecord)`` for every finished call; returns a function that removes it."""
    registry.metrics_hooks.append(hook)
    return lambda: _remove(registry.metrics_hooks, hook)


def set_shared_limit(service: str, acquire: Callable[[], None]) -> Callable[[], None]:
    """Pace ``service``'s calls with a limit this process shares with others; returns a function that removes it.

    ``acquire()`` blocks until the shared limit admits one call (raising a ``MailroomError`` when it cannot say, e.g.
    its server is unreachable). The local token bucket and its adaptive slow-down still apply first, per process:
    the shared limit holds the sum of all workers to the service's quota, the local one reacts to throttling at
    once. The core stays ignorant of what implements it (the flow layer plugs in Prefect's global concurrency limits).
    """
    registry.shared_limits[service] = acquire
    return lambda: registry.shared_limits.pop(service, None) if registry.shared_limits.get(service) is acquire else None


def reset_registry(clock: Clock | None = None, *, clear_hooks: bool = False) -> None:
    """Forget every service and counter (tests). ``clock`` is used by services created afterwards.

    Hooks survive unless ``clear_hooks=True``: a process-wide hook (the Prefect task log line) installed once must
    not silently disappear because some earlier test reset the registry. Tests remove their own hooks with the
    remover that ``add_*_hook`` returns.
    """
    registry.reset(clock, clear_hooks=clear_hooks)


def _remove(hooks: list, hook: Callable) -> None:
    try:
        hooks.remove(hook)
    except ValueError:
        pass
