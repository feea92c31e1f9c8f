"""ResiliencePolicy: our retry policy, executed by tenacity.

tenacity owns the loop; we supply its strategies:
- ``retry``: the attempt's Classification (THROTTLED/TRANSIENT retry; PERMANENT/AMBIGUOUS, RateLimited and
  CircuitOpen never do),
- ``wait``: Retry-After when the server sent one (it replaces the backoff), else capped exponential backoff with
  jitter,
- ``stop``: attempts, the optional overall deadline, then the service's retry budget (spent last, only for a retry
  that would otherwise happen),
- ``before_sleep``: the guide's log line, metrics and retry hooks; ``retry_error_callback``: the give-up error.

Each attempt goes through the service's circuit breaker and rate limiter, and a failure is converted into a
``MailroomError`` subclass (original chained as ``__cause__``) before tenacity sees it, so everything downstream
reads one classification. Exceptions nothing recognises (a ``KeyError`` from a bug) propagate unchanged.

A vendor failure usually arrives already translated by the client that met the vendor (``translated=True``, the
vendor exception as its ``__cause__``). The policy treats it exactly like the vendor exception it stands for: the
overrides, the log lines and the ``__cause__`` of the error it raises all see the vendor exception, and the message
is worded here, with the service and the operation.
"""

from __future__ import annotations

import logging
import random as _random
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from tenacity import RetryCallState, Retrying

from mailroom.errors import (
    AmbiguousOutcomeError,
    AuthError,
    CircuitOpenError,
    ErrorClass,
    MailroomError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    RetryBudgetExhaustedError,
    ThrottledError,
    TransientError,
)
from mailroom.pii import scrub
from mailroom.resilience.clock import Clock
from mailroom.resilience.metrics import CallRecord, RetryEvent, emit
from mailroom.resilience.registry import ServiceState, registry
from mailroom.resilience.taxonomy import Classification, apply_overrides, classify, describe

logger = logging.getLogger("mailroom.resilience")

_ERROR_TYPES = {
    ErrorClass.THROTTLED: ThrottledError,
    ErrorClass.TRANSIENT: TransientError,
    ErrorClass.AMBIGUOUS: AmbiguousOutcomeError,
    ErrorClass.PERMANENT: PermanentError,
}


@dataclass(slots=True)
class _Call:
    """Per-call state handed to tenacity as the attempt function's only argument (strategies read it back)."""

    func: Callable[..., Any]
    args: tuple
    kwargs: dict
    operation: str
    idempotent: bool
    state: ServiceState
    clock: Clock
    started: float
    last: Classification | None = None
    last_original: BaseException | None = None
    stop_reason: str = ""
    attempts: int = 0


class ResiliencePolicy:
    """How calls to one named service are retried, paced and guarded. Cheap to call, safe to share between threads.

    ``service`` names the shared limiter/breaker/budget/metrics. ``calls_per_second``/``burst`` configure the
    service's token bucket (slowest policy wins). ``jitter`` ∈ [0, 1]: waits fall in [base·(1−jitter), base].
    ``deadline``: seconds for the whole call, retries included. ``retryable_exceptions``/``retryable_status_codes``:
    see ``taxonomy.apply_overrides``. ``use_breaker``/``use_budget``/``adaptive``: opt out of the circuit breaker,
    the retry budget, or slowing the shared limiter on throttles. ``clock``/``sleep``/``random``: injection for tests
    (default: the registry's clock and its ``sleep``). ``on_retry``: a retry hook for this policy only.
    """

    def __init__(
        self,
        service: str,
        *,
        max_retries: int = 3,
        initial_delay: float = 1.0,
        backoff_factor: float = 2.0,
        max_delay: float = 60.0,
        calls_per_second: float | None = None,
        burst: int = 1,
        jitter: float = 0.5,
        deadline: float | None = None,
        retryable_exceptions: Iterable[type[BaseException]] | None = None,
        retryable_status_codes: Iterable[int] | None = None,
        use_breaker: bool = True,
        use_budget: bool = True,
        adaptive: bool = True,
        clock: Clock | None = None,
        sleep: Callable[[float], None] | None = None,
        random: Callable[[], float] | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> None:
        if max_retries < 0 or initial_delay < 0 or backoff_factor < 1 or max_delay < 0 or not 0 <= jitter <= 1:
            raise ValueError("need max_retries>=0, delays>=0, backoff_factor>=1, 0<=jitter<=1")
        self.service = service
        self.max_retries = max_retries
        self.initial_delay = initial_delay
        self.backoff_factor = backoff_factor
        self.max_delay = max_delay
        self.calls_per_second = calls_per_second
        self.burst = burst
        self.jitter = jitter
        self.deadline = deadline
        self.retryable_exceptions = tuple(retryable_exceptions) if retryable_exceptions is not None else None
        self.retryable_status_codes = frozenset(retryable_status_codes) if retryable_status_codes is not None else None
        self.use_breaker = use_breaker
        self.use_budget = use_budget
        self.adaptive = adaptive  # False: this policy's throttles do not slow the shared limiter (e.g. chaos runs)
        self._clock = clock  # None: the registry's clock at call time (reset_registry(clock=...) reaches us)
        self._sleep = sleep
        self._random = random or _random.random
        self._on_retry = on_retry
        self._configured_state: ServiceState | None = None
        self._retrying = Retrying(
            sleep=self._do_sleep,
            retry=self._should_retry,
            wait=self._compute_wait,
            stop=self._should_stop,
            before_sleep=self._before_sleep,
            retry_error_callback=self._give_up,
            reraise=True,
        )

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1

    @property
    def clock(self) -> Clock:
        """The clock this policy reads now (its own, else the registry's): a client reads Retry-After dates with it."""
        return self._clock or registry.clock

    def call(self, func: Callable[..., Any], /, *args: Any, operation: str = "call", idempotent: bool = True, **kwargs: Any) -> Any:
        state = self._state()
        clock = self.clock
        ctx = _Call(func, args, kwargs, operation, idempotent, state, clock, clock.monotonic())
        if self.use_budget:
            state.budget.record_call()
        try:
            result = self._retrying(self._attempt, ctx)
        except BaseException as exc:
            self._finish(ctx, succeeded=False, exc=exc)
            raise
        self._finish(ctx, succeeded=True, exc=None)
        return result

    def backoff(self, attempt: int) -> float:
        """The un-jittered wait after failed attempt ``attempt`` (1-based): initial × factor^(n-1), capped."""
        try:
            return min(self.max_delay, self.initial_delay * self.backoff_factor ** (attempt - 1))
        except OverflowError:
            return self.max_delay

    # --- one attempt -------------------------------------------------------------------------------------------

    def _attempt(self, ctx: _Call) -> Any:
        state = ctx.state
        ctx.last = None
        ctx.attempts += 1
        if self.use_breaker and not state.breaker.allow():
            state.metrics.count(ctx.operation, "circuit_rejections")
            wait = state.breaker.seconds_until_probe()
            raise CircuitOpenError(
                f"{self.service} circuit open: failing fast, next probe in {wait:.1f}s",
                service=self.service, operation=ctx.operation, reason="circuit_open", retry_after=wait,
            ) from ctx.last_original
        wait = state.limiter.reserve()
        if wait > 0:
            state.metrics.record_limiter_wait(ctx.operation, wait)
            self._do_sleep(wait)
        shared = registry.shared_limits.get(self.service)
        if shared is not None:  # every worker's calls together (e.g. a Prefect global rate limit)
            before = ctx.clock.monotonic()
            try:
                shared()
            except MailroomError as exc:  # the limit could not answer: nothing was sent, the service is not to blame
                ctx.last, ctx.last_original = classify(exc, idempotent=True, now=ctx.clock.time()), exc
                raise
            state.metrics.record_limiter_wait(ctx.operation, ctx.clock.monotonic() - before)
        try:
            result = ctx.func(*ctx.args, **ctx.kwargs)
        except Exception as exc:
            raise self._convert(ctx, exc)
        if self.use_breaker:
            state.breaker.record_success()
        return result

    def _convert(self, ctx: _Call, exc: Exception) -> BaseException:
        """Classify, update breaker/limiter, and return the exception to raise (a MailroomError when recognised)."""
        c = classify(exc, idempotent=ctx.idempotent, now=ctx.clock.time())
        translated = isinstance(exc, MailroomError) and exc.translated
        original = exc.__cause__ if translated and exc.__cause__ is not None else exc
        c = apply_overrides(c, original, retryable_exceptions=self.retryable_exceptions, retryable_status_codes=self.retryable_status_codes)
        ctx.last, ctx.last_original = c, original
        state = ctx.state
        if c.error_class is ErrorClass.THROTTLED:
            if self.adaptive:
                state.limiter.on_throttled()
            state.metrics.count(ctx.operation, "throttles")
        if self.use_breaker and not isinstance(exc, CircuitOpenError):
            if c.error_class is not ErrorClass.PERMANENT:
                if state.breaker.record_failure():
                    state.metrics.count(ctx.operation, "circuit_opens")
                    logger.warning(scrub(f"⛔ Circuit opened for {self.service} after {c.label} ({c.reason})"))
            elif c.status is not None:
                state.breaker.record_success()  # the service answered; the request was wrong, not the service
            else:
                state.breaker.release_probe()
        if c.retryable and c.retry_after is not None and c.retry_after > self.max_delay and not isinstance(exc, RateLimitedError):
            return self._chain(RateLimitedError(
                f"{self.service}.{ctx.operation}: server asked to wait {c.retry_after:.0f}s (> max_delay {self.max_delay:.0f}s); not waiting inside the call",
                service=self.service, operation=ctx.operation, status=c.status, reason=c.reason, retry_after=c.retry_after,
            ), original)
        if isinstance(exc, MailroomError) and not translated:
            exc.service = exc.service or self.service
            exc.operation = exc.operation or ctx.operation
            return exc
        if not c.recognized:
            return exc
        return self._chain(self._error_for(c, ctx, original), original)

    def _error_for(self, c: Classification, ctx: _Call, exc: BaseException) -> MailroomError:
        # The class the vendor mapping chose (AuthError for a permission reason...) unless an override changed the
        # error class; then HTTP's own meaning of 401 and 404 still names the permanent kind.
        kind: type[MailroomError] = _ERROR_TYPES[c.error_class]
        if c.kind is not None and c.kind.error_class is c.error_class:
            kind = c.kind
        if kind is PermanentError:
            if c.status == 401:
                kind = AuthError
            elif c.status == 404:
                kind = NotFoundError
        what = "may have taken effect" if c.error_class is ErrorClass.AMBIGUOUS else c.label
        status = f", status {c.status}" if c.status is not None else ""
        message = scrub(f"{self.service}.{ctx.operation} failed: {what} ({c.reason}{status}): {_description(c, exc)}")
        return kind(message, service=self.service, operation=ctx.operation, status=c.status, reason=c.reason, retry_after=c.retry_after)

    @staticmethod
    def _chain(error: MailroomError, cause: BaseException) -> MailroomError:
        error.__cause__ = cause
        return error

    # --- tenacity strategies -------------------------------------------------------------------------------------

    def _should_retry(self, rs: RetryCallState) -> bool:
        outcome = rs.outcome
        if outcome is None or not outcome.failed:
            return False
        ctx: _Call = rs.args[0]
        exc = outcome.exception()
        c = ctx.last or classify(exc, idempotent=ctx.idempotent)
        if isinstance(exc, (RateLimitedError, CircuitOpenError)) or not c.retryable:
            original = ctx.last_original if ctx.last is not None else exc
            if isinstance(exc, (RateLimitedError, CircuitOpenError)):
                # Not a final failure: the wait is longer than this call may sleep, so the caller's own retry (the
                # Prefect task's, in the flow) takes it from here. An ❌ ERROR here read as a failure in the UI.
                logger.warning(scrub(f"⚠️  {exc} (left to the caller's retry)"))
            elif c.error_class is ErrorClass.AMBIGUOUS:
                # Not an error yet: the caller (mailroom.effects) checks whether the write landed before deciding.
                logger.warning(scrub(f"⚠️  Ambiguous outcome: {_type_and_description(original, c)} "
                                     "(the request may have taken effect; not retried here)"))
            else:
                logger.error(scrub(f"❌ Non-retryable error: {_type_and_description(original, c)}"))
            return False
        return True

    def _compute_wait(self, rs: RetryCallState) -> float:
        c = rs.args[0].last
        if c is not None and c.retry_after is not None:
            return float(c.retry_after)  # the server's number replaces our backoff; never added to it
        base = self.backoff(rs.attempt_number)
        return base * (1.0 - self.jitter * self._random())

    def _should_stop(self, rs: RetryCallState) -> bool:
        ctx: _Call = rs.args[0]
        if rs.attempt_number >= self.max_attempts:
            ctx.stop_reason = "max_retries"
        elif self.deadline is not None and ctx.clock.monotonic() - ctx.started + (rs.upcoming_sleep or 0.0) > self.deadline:
            ctx.stop_reason = "deadline"
        elif self.use_budget and not ctx.state.budget.try_spend():
            ctx.stop_reason = "budget"
        else:
            return False
        return True

    def _before_sleep(self, rs: RetryCallState) -> None:
        ctx: _Call = rs.args[0]
        c = ctx.last
        assert c is not None  # only classified failures are retried
        wait = rs.upcoming_sleep
        # The guide's line, then what a person needs to find the call: service, operation, class and reason. It is
        # the only line per retry (the Prefect layer forwards it to the task run's log instead of writing its own).
        logger.warning(scrub(
            f"⚠️  {c.label} - Attempt {rs.attempt_number}/{self.max_attempts} failed. "
            f"Retrying in {wait:.1f}s... Error: {_description(c, ctx.last_original)} "
            f"[{self.service} {ctx.operation}: {c.error_class.value}, {c.reason}]"
        ))
        ctx.state.metrics.record_retry(ctx.operation, c.error_class, wait, c.retry_after)
        event = RetryEvent(self.service, ctx.operation, rs.attempt_number, self.max_attempts, wait, c.error_class, c.reason, c.status, c.retry_after)
        hooks = registry.retry_hooks if self._on_retry is None else [*registry.retry_hooks, self._on_retry]
        emit(hooks, event)

    def _give_up(self, rs: RetryCallState) -> Any:
        ctx: _Call = rs.args[0]
        exc = rs.outcome.exception()
        c = ctx.last
        label = c.label if c else "error"
        if ctx.stop_reason == "budget":
            ctx.state.metrics.count(ctx.operation, "budget_exhausted")
            logger.error(scrub(f"❌ Retry budget exhausted for {self.service}; giving up on {label} after {rs.attempt_number} attempt(s)"))
            raise self._chain(RetryBudgetExhaustedError(
                f"{self.service}.{ctx.operation}: retry budget exhausted after {rs.attempt_number} attempt(s) ({label}, {c.reason if c else '?'})",
                error_class=c.error_class if c else ErrorClass.TRANSIENT, service=self.service, operation=ctx.operation,
                status=c.status if c else None, reason=c.reason if c else None, retry_after=c.retry_after if c else None,
            ), ctx.last_original or exc)
        if ctx.stop_reason == "deadline":
            logger.error(scrub(f"❌ Deadline ({self.deadline:.1f}s) reached for {label} after {rs.attempt_number} attempt(s)"))
        else:
            logger.error(f"❌ Max retries ({self.max_retries}) exhausted for {label}")
        raise exc

    def _do_sleep(self, seconds: float) -> None:
        sleep = self._sleep or getattr(self._clock or registry.clock, "sleep")
        sleep(seconds)

    # --- bookkeeping ---------------------------------------------------------------------------------------------

    def _state(self) -> ServiceState:
        state = registry.get(self.service)
        if state is not self._configured_state:
            state.limiter.configure(self.calls_per_second, self.burst)
            self._configured_state = state
        return state

    def _finish(self, ctx: _Call, *, succeeded: bool, exc: BaseException | None) -> None:
        latency = ctx.clock.monotonic() - ctx.started
        attempts = ctx.attempts
        error_class = None
        if exc is not None:
            error_class = exc.error_class if isinstance(exc, MailroomError) else ErrorClass.PERMANENT
        ctx.state.metrics.record_call(ctx.operation, succeeded=succeeded, latency=latency, error_class=error_class)
        if succeeded:
            retries = attempts - 1
            logger.log(logging.INFO if retries else logging.DEBUG, "✅ Success after %d retries", retries)
        if registry.metrics_hooks:
            reason = exc.reason if isinstance(exc, MailroomError) else (type(exc).__name__ if exc else None)
            emit(registry.metrics_hooks, CallRecord(self.service, ctx.operation, succeeded, attempts, latency, error_class, reason))


def _description(c: Classification, exc: BaseException | None) -> str:
    """The original exception's log-safe description (a translated failure brought its own)."""
    return c.description if c.description is not None else describe(exc)


def _type_and_description(exc: BaseException | None, c: Classification) -> str:
    if exc is None:
        return "unknown"
    text = _description(c, exc)
    name = type(exc).__name__
    return text if text.startswith(name) else f"{name}: {text}"
