"""Map any exception to THROTTLED / TRANSIENT / PERMANENT / AMBIGUOUS, from structure first.

This layer knows no vendor. It classifies our own ``MailroomError`` (which already knows its class; a vendor
failure arrives as one, translated where the client met its vendor: mailroom.drive_errors, mailroom.logiqs_errors),
plain transport errors (socket, ssl, http.client: connect vs read phase), and, last, message keywords of foreign
exceptions that carry nothing else. A raw vendor exception raised by a guide-API caller's own function is first
offered to the vendor adapters (``mailroom.resilience.adapters``). Anything still unknown is PERMANENT and
``recognized=False`` so the policy lets it propagate unchanged (a ``KeyError`` from a bug should surface as itself,
not be retried or disguised).
"""

from __future__ import annotations

import errno
import http.client
import socket
import ssl
from dataclasses import dataclass, replace

from mailroom.errors import ErrorClass, MailroomError, Symptom
from mailroom.http_failures import (  # noqa: F401 - parse_retry_after and the status sets are re-exported
    MAYBE_APPLIED_STATUSES,
    NEVER_RETRYABLE_STATUSES,
    THROTTLE_STATUSES,
    TRANSIENT_STATUSES,
    describe_foreign,
    maybe_sent,
    never_sent,
    parse_retry_after,
    refused,
)
from mailroom.resilience.adapters import translate as translate_foreign

# Guide log labels ("quota/rate limit - Attempt 2/4 failed ...").
LABEL_THROTTLED = Symptom.THROTTLED.value
LABEL_BACKEND = Symptom.BACKEND.value
LABEL_TIMEOUT = Symptom.TIMEOUT.value
LABEL_NETWORK = Symptom.NETWORK.value
LABEL_AMBIGUOUS = Symptom.AMBIGUOUS.value
LABEL_PERMANENT = Symptom.PERMANENT.value

_UNREACHABLE_ERRNOS = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN})
# Bugs, not outages: never keyword-matched, never promoted by a catch-all `Exception` override.
PROGRAMMING_ERRORS = (LookupError, TypeError, AttributeError, NameError, AssertionError, ValueError, ImportError)

_THROTTLE_KEYWORDS = ("quota", "rate limit", "ratelimit", "rate-limit", "too many requests")
_TRANSIENT_KEYWORDS = (
    ("timeout", Symptom.TIMEOUT),
    ("timed out", Symptom.TIMEOUT),
    ("backend error", Symptom.BACKEND),
    ("service unavailable", Symptom.BACKEND),
    ("temporarily unavailable", Symptom.BACKEND),
    ("connection reset", Symptom.NETWORK),
    ("connection aborted", Symptom.NETWORK),
)


@dataclass(frozen=True, slots=True)
class Classification:
    """The one answer every retry decision reads."""

    error_class: ErrorClass
    reason: str
    status: int | None = None
    retry_after: float | None = None
    label: str = LABEL_PERMANENT
    recognized: bool = True  # False: nothing structural or keyword matched (propagate the original unchanged)
    programming_error: bool = False
    kind: type[MailroomError] | None = None  # the class a translated failure was mapped to (AuthError, ...)
    description: str | None = None  # log-safe description of a translated failure's original exception

    @property
    def retryable(self) -> bool:
        return self.error_class.retryable


def classify(exc: BaseException, *, idempotent: bool = True, now: float | None = None) -> Classification:
    """Classify ``exc``. ``idempotent=False`` turns "the request may have been sent" failures into AMBIGUOUS.

    ``now`` (epoch seconds) is only used to turn an HTTP-date Retry-After into seconds; tests inject it.
    """
    if isinstance(exc, MailroomError):
        if exc.translated:
            return _from_translation(exc)
        return Classification(
            exc.error_class,
            exc.reason or type(exc).__name__,
            exc.status,
            exc.retry_after,
            label=_label_for(exc.error_class, exc.status),
        )
    translation = translate_foreign(exc, idempotent=idempotent, now=now) or _from_transport(exc, idempotent)
    if translation is not None:
        return _from_translation(translation)
    return _from_message(exc, idempotent)


def apply_overrides(
    classification: Classification,
    exc: BaseException,
    *,
    retryable_exceptions: tuple[type[BaseException], ...] | None,
    retryable_status_codes: frozenset[int] | None,
) -> Classification:
    """Let callers extend or narrow what is retried, without ever un-breaking a request that is wrong.

    - AMBIGUOUS is never promoted (retrying could repeat an effect).
    - 400/401/403 (non-throttle)/404 stay PERMANENT whatever is passed.
    - A catch-all (`Exception`/`BaseException`) only promotes failures we did not recognise at all; it never
      promotes a recognised permanent or a programming error such as `KeyError` (the guide's old defect).
    """
    result = classification
    status = classification.status
    if retryable_status_codes is not None and status is not None and result.error_class is not ErrorClass.AMBIGUOUS:
        if result.retryable and status not in retryable_status_codes:
            result = replace(result, error_class=ErrorClass.PERMANENT, reason=f"{result.reason} (status not in retryable_status_codes)", label=LABEL_PERMANENT)
        elif not result.retryable and status in retryable_status_codes and status not in NEVER_RETRYABLE_STATUSES:
            result = replace(result, error_class=ErrorClass.TRANSIENT, reason=f"http_{status} (retryable_status_codes)", label=LABEL_BACKEND)
    if retryable_exceptions is None or result.error_class is ErrorClass.AMBIGUOUS:
        return result
    matching = [t for t in retryable_exceptions if isinstance(exc, t)]
    if result.retryable:
        if not matching and not isinstance(exc, MailroomError):
            return replace(result, error_class=ErrorClass.PERMANENT, reason=f"{result.reason} (not in retryable_exceptions)", label=LABEL_PERMANENT)
        return result
    if not matching or (status is not None and status in NEVER_RETRYABLE_STATUSES):
        return result
    listed_specifically = any(t not in (Exception, BaseException) for t in matching)
    if not listed_specifically and (result.recognized or result.programming_error):
        return result
    return replace(result, error_class=ErrorClass.TRANSIENT, reason=f"{type(exc).__name__} (retryable_exceptions)", label=LABEL_NETWORK, recognized=True)


def describe(exc: BaseException) -> str:
    """A short, log-safe description: status and reason for HTTP errors (never the URL or the body)."""
    if isinstance(exc, MailroomError) and exc.translated:
        return str(exc)
    if not isinstance(exc, MailroomError):
        translation = translate_foreign(exc)
        if translation is not None:
            return str(translation)
    return describe_foreign(exc)


def _from_translation(error: MailroomError) -> Classification:
    """A vendor or transport failure already mapped to one of our classes: its class, reason and description."""
    label = error.symptom.value if error.symptom is not None else _label_for(error.error_class, error.status)
    kind = type(error) if type(error).error_class is error.error_class else None
    return Classification(error.error_class, error.reason or type(error).__name__, error.status, error.retry_after,
                          label=label, kind=kind, description=str(error))


def _from_transport(exc: BaseException, idempotent: bool) -> MailroomError | None:
    """Plain socket / ssl / http.client failures, by phase: refused or unresolved means nothing was sent."""
    if isinstance(exc, (ConnectionRefusedError, socket.gaierror)) or (
        type(exc) is OSError and exc.errno in _UNREACHABLE_ERRNOS  # httplib2 lets raw connect() errors through
    ):
        return never_sent("connect_failed", Symptom.NETWORK, describe_foreign(exc))
    if isinstance(exc, ssl.SSLCertVerificationError):
        return refused("tls_certificate", describe_foreign(exc))
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError; httplib2 cannot tell connect from read
        return maybe_sent("timeout", Symptom.TIMEOUT, describe_foreign(exc), idempotent=idempotent)
    if isinstance(exc, (ConnectionError, http.client.IncompleteRead, http.client.HTTPException, ssl.SSLError)):
        return maybe_sent(type(exc).__name__, Symptom.NETWORK, describe_foreign(exc), idempotent=idempotent)
    return None


def _from_message(exc: BaseException, idempotent: bool) -> Classification:
    """The last resort, for foreign exceptions that carry nothing structural: a few message keywords."""
    if isinstance(exc, PROGRAMMING_ERRORS):
        return Classification(ErrorClass.PERMANENT, type(exc).__name__, label=LABEL_PERMANENT, recognized=False, programming_error=True)
    if isinstance(exc, Exception):
        message = str(exc).lower()
        if any(word in message for word in _THROTTLE_KEYWORDS):
            return Classification(ErrorClass.THROTTLED, "keyword:quota/rate limit", label=LABEL_THROTTLED)
        for word, symptom in _TRANSIENT_KEYWORDS:
            if word in message:
                keyword = maybe_sent(f"keyword:{word}", symptom, describe_foreign(exc), idempotent=idempotent)
                return _from_translation(keyword)
    return Classification(ErrorClass.PERMANENT, type(exc).__name__, label=LABEL_PERMANENT, recognized=False)


def _label_for(error_class: ErrorClass, status: int | None) -> str:
    if error_class is ErrorClass.THROTTLED:
        return LABEL_THROTTLED
    if error_class is ErrorClass.TRANSIENT:
        return LABEL_BACKEND if status else LABEL_NETWORK
    if error_class is ErrorClass.AMBIGUOUS:
        return LABEL_AMBIGUOUS
    return LABEL_PERMANENT
