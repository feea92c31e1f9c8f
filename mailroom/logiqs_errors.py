"""requests' failures as mailroom errors: the one module that knows requests' (and urllib3's) exception types.

``LogiqsClient`` sends every request inside ``requests_errors(idempotent=...)``; the answers themselves (HTTP status,
the ``{Success, data, message, StatusCode}`` envelope) are read in ``LogiqsClient._unwrap``. Together they mean the
resilience policy around the client only sees ``mailroom.errors`` classes. ``translate`` is also what the resilience
layer's adapter registry offers a raw requests exception raised by a guide-API caller's own function (the guide's
``response.raise_for_status()`` style), so its ``HTTPError`` is mapped by status here too.

Whether a failed write may have taken effect is decided by the phase requests failed in: nothing was sent when the
connection never existed (refused, DNS, connect timeout), anything later may have reached the server.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import requests

from mailroom.drive_errors import google_answer_error
from mailroom.errors import MailroomError, Symptom
from mailroom.http_failures import answer_error, maybe_sent, never_sent, parse_retry_after, refused


@contextmanager
def requests_errors(*, idempotent: bool) -> Iterator[None]:
    """Raise requests' exceptions from the block as mailroom errors (the original chained as ``__cause__``)."""
    try:
        yield
    except requests.exceptions.RequestException as exc:
        translation = translate(exc, idempotent=idempotent)
        if translation is None:  # pragma: no cover - every RequestException is mapped
            raise
        raise translation from exc


def translate(exc: BaseException, *, idempotent: bool = True, now: float | None = None) -> MailroomError | None:
    """The mailroom error for a requests exception; None for anything else."""
    if not isinstance(exc, requests.exceptions.RequestException):
        return None
    response = getattr(exc, "response", None)
    if isinstance(exc, requests.exceptions.HTTPError) and response is not None:
        description = f"HTTPError {response.status_code} {response.reason or ''}".strip()
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=now)
        if "json" in (response.headers.get("Content-Type") or ""):
            # A Google API reached through requests answers with Google's JSON error body: Drive's table reads it
            # (a body without a Google reason falls back to the status, like any other answer).
            return google_answer_error(response.status_code, response.content, description, idempotent=idempotent,
                                       retry_after=retry_after)
        return answer_error(response.status_code, description, idempotent=idempotent, retry_after=retry_after)
    description = type(exc).__name__  # str() embeds the URL (query strings may hold names or keys)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return never_sent("connect_timeout", Symptom.TIMEOUT, description)
    if isinstance(exc, requests.exceptions.SSLError):
        if any(isinstance(link, ssl.SSLCertVerificationError) for link in _chain(exc)):
            return refused("tls_certificate", description)
        # Usually a handshake failure (nothing sent), but urllib3 also raises it for a TLS error while reading the
        # response, so a write cannot be assumed unsent.
        return maybe_sent("tls_error", Symptom.NETWORK, description, idempotent=idempotent)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return maybe_sent("read_timeout", Symptom.TIMEOUT, description, idempotent=idempotent)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):  # the server answered: it did the work
        return maybe_sent("incomplete_response", Symptom.NETWORK, description, idempotent=idempotent)
    if isinstance(exc, requests.exceptions.ConnectionError):
        if _never_connected(exc):
            return never_sent("connect_failed", Symptom.NETWORK, description)
        return maybe_sent("connection_dropped", Symptom.NETWORK, description, idempotent=idempotent)
    if isinstance(exc, requests.exceptions.Timeout):
        return maybe_sent("timeout", Symptom.TIMEOUT, description, idempotent=idempotent)
    return refused(type(exc).__name__, description)  # InvalidURL, MissingSchema, an HTTPError without a response...


def _never_connected(exc: BaseException) -> bool:
    """True when urllib3 failed before a connection existed (DNS, refused): the request cannot have been sent."""
    names = {"NewConnectionError", "NameResolutionError", "ConnectTimeoutError"}
    return any(type(link).__name__ in names or isinstance(link, ConnectionRefusedError) for link in _chain(exc))


def _chain(exc: BaseException) -> Iterable[BaseException]:
    """The exception, its causes/contexts and exception-valued args (urllib3 wraps reasons in MaxRetryError.reason)."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        link = stack.pop()
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        stack.extend(a for a in getattr(link, "args", ()) if isinstance(a, BaseException))
        reason = getattr(link, "reason", None)
        stack.append(reason if isinstance(reason, BaseException) else None)
        stack.append(link.__cause__)
        stack.append(link.__context__)
