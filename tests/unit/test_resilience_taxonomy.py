"""classify(): structure first (status, Google reason, transport phase), keywords last; overrides never un-break."""

from __future__ import annotations

import errno
import http.client
import json
import socket
import ssl

import httplib2
import pytest
import requests
import urllib3
from googleapiclient.errors import HttpError
from hypothesis import given, settings
from hypothesis import strategies as st

from mailroom.errors import AmbiguousOutcomeError, CircuitOpenError, ErrorClass, ThrottledError
from mailroom.resilience import classify, parse_retry_after
from mailroom.resilience.taxonomy import apply_overrides, describe, google_reason

T, R, P, A = ErrorClass.THROTTLED, ErrorClass.TRANSIENT, ErrorClass.PERMANENT, ErrorClass.AMBIGUOUS


def google_error(status: int, reason: str | None = None, retry_after: str | None = None) -> HttpError:
    headers = {"status": str(status)}
    if retry_after:
        headers["retry-after"] = retry_after
    body = {"error": {"code": status, "message": "secret body text", "errors": [{"reason": reason}] if reason else []}}
    return HttpError(httplib2.Response(headers), json.dumps(body).encode(), uri="https://x.test/drive/v3/files?key=K")


def requests_error(status: int, *, retry_after: str | None = None, json_body: dict | None = None) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    if json_body is not None:
        response.headers["Content-Type"] = "application/json"
        response._content = json.dumps(json_body).encode()
    return requests.HTTPError(response=response)


@pytest.mark.parametrize(
    "status, reason, expected",
    [
        (403, "userRateLimitExceeded", T),
        (403, "rateLimitExceeded", T),
        (429, None, T),
        (500, "backendError", R),
        (500, "internalError", R),
        (502, None, R),
        (503, None, R),
        (504, None, R),
        (403, "dailyLimitExceeded", P),
        (403, "storageQuotaExceeded", P),
        (403, "insufficientFilePermissions", P),
        (401, "authError", P),
        (404, "notFound", P),
        (400, "badRequest", P),
        (403, None, P),
        (409, None, P),
    ],
)
def test_google_http_errors_by_status_and_reason(status, reason, expected):
    c = classify(google_error(status, reason))
    assert (c.error_class, c.status) == (expected, status)
    assert c.reason == (reason or f"http_{status}")


def test_a_403_is_not_one_thing():
    assert classify(google_error(403, "rateLimitExceeded")).retryable
    assert not classify(google_error(403, "insufficientFilePermissions")).retryable


@pytest.mark.parametrize("status, expected", [(429, T), (500, R), (503, R), (408, R), (400, P), (401, P), (404, P), (413, P), (422, P)])
def test_requests_http_errors_by_status(status, expected):
    assert classify(requests_error(status)).error_class is expected


def test_requests_json_google_reason_is_read_too():
    assert classify(requests_error(403, json_body={"error": {"errors": [{"reason": "userRateLimitExceeded"}]}})).error_class is T


@pytest.mark.parametrize(
    "exc, idempotent_class, non_idempotent_class",
    [
        (requests.exceptions.ConnectTimeout(), R, R),  # never reached the server
        (requests.exceptions.ConnectionError(urllib3.exceptions.NewConnectionError(None, "refused")), R, R),
        (requests.exceptions.ReadTimeout(), R, A),
        (requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError())), R, A),
        (requests.exceptions.ChunkedEncodingError(), R, A),
        (socket.timeout("timed out"), R, A),
        (TimeoutError(), R, A),
        (ConnectionResetError(), R, A),
        (BrokenPipeError(), R, A),
        (http.client.IncompleteRead(b"part"), R, A),
        (http.client.RemoteDisconnected("closed"), R, A),
        (ssl.SSLEOFError(), R, A),
        (httplib2.HttpLib2Error("boom"), R, A),
        (ConnectionRefusedError(), R, R),
        (socket.gaierror(), R, R),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), R, R),
        (httplib2.ServerNotFoundError("dns"), R, R),
        (ssl.SSLCertVerificationError(), P, P),
        (requests.exceptions.InvalidURL(), P, P),
        (requests.exceptions.SSLError("EOF occurred in violation of protocol"), R, A),
        (requests.exceptions.SSLError(ssl.SSLCertVerificationError("certificate verify failed")), P, P),
    ],
)
def test_transport_errors_by_phase(exc, idempotent_class, non_idempotent_class):
    assert classify(exc, idempotent=True).error_class is idempotent_class
    assert classify(exc, idempotent=False).error_class is non_idempotent_class


def test_non_idempotent_5xx_that_may_have_done_the_work_is_ambiguous_but_429_is_a_refusal():
    assert classify(requests_error(500), idempotent=False).error_class is A
    assert classify(requests_error(504), idempotent=False).error_class is A
    assert classify(requests_error(503), idempotent=False).error_class is A  # a gateway may answer 503 after commit
    assert classify(requests_error(429), idempotent=False).error_class is T


@pytest.mark.parametrize(
    "exc, expected, recognized",
    [
        (Exception("Quota exceeded"), T, True),
        (Exception("Rate limited (429), retry after 5s"), T, True),
        (RuntimeError("request timeout"), R, True),
        (Exception("Backend Error"), R, True),
        (Exception("something else"), P, False),
        (FileNotFoundError(errno.ENOENT, "no such file"), P, False),  # an OSError, but not a network one
        (KeyError("quota"), P, False),  # a bug mentioning quota is still a bug
        (ValueError("timeout must be positive"), P, False),
    ],
)
def test_foreign_exceptions_use_keywords_only_as_last_resort(exc, expected, recognized):
    c = classify(exc)
    assert (c.error_class, c.recognized) == (expected, recognized)


def test_google_auth_errors():
    from google.auth.exceptions import RefreshError, TransportError

    assert classify(TransportError("token endpoint unreachable"), idempotent=False).error_class is R
    assert classify(RefreshError("invalid_grant: bad signature")).error_class is P
    assert classify(RefreshError("invalid_grant: bad signature")).reason == "authError"
    assert classify(RefreshError("internal_failure", retryable=True)).error_class is R


def test_mailroom_errors_keep_their_own_class():
    assert classify(ThrottledError("x", retry_after=4.0)).error_class is T
    assert classify(ThrottledError("x", retry_after=4.0)).retry_after == 4.0
    assert classify(AmbiguousOutcomeError("x")).error_class is A
    assert classify(CircuitOpenError("x")).error_class is R


def test_retry_after_is_carried_from_both_clients():
    assert classify(requests_error(429, retry_after="3")).retry_after == 3.0
    assert classify(google_error(503, "backendError", retry_after="12")).retry_after == 12.0


def test_parse_retry_after_seconds_dates_and_garbage():
    now = 1_700_000_000.0
    assert parse_retry_after("3", now=now) == 3.0
    assert parse_retry_after(" 0 ", now=now) == 0.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:30 GMT", now=now) == pytest.approx(10.0)
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:00 GMT", now=now) == 0.0  # in the past: go now
    for garbage in (None, "", "soon", "-5", "nan", "inf"):
        assert parse_retry_after(garbage, now=now) is None


def test_describe_never_includes_urls_or_bodies():
    text = describe(google_error(403, "userRateLimitExceeded"))
    assert text == "HttpError 403 userRateLimitExceeded"
    assert "key=K" not in describe(requests.exceptions.ReadTimeout("HTTPSConnectionPool(host='x', ...) ?apikey=K"))


def test_google_reason_handles_odd_bodies():
    assert google_reason(b"<html>oops</html>") is None
    assert google_reason(b'{"error": "invalid_grant"}') is None
    assert google_reason(b'[{"error": {"errors": [{"reason": "backendError"}]}}]') == "backendError"
    assert google_reason(b'{"error": {"status": "RESOURCE_EXHAUSTED"}}') == "RESOURCE_EXHAUSTED"
    # a "reason" that is really free text (it could carry a name or SSN) is not read out into logs
    assert google_reason(b'{"error": {"errors": [{"reason": "Taxpayer John Doe 123-45-6789 not found"}]}}') is None


_FOREIGN = st.sampled_from([Exception, RuntimeError, OSError, KeyError, ValueError, requests.RequestException, HttpError])


@settings(deadline=None)  # a loaded 2-core box must not turn slowness into failures
@given(
    status=st.sampled_from([400, 401, 404]) | st.just(403),
    reason=st.sampled_from([None, "badRequest", "authError", "notFound", "insufficientFilePermissions", "forbidden"]),
    extra_types=st.lists(_FOREIGN, max_size=3),
    extra_statuses=st.sets(st.integers(100, 599), max_size=8) | st.none(),
    idempotent=st.booleans(),
)
def test_no_override_makes_a_broken_request_retryable(status, reason, extra_types, extra_statuses, idempotent):
    for exc in (google_error(status, reason), requests_error(status)):
        c = classify(exc, idempotent=idempotent)
        overridden = apply_overrides(
            c, exc, retryable_exceptions=tuple(extra_types) + (Exception,),
            retryable_status_codes=frozenset(extra_statuses | {status}) if extra_statuses is not None else None,
        )
        assert not overridden.retryable


@settings(deadline=None)
@given(
    exc=st.sampled_from([requests.exceptions.ReadTimeout(), ConnectionResetError(), requests_error(502), http.client.IncompleteRead(b"")]),
    extra_statuses=st.sets(st.integers(100, 599), max_size=8),
)
def test_overrides_never_make_an_ambiguous_write_retryable(exc, extra_statuses):
    c = classify(exc, idempotent=False)
    assert c.error_class is A
    assert apply_overrides(c, exc, retryable_exceptions=(Exception,), retryable_status_codes=frozenset(extra_statuses)).error_class is A
