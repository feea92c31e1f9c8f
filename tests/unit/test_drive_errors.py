"""mailroom.drive_errors: Google's exceptions and reasons become our classes where the Drive client meets Google.

Each case is checked twice: the translation itself, and ``classify`` of the raw exception (what a guide-API caller
that raises googleapiclient's HttpError itself gets, through the adapter registry). Both must say the same.
"""

from __future__ import annotations

import json

import httplib2
import pytest
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError
from hypothesis import given, settings
from hypothesis import strategies as st

from mailroom.drive_errors import describe, google_errors, google_reason, translate
from mailroom.errors import AmbiguousOutcomeError, AuthError, ErrorClass, NotFoundError, PermanentError, ThrottledError, TransientError
from mailroom.resilience import classify
from tests.unit.override_properties import assert_no_override_makes_it_retryable, assert_overrides_keep_it_ambiguous

T, R, P, A = ErrorClass.THROTTLED, ErrorClass.TRANSIENT, ErrorClass.PERMANENT, ErrorClass.AMBIGUOUS


def google_error(status: int, reason: str | None = None, retry_after: str | None = None) -> HttpError:
    headers = {"status": str(status)}
    if retry_after:
        headers["retry-after"] = retry_after
    body = {"error": {"code": status, "message": "secret body text", "errors": [{"reason": reason}] if reason else []}}
    return HttpError(httplib2.Response(headers), json.dumps(body).encode(), uri="https://x.test/drive/v3/files?key=K")


@pytest.mark.parametrize(
    "status, reason, expected, kind",
    [
        (403, "userRateLimitExceeded", T, ThrottledError),
        (403, "rateLimitExceeded", T, ThrottledError),
        (403, "sharingRateLimitExceeded", T, ThrottledError),
        (429, None, T, ThrottledError),
        (500, "backendError", R, TransientError),
        (500, "internalError", R, TransientError),
        (502, None, R, TransientError),
        (503, None, R, TransientError),
        (504, None, R, TransientError),
        (403, "dailyLimitExceeded", P, PermanentError),
        (403, "storageQuotaExceeded", P, PermanentError),
        (403, "insufficientFilePermissions", P, AuthError),
        (403, "forbidden", P, AuthError),
        (401, "authError", P, AuthError),
        (401, None, P, AuthError),
        (404, "notFound", P, NotFoundError),
        (404, None, P, NotFoundError),
        (400, "badRequest", P, PermanentError),
        (403, None, P, PermanentError),
        (409, None, P, PermanentError),
        (503, "forbidden", R, TransientError),  # a permanent reason on a 5xx is still the server failing
    ],
)
def test_google_http_errors_by_status_and_reason(status, reason, expected, kind):
    exc = google_error(status, reason)
    translation = translate(exc)
    assert type(translation) is kind and translation.translated
    assert (translation.error_class, translation.status, translation.reason) == (expected, status, reason or f"http_{status}")
    c = classify(exc)
    assert (c.error_class, c.status, c.reason, c.kind) == (expected, status, reason or f"http_{status}", kind)


def test_a_403_is_not_one_thing():
    assert classify(google_error(403, "rateLimitExceeded")).retryable
    assert not classify(google_error(403, "insufficientFilePermissions")).retryable


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_google_5xx_on_a_write_may_have_landed(status):
    assert type(translate(google_error(status, "backendError"), idempotent=False)) is AmbiguousOutcomeError
    assert classify(google_error(status), idempotent=False).error_class is A
    assert classify(google_error(429, "rateLimitExceeded"), idempotent=False).error_class is T  # a certain refusal


@pytest.mark.parametrize(
    "exc, idempotent_class, non_idempotent_class, reason, label",
    [
        (httplib2.HttpLib2Error("boom"), R, A, "HttpLib2Error", "network error"),
        (httplib2.ServerNotFoundError("dns"), R, R, "connect_failed", "network error"),  # nothing was sent
        (TransportError("token endpoint unreachable"), R, R, "auth_transport", "network error"),
        (RefreshError("internal_failure", retryable=True), R, R, "auth_refresh_retryable", "backend error"),
        (RefreshError("invalid_grant: bad signature"), P, P, "authError", "permanent error"),
    ],
)
def test_httplib2_and_google_auth_errors(exc, idempotent_class, non_idempotent_class, reason, label):
    c = classify(exc, idempotent=True)
    assert (c.error_class, c.reason, c.label) == (idempotent_class, reason, label)
    assert classify(exc, idempotent=False).error_class is non_idempotent_class
    assert translate(exc, idempotent=True).error_class is idempotent_class


def test_a_refused_service_account_key_is_an_auth_error():
    assert type(translate(RefreshError("invalid_grant: bad signature"))) is AuthError


def test_retry_after_comes_from_googles_headers_in_seconds_or_as_a_date():
    assert classify(google_error(503, "backendError", retry_after="12")).retry_after == 12.0
    dated = google_error(503, "backendError", retry_after="Tue, 14 Nov 2023 22:13:30 GMT")
    assert translate(dated, now=1_700_000_000.0).retry_after == pytest.approx(10.0)
    assert translate(google_error(403, "insufficientFilePermissions", retry_after="5")).retry_after is None


def test_describe_never_includes_urls_or_bodies():
    assert describe(google_error(403, "userRateLimitExceeded")) == "HttpError 403 userRateLimitExceeded"
    assert str(translate(google_error(500))) == "HttpError 500"


def test_google_reason_handles_odd_bodies():
    assert google_reason(b"<html>oops</html>") is None
    assert google_reason(b'{"error": "invalid_grant"}') is None
    assert google_reason(b'[{"error": {"errors": [{"reason": "backendError"}]}}]') == "backendError"
    assert google_reason(b'{"error": {"status": "RESOURCE_EXHAUSTED"}}') == "RESOURCE_EXHAUSTED"
    assert google_reason(b'{"error": {"details": [{"reason": "RATE_LIMIT_EXCEEDED"}]}}') == "RATE_LIMIT_EXCEEDED"
    # a "reason" that is really free text (it could carry a name or SSN) is not read out into logs
    assert google_reason(b'{"error": {"errors": [{"reason": "Taxpayer John Doe 123-45-6789 not found"}]}}') is None


def test_google_errors_raises_the_translation_with_the_original_chained():
    original = google_error(403, "insufficientFilePermissions")
    with pytest.raises(AuthError) as raised, google_errors(idempotent=True):
        raise original
    assert raised.value.__cause__ is original and raised.value.translated
    assert (raised.value.status, raised.value.reason) == (403, "insufficientFilePermissions")


def test_google_errors_reads_a_dated_retry_after_with_the_given_clock():
    with pytest.raises(TransientError) as raised, google_errors(idempotent=True, now=lambda: 1_700_000_000.0):
        raise google_error(503, "backendError", retry_after="Tue, 14 Nov 2023 22:13:30 GMT")
    assert raised.value.retry_after == pytest.approx(10.0)


@pytest.mark.parametrize("exc", [KeyError("x"), ConnectionResetError(), TransientError("md5 mismatch", reason="md5Mismatch")])
def test_google_errors_leaves_everything_else_alone(exc):
    with pytest.raises(type(exc)) as raised, google_errors(idempotent=False):
        raise exc
    assert raised.value is exc


def test_translate_ignores_other_vendors():
    assert translate(ConnectionResetError()) is None and translate(KeyError("x")) is None


_FOREIGN = st.sampled_from([Exception, RuntimeError, OSError, KeyError, ValueError, HttpError])


@settings(deadline=None)  # a loaded 2-core box must not turn slowness into failures
@given(
    status=st.sampled_from([400, 401, 403, 404]),
    reason=st.sampled_from([None, "badRequest", "authError", "notFound", "insufficientFilePermissions", "forbidden"]),
    extra_types=st.lists(_FOREIGN, max_size=3),
    extra_statuses=st.sets(st.integers(100, 599), max_size=8) | st.none(),
    idempotent=st.booleans(),
)
def test_no_override_makes_a_broken_google_request_retryable(status, reason, extra_types, extra_statuses, idempotent):
    assert_no_override_makes_it_retryable(google_error(status, reason), status, extra_types, extra_statuses, idempotent)


@settings(deadline=None)
@given(
    exc=st.sampled_from([google_error(502, "backendError"), google_error(503, None), httplib2.HttpLib2Error("boom")]),
    extra_statuses=st.sets(st.integers(100, 599), max_size=8),
)
def test_overrides_never_make_an_ambiguous_google_write_retryable(exc, extra_statuses):
    assert_overrides_keep_it_ambiguous(exc, extra_statuses)
