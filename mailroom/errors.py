"""One exception hierarchy for mailroom.

Every failure carries its classification, so the call-level retry (mailroom.resilience) and the Prefect-level
``retry_condition_fn`` (tasks/) read the same answer instead of re-deriving it from messages.
"""

from __future__ import annotations

from enum import Enum


class ErrorClass(str, Enum):
    """How a failure should be treated by anything that might retry it."""

    THROTTLED = "throttled"  # the service asked us to slow down: retry after waiting
    TRANSIENT = "transient"  # a blip (5xx, reset, timeout on an idempotent call): retry with backoff
    PERMANENT = "permanent"  # retrying cannot help (400/401/403-permission/404, bad input)
    AMBIGUOUS = "ambiguous"  # a non-idempotent call may have taken effect: check before any retry

    @property
    def retryable(self) -> bool:
        return self in (ErrorClass.THROTTLED, ErrorClass.TRANSIENT)


class MailroomError(Exception):
    """Root of every error mailroom raises on purpose.

    Messages must be safe to log: identifiers and status codes, never response bodies, secrets or full SSNs.
    """

    error_class: ErrorClass = ErrorClass.PERMANENT

    def __init__(
        self,
        message: str,
        *,
        error_class: ErrorClass | None = None,
        service: str | None = None,
        operation: str | None = None,
        status: int | None = None,
        reason: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        if error_class is not None:
            self.error_class = error_class
        self.service = service
        self.operation = operation
        self.status = status
        self.reason = reason
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.error_class.retryable


class ThrottledError(MailroomError):
    error_class = ErrorClass.THROTTLED


class RateLimitedError(ThrottledError):
    """The service asked for a wait longer than we are willing to sleep inside one call (Retry-After > max_delay)."""


class TransientError(MailroomError):
    error_class = ErrorClass.TRANSIENT


class PermanentError(MailroomError):
    error_class = ErrorClass.PERMANENT


class AuthError(PermanentError):
    """Bad credentials (401) or a missing scope/permission: fail fast, zero retries."""


class NotFoundError(PermanentError):
    pass


class ConfigurationError(PermanentError):
    """Something the operator must set up (a block, a folder id) is missing or wrong."""


class AmbiguousOutcomeError(MailroomError):
    """A non-idempotent request failed in a way that does not tell whether it took effect."""

    error_class = ErrorClass.AMBIGUOUS


class CircuitOpenError(MailroomError):
    """The service's circuit breaker is open: we fail fast without calling it.

    Classified TRANSIENT so a later (Prefect-level) attempt may try again after the cooldown; the call-level retry
    never spins on it.
    """

    error_class = ErrorClass.TRANSIENT


class RetryBudgetExhaustedError(MailroomError):
    """The service's retry budget is spent: the underlying error is re-raised as this, keeping its class."""
