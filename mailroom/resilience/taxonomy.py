"""Map any exception to THROTTLED / TRANSIENT / PERMANENT / AMBIGUOUS, from structure first.

Order of evidence: our own ``MailroomError`` (it already knows its class) → HTTP status plus Google's error
``reason`` → transport exception types (connect vs read phase) → message keywords, and those only for foreign
exceptions that carry nothing else. Anything still unknown is PERMANENT and ``recognized=False`` so the policy lets
it propagate unchanged (a ``KeyError`` from a bug should surface as itself, not be retried or disguised).
"""

from __future__ import annotations

import errno
import http.client
import json
import re
import socket
import ssl
import time
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from typing import Any, Iterable

import httplib2
import requests
from googleapiclient.errors import HttpError as GoogleHttpError

from mailroom.errors import ErrorClass, MailroomError

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
# Status codes that no override may ever make retryable: the request itself is wrong or not allowed.
NEVER_RETRYABLE_STATUSES = frozenset({400, 401, 403, 404})
THROTTLE_STATUSES = frozenset({429})
TRANSIENT_STATUSES = frozenset({408, 500, 502, 503, 504})
# For a non-idempotent request these mean "the server may have done it": 500/502/504 can be raised after the work
# was done (or by a proxy that gave up waiting), and a load balancer in front of a CRM answers 503 when the backend
# stopped answering mid-request, so a committed write can come back as 503 too. Only 429 is a certain refusal.
MAYBE_APPLIED_STATUSES = frozenset({500, 502, 503, 504})

# Guide log labels ("quota/rate limit - Attempt 2/4 failed ...").
LABEL_THROTTLED = "quota/rate limit"
LABEL_BACKEND = "backend error"
LABEL_TIMEOUT = "timeout"
LABEL_NETWORK = "network error"
LABEL_AMBIGUOUS = "ambiguous outcome"
LABEL_PERMANENT = "permanent error"

# Bugs, not outages: never keyword-matched, never promoted by a catch-all `Exception` override.
_UNREACHABLE_ERRNOS = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN})
_REASON_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,63}")
PROGRAMMING_ERRORS = (LookupError, TypeError, AttributeError, NameError, AssertionError, ValueError, ImportError)

_THROTTLE_KEYWORDS = ("quota", "rate limit", "ratelimit", "rate-limit", "too many requests")
_TRANSIENT_KEYWORDS = (
    ("timeout", LABEL_TIMEOUT),
    ("timed out", LABEL_TIMEOUT),
    ("backend error", LABEL_BACKEND),
    ("service unavailable", LABEL_BACKEND),
    ("temporarily unavailable", LABEL_BACKEND),
    ("connection reset", LABEL_NETWORK),
    ("connection aborted", LABEL_NETWORK),
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

    @property
    def retryable(self) -> bool:
        return self.error_class.retryable


def classify(exc: BaseException, *, idempotent: bool = True, now: float | None = None) -> Classification:
    """Classify ``exc``. ``idempotent=False`` turns "the request may have been sent" failures into AMBIGUOUS.

    ``now`` (epoch seconds) is only used to turn an HTTP-date Retry-After into seconds; tests inject it.
    """
    if isinstance(exc, MailroomError):
        return Classification(
            exc.error_class,
            exc.reason or type(exc).__name__,
            exc.status,
            exc.retry_after,
            label=_label_for(exc.error_class, exc.status),
        )
    if isinstance(exc, GoogleHttpError):
        headers = exc.resp if isinstance(exc.resp, dict) else {}
        return _from_status(
            _int_or_none(getattr(exc.resp, "status", None)),
            google_reason(exc.content),
            parse_retry_after(_header(headers, "retry-after"), now=now),
            idempotent,
        )
    if isinstance(exc, requests.exceptions.RequestException):
        return _from_requests(exc, idempotent, now)
    return _from_transport_or_message(exc, idempotent)


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


def parse_retry_after(value: Any, *, now: float | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or HTTP-date). Garbage or negative values are ignored (None)."""
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


def describe(exc: BaseException) -> str:
    """A short, log-safe description: status and reason for HTTP errors (never the URL or the body)."""
    if isinstance(exc, GoogleHttpError):
        reason = google_reason(exc.content)
        return f"HttpError {getattr(exc.resp, 'status', '?')}" + (f" {reason}" if reason else "")
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return f"HTTPError {exc.response.status_code} {exc.response.reason or ''}".strip()
    if isinstance(exc, requests.exceptions.RequestException):
        return type(exc).__name__  # str() embeds the URL (query strings may hold names or keys)
    text = str(exc)
    return text[:200] if text else type(exc).__name__


def _from_status(status: int | None, reason: str | None, retry_after: float | None, idempotent: bool) -> Classification:
    token = reason or (f"http_{status}" if status is not None else "http_error")
    if reason in GOOGLE_THROTTLE_REASONS or status in THROTTLE_STATUSES:
        return Classification(ErrorClass.THROTTLED, token, status, retry_after, LABEL_THROTTLED)
    if reason in GOOGLE_PERMANENT_REASONS and not (status is not None and status >= 500):
        return Classification(ErrorClass.PERMANENT, token, status, None, LABEL_PERMANENT)
    if reason in GOOGLE_TRANSIENT_REASONS or status in TRANSIENT_STATUSES or (status is not None and status >= 500):
        if not idempotent and (status in MAYBE_APPLIED_STATUSES or status is None):
            return Classification(ErrorClass.AMBIGUOUS, token, status, None, LABEL_AMBIGUOUS)
        return Classification(ErrorClass.TRANSIENT, token, status, retry_after, LABEL_BACKEND)
    return Classification(ErrorClass.PERMANENT, token, status, None, LABEL_PERMANENT)


def _from_requests(exc: requests.exceptions.RequestException, idempotent: bool, now: float | None) -> Classification:
    response = getattr(exc, "response", None)
    if isinstance(exc, requests.exceptions.HTTPError) and response is not None:
        reason = None
        if "json" in (response.headers.get("Content-Type") or ""):
            reason = google_reason(response.content)
        return _from_status(response.status_code, reason, parse_retry_after(response.headers.get("Retry-After"), now=now), idempotent)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Classification(ErrorClass.TRANSIENT, "connect_timeout", label=LABEL_TIMEOUT)  # never sent
    if isinstance(exc, requests.exceptions.SSLError):
        if _chain_has(exc, ssl.SSLCertVerificationError):
            return Classification(ErrorClass.PERMANENT, "tls_certificate", label=LABEL_PERMANENT)
        # Usually a handshake failure (nothing sent), but urllib3 also raises it for a TLS error while reading the
        # response, so a write cannot be assumed unsent.
        return _maybe_sent("tls_error", LABEL_NETWORK, idempotent)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return _maybe_sent("read_timeout", LABEL_TIMEOUT, idempotent)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return _maybe_sent("incomplete_response", LABEL_NETWORK, idempotent)  # the server answered: it did the work
    if isinstance(exc, requests.exceptions.ConnectionError):
        if _never_connected(exc):
            return Classification(ErrorClass.TRANSIENT, "connect_failed", label=LABEL_NETWORK)
        return _maybe_sent("connection_dropped", LABEL_NETWORK, idempotent)
    if isinstance(exc, requests.exceptions.Timeout):
        return _maybe_sent("timeout", LABEL_TIMEOUT, idempotent)
    return Classification(ErrorClass.PERMANENT, type(exc).__name__, label=LABEL_PERMANENT)  # InvalidURL, MissingSchema...


def _from_transport_or_message(exc: BaseException, idempotent: bool) -> Classification:
    if isinstance(exc, (ConnectionRefusedError, socket.gaierror, httplib2.ServerNotFoundError)) or (
        type(exc) is OSError and exc.errno in _UNREACHABLE_ERRNOS  # httplib2 lets raw connect() errors through
    ):
        return Classification(ErrorClass.TRANSIENT, "connect_failed", label=LABEL_NETWORK)  # nothing was sent
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Classification(ErrorClass.PERMANENT, "tls_certificate", label=LABEL_PERMANENT)
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError; httplib2 cannot tell connect from read
        return _maybe_sent("timeout", LABEL_TIMEOUT, idempotent)
    if isinstance(exc, (ConnectionError, http.client.IncompleteRead, http.client.HTTPException, ssl.SSLError, httplib2.HttpLib2Error)):
        return _maybe_sent(type(exc).__name__, LABEL_NETWORK, idempotent)
    auth_kind = _google_auth_kind(exc)
    if auth_kind == "transport":  # the token endpoint was unreachable; the API request itself was not sent yet
        return Classification(ErrorClass.TRANSIENT, "auth_transport", label=LABEL_NETWORK)
    if auth_kind == "refresh":  # google-auth marks token-endpoint 5xx/429 as retryable; a bad key/grant is not
        if getattr(exc, "retryable", False):
            return Classification(ErrorClass.TRANSIENT, "auth_refresh_retryable", label=LABEL_BACKEND)
        return Classification(ErrorClass.PERMANENT, "authError", label=LABEL_PERMANENT)
    if isinstance(exc, PROGRAMMING_ERRORS):
        return Classification(ErrorClass.PERMANENT, type(exc).__name__, label=LABEL_PERMANENT, recognized=False, programming_error=True)
    if isinstance(exc, Exception):
        message = str(exc).lower()
        if any(word in message for word in _THROTTLE_KEYWORDS):
            return Classification(ErrorClass.THROTTLED, "keyword:quota/rate limit", label=LABEL_THROTTLED)
        for word, label in _TRANSIENT_KEYWORDS:
            if word in message:
                return _maybe_sent(f"keyword:{word}", label, idempotent)
    return Classification(ErrorClass.PERMANENT, type(exc).__name__, label=LABEL_PERMANENT, recognized=False)


def _maybe_sent(reason: str, label: str, idempotent: bool) -> Classification:
    if idempotent:
        return Classification(ErrorClass.TRANSIENT, reason, label=label)
    return Classification(ErrorClass.AMBIGUOUS, reason, label=LABEL_AMBIGUOUS)


def _label_for(error_class: ErrorClass, status: int | None) -> str:
    if error_class is ErrorClass.THROTTLED:
        return LABEL_THROTTLED
    if error_class is ErrorClass.TRANSIENT:
        return LABEL_BACKEND if status else LABEL_NETWORK
    if error_class is ErrorClass.AMBIGUOUS:
        return LABEL_AMBIGUOUS
    return LABEL_PERMANENT


def _never_connected(exc: BaseException) -> bool:
    """True when urllib3 failed before a connection existed (DNS, refused): the request cannot have been sent."""
    names = {"NewConnectionError", "NameResolutionError", "ConnectTimeoutError"}
    return any(type(link).__name__ in names or isinstance(link, ConnectionRefusedError) for link in _chain(exc))


def _chain_has(exc: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(link, kind) for link in _chain(exc))


def _chain(exc: BaseException) -> Iterable[BaseException]:
    """The exception, its causes/contexts and exception-valued args (urllib3 wraps reasons in MaxRetryError.reason)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        link = stack.pop()
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        stack.extend(a for a in getattr(link, "args", ()) if isinstance(a, BaseException))
        stack.append(getattr(link, "reason", None) if isinstance(getattr(link, "reason", None), BaseException) else None)
        stack.append(link.__cause__)
        stack.append(link.__context__)


def _google_auth_kind(exc: BaseException) -> str | None:
    try:
        from google.auth.exceptions import RefreshError, TransportError
    except ImportError:  # pragma: no cover - google-auth is a dependency
        return None
    if isinstance(exc, TransportError):
        return "transport"
    if isinstance(exc, RefreshError):
        return "refresh"
    return None


def _header(headers: dict, name: str) -> Any:
    return headers.get(name) if hasattr(headers, "get") else None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
