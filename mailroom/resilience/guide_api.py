"""The API the resilience guide documents, on top of ResiliencePolicy.

Reserved keyword-only options (consumed here, never passed to ``func``): ``service_name``, ``operation``,
``idempotent``, ``deadline``, ``jitter``, ``on_retry``. ``rate_limit_delay`` (the guide's per-call delay) becomes a
limiter of 1/rate_limit_delay calls per second for the service: the same spacing, but shared correctly between
threads and without delaying an idle caller.

Which calls share a circuit breaker, a retry budget, a limiter and metrics is decided by the *service name*:

* ``service_name="logiqs"`` (any name you pass): every call made under that name shares them, whichever function it
  wraps. A run of outage-like failures opens the breaker for all of them, which is what you want for one API.
* no ``service_name``: the state belongs to the wrapped function alone (its module and qualified name, e.g.
  ``billing.sync.fetch_invoices``; a ``functools.partial`` counts as the function it wraps). Five transient failures in
  a row of one function open *its* breaker for 30 s; another function of the same module is not affected. The
  guide's callers never asked for a breaker, so the guide API keeps it as narrow as the call it protects.
  The decorators default the same way (one service per decorated function), so ``calls_per_second`` and
  ``rate_limit_delay`` mean that function's rate.

The breaker itself (``mailroom.resilience.breaker.CircuitBreaker``): it opens after 5 consecutive THROTTLED /
TRANSIENT / AMBIGUOUS attempt failures (a PERMANENT answer such as a 404 proves the service is up and resets the
count); while it is open, calls fail at once with ``CircuitOpenError`` (class TRANSIENT, ``retry_after`` = seconds
until the probe); after a 30 s cooldown one call goes through as the probe and its outcome closes or re-opens it.
``registry.configure(name, breaker=CircuitBreaker(...))`` changes the thresholds of one service; a
``ResiliencePolicy(..., use_breaker=False)`` opts out.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable, Iterable, TypeVar

from mailroom.resilience.metrics import RetryEvent
from mailroom.resilience.policy import ResiliencePolicy
from mailroom.resilience.registry import registry

F = TypeVar("F", bound=Callable[..., Any])

_policies: dict[tuple, ResiliencePolicy] = {}
_policies_lock = threading.Lock()


def run_resiliently(
    func: Callable[..., Any],
    *args: Any,
    max_retries: int = 3,
    initial_delay: float = 1.0,
    backoff_factor: float = 2.0,
    max_delay: float = 60.0,
    retryable_exceptions: Iterable[type[BaseException]] | None = None,
    retryable_status_codes: Iterable[int] | None = None,
    rate_limit_delay: float = 0.0,
    service_name: str | None = None,
    operation: str | None = None,
    idempotent: bool = True,
    deadline: float | None = None,
    jitter: float = 0.5,
    on_retry: Callable[[RetryEvent], None] | None = None,
    **kwargs: Any,
) -> Any:
    """Call ``func(*args, **kwargs)`` with classification-driven retries, backoff with jitter, Retry-After,
    per-service limiter, circuit breaker and retry budget. Raises ``mailroom.errors`` subclasses (original as
    ``__cause__``) for failures it recognises; unrecognised exceptions (bugs) propagate unchanged.

    Circuit breaker and retry budget: shared by every call with the same ``service_name``; without one, they belong
    to ``func`` alone (see the module docstring), so failures of one function never make another fail fast.
    While the breaker is open the call raises ``CircuitOpenError`` without calling ``func``."""
    service = service_name or _function_service(func)
    if retryable_exceptions is not None:
        retryable_exceptions = tuple(retryable_exceptions)
    if retryable_status_codes is not None:
        retryable_status_codes = frozenset(retryable_status_codes)
    # A flat tuple: building tenacity's Retrying (or even sorting a settings dict) per call costs more than the
    # rest of the success path.
    key = (service, max_retries, initial_delay, backoff_factor, max_delay, retryable_exceptions, retryable_status_codes,
           rate_limit_delay, deadline, jitter, on_retry)
    policy = _policies.get(key)
    if policy is None:
        policy = _new_policy(
            key,
            service,
            max_retries=max_retries,
            initial_delay=initial_delay,
            backoff_factor=backoff_factor,
            max_delay=max_delay,
            retryable_exceptions=retryable_exceptions,
            retryable_status_codes=retryable_status_codes,
            calls_per_second=(1.0 / rate_limit_delay) if rate_limit_delay and rate_limit_delay > 0 else None,
            deadline=deadline,
            jitter=jitter,
            on_retry=on_retry,
        )
    return policy.call(func, *args, operation=operation or _operation_name(func), idempotent=idempotent, **kwargs)


def api_call_with_retry(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The guide's ``_api_call_with_retry``: ``run_resiliently`` with the guide's defaults."""
    return run_resiliently(func, *args, **kwargs)


def resilient_api_call(
    max_retries: int = 3,
    initial_delay: float = 1.0,
    backoff_factor: float = 2.0,
    max_delay: float = 60.0,
    rate_limit_delay: float = 0.0,
    **options: Any,
) -> Callable[[F], F]:
    """Decorator form of ``run_resiliently`` (extra keyword options as there).

    Breaker, budget and limiter belong to the decorated function unless ``service_name=`` is given."""

    def decorate(func: F) -> F:
        # One service per decorated function: two decorated functions in one module keep their own rates.
        settings = {"service_name": _function_service(func), **options}

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return run_resiliently(
                func, *args, max_retries=max_retries, initial_delay=initial_delay, backoff_factor=backoff_factor,
                max_delay=max_delay, rate_limit_delay=rate_limit_delay, **settings, **kwargs,
            )

        return wrapper  # type: ignore[return-value]

    return decorate


def rate_limited(calls_per_second: float = 10.0, *, burst: int = 1, service_name: str | None = None) -> Callable[[F], F]:
    """Hold ``func`` to ``calls_per_second`` across all threads (token bucket; ``burst`` calls may go at once).

    Without ``service_name`` each decorated function has its own bucket; with it, functions share the service's.
    """
    if calls_per_second <= 0:
        raise ValueError("calls_per_second must be positive")

    def decorate(func: F) -> F:
        name = service_name or f"rate_limited:{_function_service(func)}"

        configured: list[object] = [None]  # the registry entry we configured (reset_registry makes a new one)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            state = registry.get(name)
            if configured[0] is not state:
                state.limiter.configure(calls_per_second, burst)
                configured[0] = state
            wait = state.limiter.reserve()
            if wait > 0:
                registry.clock.sleep(wait)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def with_retries_and_rate_limit(
    max_retries: int = 3, calls_per_second: float = 10.0, initial_delay: float = 1.0, **options: Any
) -> Callable[[F], F]:
    """Retries and rate limiting together; every attempt (retries included) takes a limiter slot."""
    if calls_per_second <= 0:
        raise ValueError("calls_per_second must be positive")
    return resilient_api_call(max_retries=max_retries, initial_delay=initial_delay, rate_limit_delay=1.0 / calls_per_second, **options)


def _new_policy(key: tuple, service: str, **settings: Any) -> ResiliencePolicy:
    with _policies_lock:
        policy = _policies.get(key)
        if policy is None:
            if len(_policies) > 1024:  # unbounded distinct settings (e.g. a new on_retry closure per call)
                _policies.clear()
            policy = _policies[key] = ResiliencePolicy(service, **settings)
    return policy


def _function_service(func: Callable[..., Any]) -> str:
    """The service name of a function called without ``service_name``: ``module.qualname``.

    Named, not keyed on the object, so the registry stays bounded when a caller builds a new closure per call (the
    closures of one ``def`` share a name, and so their state). A partial is the function it wraps."""
    while isinstance(func, functools.partial):
        func = func.func
    module = getattr(func, "__module__", None) or getattr(type(func), "__module__", None) or "default"
    return f"{module}.{_operation_name(func)}"


def _operation_name(func: Callable[..., Any]) -> str:
    while isinstance(func, functools.partial):
        func = func.func
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or type(func).__name__
