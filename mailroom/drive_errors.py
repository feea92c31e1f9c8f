"""Google's failures as mailroom errors: the one module that knows googleapiclient's, httplib2's and google-auth's
exceptions and Google's error ``reason`` tokens.

``DriveClient`` runs every request inside ``google_errors(idempotent=...)``, so the resilience policy around it only
ever sees ``mailroom.errors`` classes and plain socket/ssl errors (httpx's transports are the model: the layer that
meets the library maps its exceptions). ``translate`` is also what the resilience layer's adapter registry offers a
raw Google exception raised by a guide-API caller's own function, so both paths classify a failure the same way.

A new Google reason is supported by adding it to one of the tables below (docs/resilience.md, "Where vendor errors
are mapped").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httplib2
from google.auth import exceptions as auth_exceptions
from googleapiclient.errors import HttpError

from mailroom.errors import AuthError, ErrorClass, MailroomError, NotFoundError, PermanentError, Symptom
from mailroom.http_failures import answer_error, describe_foreign, maybe_sent, never_sent, parse_retry_after, refused

# Google's per-error `reason` tokens (https://developers.google.com/drive/api/guides/handle-errors). A 403 is not
# one thing: some 403s ask us to slow down, others will fail the same way forever.
GOOGLE_THROTTLE_REASONS = frozenset({"userRateLimitExceeded", "rateLimitExceeded", "sharingRateLimitExceeded"})
GOOGLE_TRANSIENT_REASONS = frozenset({"backendError", "internalError", "transientError"})
GOOGLE_PERMANENT_REASONS = frozenset(
    {
        "dailyLimitExceeded",
        "storageQuotaExceeded",
        "insufficientFilePermissions",
        "insufficientPermissions",
        "forbidden",
        "authError",
        "notFound",
        "badRequest",
        "invalid",
        "required",
        "domainPolicy",
        "appNotAuthorizedToFile",
    }
)
# Permanent reasons that are raised as a more specific class (AuthError: fix the credentials or the sharing).
GOOGLE_AUTH_REASONS = frozenset(
    {"authError", "insufficientFilePermissions", "insufficientPermissions", "forbidden", "appNotAuthorizedToFile"}
)
GOOGLE_NOT_FOUND_REASONS = frozenset({"notFound"})

_REASON_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,63}")


@contextmanager
def google_errors(*, idempotent: bool, now: Callable[[], float] | None = None) -> Iterator[None]:
    """Raise Google's exceptions from the block as mailroom errors (the original chained as ``__cause__``).

    ``idempotent=False``: a failure after the request may have been sent is AMBIGUOUS. ``now`` (epoch seconds) turns
    an HTTP-date Retry-After into seconds; the Drive client passes its policy's clock so tests can inject one.
    """
    try:
        yield
    except MailroomError:
        raise
    except Exception as exc:
        translation = translate(exc, idempotent=idempotent, now=now() if now is not None else None)
        if translation is None:
            raise
        raise translation from exc


def translate(exc: BaseException, *, idempotent: bool = True, now: float | None = None) -> MailroomError | None:
    """The mailroom error for a googleapiclient / httplib2 / google-auth exception; None for anything else."""
    if isinstance(exc, HttpError):
        status = _int_or_none(getattr(exc.resp, "status", None))
        headers = exc.resp if isinstance(exc.resp, dict) else {}
        retry_after = parse_retry_after(headers.get("retry-after"), now=now)
        return google_answer_error(status, exc.content, describe(exc), idempotent=idempotent, retry_after=retry_after)
    if isinstance(exc, httplib2.ServerNotFoundError):  # DNS: nothing was sent
        return never_sent("connect_failed", Symptom.NETWORK, describe_foreign(exc))
    if isinstance(exc, httplib2.HttpLib2Error):
        return maybe_sent(type(exc).__name__, Symptom.NETWORK, describe_foreign(exc), idempotent=idempotent)
    if isinstance(exc, auth_exceptions.TransportError):
        # The token endpoint was unreachable; the API request itself was not sent yet.
        return never_sent("auth_transport", Symptom.NETWORK, describe_foreign(exc))
    if isinstance(exc, auth_exceptions.RefreshError):
        # google-auth marks token-endpoint 5xx/429 as retryable; a bad key or grant is not.
        if getattr(exc, "retryable", False):
            return never_sent("auth_refresh_retryable", Symptom.BACKEND, describe_foreign(exc))
        return refused("authError", describe_foreign(exc), AuthError)
    return None


def google_answer_error(
    status: int | None,
    content: bytes | str | None,
    description: str,
    *,
    idempotent: bool,
    retry_after: float | None = None,
) -> MailroomError:
    """The error for a Google API's error answer (status + JSON error body), whichever HTTP client fetched it."""
    reason = google_reason(content)
    reason_class = None
    if reason in GOOGLE_THROTTLE_REASONS:
        reason_class = ErrorClass.THROTTLED
    elif reason in GOOGLE_PERMANENT_REASONS:
        reason_class = ErrorClass.PERMANENT
    elif reason in GOOGLE_TRANSIENT_REASONS:
        reason_class = ErrorClass.TRANSIENT
    kind: type[PermanentError] | None = None
    if reason in GOOGLE_AUTH_REASONS:
        kind = AuthError
    elif reason in GOOGLE_NOT_FOUND_REASONS:
        kind = NotFoundError
    return answer_error(status, description, idempotent=idempotent, reason=reason, reason_class=reason_class,
                        permanent_kind=kind, retry_after=retry_after)


def describe(exc: HttpError) -> str:
    """Status and reason only: never the URL (query strings can carry keys) or the body."""
    reason = google_reason(exc.content)
    return f"HttpError {getattr(exc.resp, 'status', '?')}" + (f" {reason}" if reason else "")


def google_reason(content: bytes | str | None) -> str | None:
    """Google's `error.errors[0].reason` (or `error.status`) from an error body; None when absent or not JSON.

    Only a short token survives (it goes into logs, metrics and exception messages); anything else in the body is
    never read out."""
    token = _raw_google_reason(content)
    return token if token is not None and _REASON_TOKEN.fullmatch(token) else None


def _raw_google_reason(content: bytes | str | None) -> str | None:
    if not content:
        return None
    try:
        data = json.loads(content[:65536] if isinstance(content, (bytes, str)) else content)
    except (ValueError, TypeError):
        return None
    if isinstance(data, list) and data:
        data = data[0]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        errors = error.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict) and errors[0].get("reason"):
            return str(errors[0]["reason"])
        details = error.get("details")
        if isinstance(details, list):
            for detail in details:
                if isinstance(detail, dict) and detail.get("reason"):
                    return str(detail["reason"])
        if error.get("status"):
            return str(error["status"])
    return None


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
