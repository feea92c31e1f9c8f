"""One exception hierarchy for mailroom: every error class mailroom raises is defined here.

Every failure carries its classification (``ErrorClass``), so the call-level retry (mailroom.resilience) and the
Prefect-level ``retry_condition_fn`` (tasks/) read the same answer instead of re-deriving it from messages. Vendor
exceptions (googleapiclient, httplib2, google-auth, requests) are turned into these classes where each client meets
its vendor: ``mailroom.drive_errors`` and ``mailroom.logiqs_errors`` / ``LogiqsClient._unwrap``.

The tree (class, its ErrorClass, when it is raised)::

    Exception
    └── MailroomError ............. PERMANENT  root; raised as itself for a ledger invariant a caller broke
        │                                      (effect already recorded, MATCHED before both effects, case changed)
        ├── ThrottledError ........ THROTTLED  the service asked us to slow down: HTTP 429, Google's rate-limit
        │   │                                  reasons (even on a 403)
        │   └── RateLimitedError .. THROTTLED  the policy: Retry-After is longer than max_delay, so the call
        │                                      does not wait for it (a Prefect-level retry may)
        ├── TransientError ........ TRANSIENT  a blip: 408/5xx or Google's backend reasons on an idempotent call,
        │                                      a refused/reset/timed-out connection, an md5 mismatch after a
        │                                      Drive download or upload, a retryable token-endpoint failure
        ├── PermanentError ........ PERMANENT  retrying cannot help: other 4xx, Google's quota/permission reasons,
        │   │                                  bad input, a document over Logiqs' 6 MB, a folder where a file was
        │   │                                  expected, a certificate that does not verify
        │   ├── AuthError ......... PERMANENT  HTTP 401, a missing permission/scope (Google permission reasons,
        │   │                                  Logiqs Success=false 401/403), a service-account key the token
        │   │                                  endpoint refuses
        │   ├── NotFoundError ..... PERMANENT  HTTP 404, Google's notFound, Logiqs Success=false 404
        │   ├── ConfigurationError  PERMANENT  a block, setting, folder id or OCR engine the operator must fix
        │   └── ExtractionError ... PERMANENT  a notice file mailroom cannot read (``.failure``: EMPTY, NOT_PDF,
        │                                      ENCRYPTED, CORRUPT, TOO_MANY_PAGES, TOO_LARGE, TIMEOUT, NO_TEXT)
        ├── AmbiguousOutcomeError . AMBIGUOUS  a non-idempotent write failed after it may have been sent (500/
        │                                      502/503/504, read timeout, dropped connection, a malformed success
        │                                      answer): mailroom.effects looks for the marker before any retry
        ├── CircuitOpenError ...... TRANSIENT  the policy: the service's circuit breaker is open, so the call
        │                                      failed fast without reaching the service
        ├── RetryBudgetExhaustedError  (kept)  the policy: the service's retry budget is spent; keeps the class
        │                                      of the failure it gave up on
        └── LeaseLostError ........ PERMANENT  the ledger: this run's lease on a notice expired and another run
                                               claimed it (never retried: the other run owns the notice now)
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


class Symptom(str, Enum):
    """How a failure showed itself, in the resilience guide's log wording ("⚠️  timeout - Attempt 2/4 failed...").

    Only a vendor error mapping sets it (a read timeout and a 503 are both TRANSIENT but are logged differently);
    otherwise the resilience layer derives it from the class and the status.
    """

    THROTTLED = "quota/rate limit"
    BACKEND = "backend error"  # the service answered with an error
    TIMEOUT = "timeout"
    NETWORK = "network error"  # the connection failed or dropped
    AMBIGUOUS = "ambiguous outcome"
    PERMANENT = "permanent error"


class MailroomError(Exception):
    """Root of every error mailroom raises on purpose.

    Messages must be safe to log: identifiers and status codes, never response bodies, secrets or full SSNs.

    ``translated=True`` marks an error a client's vendor mapping made from a vendor exception (chained as
    ``__cause__``); its message is then only that exception's log-safe description (``HttpError 503
    backendError``), and the resilience policy raises its own error worded with the service and operation, exactly
    as for a vendor exception it classified itself. ``symptom`` is how the failure showed (see ``Symptom``).
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
        symptom: Symptom | None = None,
        translated: bool = False,
    ) -> None:
        super().__init__(message)
        if error_class is not None:
            self.error_class = error_class
        self.service = service
        self.operation = operation
        self.status = status
        self.reason = reason
        self.retry_after = retry_after
        self.symptom = symptom
        self.translated = translated

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


class ExtractionFailure(str, Enum):
    """Why a notice file cannot be read (``ExtractionError.failure``; also the report's reason)."""

    EMPTY = "EMPTY"
    NOT_PDF = "NOT_PDF"
    ENCRYPTED = "ENCRYPTED"
    CORRUPT = "CORRUPT"
    TOO_MANY_PAGES = "TOO_MANY_PAGES"
    TOO_LARGE = "TOO_LARGE"
    TIMEOUT = "TIMEOUT"
    NO_TEXT = "NO_TEXT"


class ExtractionError(PermanentError):
    """A file mailroom cannot read. Permanent: reading it again gives the same answer."""

    def __init__(self, failure: ExtractionFailure, message: str) -> None:
        super().__init__(message, service="extraction", operation="extract_notice", reason=failure.value)
        self.failure = failure

    def __repr__(self) -> str:
        return f"ExtractionError({self.failure.value}: {self.args[0]})"


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


class LeaseLostError(MailroomError):
    """This owner no longer holds the notice's lease (it expired and another run claimed it). Never retried."""

    error_class = ErrorClass.PERMANENT
