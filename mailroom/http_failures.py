"""What an HTTP error answer or a transport failure means for a retry, whichever client met it.

The vocabulary shared by the clients' vendor mappings (``mailroom.drive_errors``, ``mailroom.logiqs_errors``) and by
the resilience layer, which maps the plain socket/ssl/http.client errors itself. No vendor library is imported here:
a vendor's own knowledge (Google's reason tokens, requests' exception types) stays in its mapping module.

Every builder returns a ``translated`` error: its message is only the log-safe description of the failure, and the
resilience policy raises its own error worded with the service and the operation.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

from mailroom.errors import (
    AmbiguousOutcomeError,
    AuthError,
    ErrorClass,
    MailroomError,
    NotFoundError,
    PermanentError,
    Symptom,
    ThrottledError,
    TransientError,
)

THROTTLE_STATUSES = frozenset({429})
TRANSIENT_STATUSES = frozenset({408, 500, 502, 503, 504})
# Status codes that no override may ever make retryable: the request itself is wrong or not allowed.
NEVER_RETRYABLE_STATUSES = frozenset({400, 401, 403, 404})
# For a non-idempotent request these mean "the server may have done it": 500/502/504 can be raised after the work
# was done (or by a proxy that gave up waiting), and a load balancer in front of a CRM answers 503 when the backend
# stopped answering mid-request, so a committed write can come back as 503 too. Only 429 is a certain refusal.
MAYBE_APPLIED_STATUSES = frozenset({500, 502, 503, 504})


def answer_error(
    status: int | None,
    description: str,
    *,
    idempotent: bool,
    reason: str | None = None,
    reason_class: ErrorClass | None = None,
    permanent_kind: type[PermanentError] | None = None,
    retry_after: float | None = None,
) -> MailroomError:
    """The error an HTTP error answer stands for.

    ``reason``: the vendor's reason token, if the body had one (it becomes the error's ``reason``, else
    ``http_<status>``). ``reason_class``: what the vendor's table says that token means; it decides before the
    status does (Google answers "slow down" with a 403), except that a PERMANENT reason on a 5xx is still a server
    failure. ``permanent_kind``: the vendor's more specific permanent error (AuthError for a permission reason).
    """
    token = reason or (f"http_{status}" if status is not None else "http_error")
    common: dict[str, Any] = {"status": status, "reason": token, "translated": True}
    if reason_class is ErrorClass.THROTTLED or status in THROTTLE_STATUSES:
        return ThrottledError(description, retry_after=retry_after, **common)
    server_failed = status is not None and status >= 500
    if reason_class is ErrorClass.PERMANENT and not server_failed:
        return _permanent_kind(status, permanent_kind)(description, **common)
    if reason_class is ErrorClass.TRANSIENT or status in TRANSIENT_STATUSES or server_failed:
        if not idempotent and (status in MAYBE_APPLIED_STATUSES or status is None):
            return AmbiguousOutcomeError(description, **common)
        return TransientError(description, retry_after=retry_after, symptom=Symptom.BACKEND, **common)
    return _permanent_kind(status, permanent_kind)(description, **common)


def never_sent(reason: str, symptom: Symptom, description: str) -> TransientError:
    """A failure before the request left (refused, DNS, connect timeout): safe to retry even for a write."""
    return TransientError(description, reason=reason, symptom=symptom, translated=True)


def maybe_sent(reason: str, symptom: Symptom, description: str, *, idempotent: bool) -> MailroomError:
    """A failure after the request may have reached the server (read timeout, dropped connection, cut-off body)."""
    if idempotent:
        return TransientError(description, reason=reason, symptom=symptom, translated=True)
    return AmbiguousOutcomeError(description, reason=reason, translated=True)


def refused(reason: str, description: str, kind: type[PermanentError] = PermanentError) -> PermanentError:
    """A failure retrying cannot fix (a certificate that does not verify, a malformed URL, rejected credentials)."""
    return kind(description, reason=reason, translated=True)


def parse_retry_after(value: Any, *, now: float | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or HTTP-date). Garbage or negative values are ignored (None).

    ``now`` (epoch seconds) only turns an HTTP-date into seconds; tests inject it.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
        return max(0.0, seconds)
    return seconds if seconds >= 0 and seconds == seconds and seconds != float("inf") else None


def describe_foreign(exc: BaseException) -> str:
    """The generic description of an exception no mapping knows better: its text (cut short) or its type."""
    text = str(exc)
    return text[:200] if text else type(exc).__name__


def _permanent_kind(status: int | None, vendor_kind: type[PermanentError] | None) -> type[PermanentError]:
    if status == 401 or vendor_kind is AuthError:
        return AuthError
    if status == 404 or vendor_kind is NotFoundError:
        return NotFoundError
    return vendor_kind or PermanentError
