"""Resilience core: every call mailroom makes to Drive and Logiqs goes through here.

Public API (see docs/resilience.md): the guide's ``run_resiliently``, ``resilient_api_call``, ``rate_limited``,
``with_retries_and_rate_limit``, ``api_call_with_retry``; ``classify``; ``ResiliencePolicy``; the per-service
``registry`` with ``get_service``, ``metrics_snapshot``, ``add_metrics_hook``, ``add_retry_hook``, ``reset_registry``,
``set_shared_limit`` (a limit shared with other processes, injected from outside the core);
``register_error_adapter`` for another vendor's exceptions.

This package imports no vendor library: it classifies our own errors and plain transport errors; vendor exceptions
are translated by the clients' mappings (mailroom.drive_errors, mailroom.logiqs_errors), see ``adapters``.
"""

from mailroom.resilience.adapters import register_error_adapter
from mailroom.resilience.breaker import BreakerState, CircuitBreaker
from mailroom.resilience.budget import RetryBudget
from mailroom.resilience.clock import SYSTEM_CLOCK, Clock, FakeClock, SystemClock
from mailroom.resilience.guide_api import (
    api_call_with_retry,
    rate_limited,
    resilient_api_call,
    run_resiliently,
    with_retries_and_rate_limit,
)
from mailroom.resilience.limiter import RateLimiter
from mailroom.resilience.metrics import CallRecord, RetryEvent, ServiceMetrics
from mailroom.resilience.policy import ResiliencePolicy
from mailroom.resilience.registry import (
    ServiceRegistry,
    ServiceState,
    add_metrics_hook,
    add_retry_hook,
    get_service,
    metrics_snapshot,
    registry,
    reset_registry,
    set_shared_limit,
)
from mailroom.resilience.taxonomy import Classification, classify, describe, parse_retry_after

__all__ = [
    "BreakerState",
    "CallRecord",
    "CircuitBreaker",
    "Classification",
    "Clock",
    "FakeClock",
    "RateLimiter",
    "ResiliencePolicy",
    "RetryBudget",
    "RetryEvent",
    "SYSTEM_CLOCK",
    "ServiceMetrics",
    "ServiceRegistry",
    "ServiceState",
    "SystemClock",
    "add_metrics_hook",
    "add_retry_hook",
    "api_call_with_retry",
    "classify",
    "describe",
    "get_service",
    "metrics_snapshot",
    "parse_retry_after",
    "rate_limited",
    "register_error_adapter",
    "registry",
    "reset_registry",
    "resilient_api_call",
    "run_resiliently",
    "set_shared_limit",
    "with_retries_and_rate_limit",
]
