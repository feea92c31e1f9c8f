"""mailroom.logiqs_errors: requests' exceptions become our classes where the Logiqs client meets requests.

Each case is checked as the translation and as ``classify`` of the raw exception (a guide-API caller whose own
function calls ``response.raise_for_status()``); both must say the same.
"""

from __future__ import annotations

import json
import ssl

import pytest
import requests
import urllib3
from hypothesis import given, settings
from hypothesis import strategies as st

from mailroom.errors import AmbiguousOutcomeError, AuthError, ErrorClass, NotFoundError, PermanentError, ThrottledError
from mailroom.logiqs_errors import requests_errors, translate
from mailroom.resilience import classify, describe
from tests.unit.override_properties import assert_no_override_makes_it_retryable, assert_overrides_keep_it_ambiguous

T, R, P, A = ErrorClass.THROTTLED, ErrorClass.TRANSIENT, ErrorClass.PERMANENT, ErrorClass.AMBIGUOUS


def requests_error(status: int, *, retry_after: str | None = None, json_body: dict | None = None) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    response.url = "https://api.example.test/v4/case?apikey=SECRET123"
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    if json_body is not None:
        response.headers["Content-Type"] = "application/json"
        response._content = json.dumps(json_body).encode()
    return requests.HTTPError(f"{status} error for url: {response.url}", response=response)


@pytest.mark.parametrize(
    "status, expected, kind",
    [(429, T, ThrottledError), (500, R, None), (503, R, None), (408, R, None), (400, P, PermanentError),
     (401, P, AuthError), (404, P, NotFoundError), (413, P, PermanentError), (422, P, PermanentError)],
)
def test_requests_http_errors_by_status(status, expected, kind):
    c = classify(requests_error(status))
    assert (c.error_class, c.status, c.reason) == (expected, status, f"http_{status}")
    assert translate(requests_error(status)).error_class is expected
    if kind is not None:
        assert type(translate(requests_error(status))) is kind


def test_a_google_json_error_body_fetched_with_requests_is_read_with_googles_reasons():
    throttled = requests_error(403, json_body={"error": {"errors": [{"reason": "userRateLimitExceeded"}]}})
    assert classify(throttled).error_class is T
    forbidden = requests_error(403, json_body={"error": {"errors": [{"reason": "insufficientFilePermissions"}]}})
    assert type(translate(forbidden)) is AuthError
    plain_json = requests_error(503, json_body={"Success": False, "message": "down"})  # no Google reason: the status
    assert (classify(plain_json).error_class, classify(plain_json).reason) == (R, "http_503")


@pytest.mark.parametrize(
    "exc, idempotent_class, non_idempotent_class, reason",
    [
        (requests.exceptions.ConnectTimeout(), R, R, "connect_timeout"),  # never reached the server
        (requests.exceptions.ConnectionError(urllib3.exceptions.NewConnectionError(None, "refused")), R, R, "connect_failed"),
        (requests.exceptions.ReadTimeout(), R, A, "read_timeout"),
        (requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError())), R, A,
         "connection_dropped"),
        (requests.exceptions.ChunkedEncodingError(), R, A, "incomplete_response"),
        (requests.exceptions.Timeout(), R, A, "timeout"),
        (requests.exceptions.InvalidURL(), P, P, "InvalidURL"),
        (requests.exceptions.SSLError("EOF occurred in violation of protocol"), R, A, "tls_error"),
        (requests.exceptions.SSLError(ssl.SSLCertVerificationError("certificate verify failed")), P, P, "tls_certificate"),
        (requests.HTTPError("no response"), P, P, "HTTPError"),
    ],
)
def test_requests_transport_errors_by_phase(exc, idempotent_class, non_idempotent_class, reason):
    assert (classify(exc, idempotent=True).error_class, classify(exc, idempotent=True).reason) == (idempotent_class, reason)
    assert classify(exc, idempotent=False).error_class is non_idempotent_class
    assert translate(exc, idempotent=False).error_class is non_idempotent_class


def test_timeouts_are_labelled_as_timeouts():
    assert classify(requests.exceptions.ReadTimeout()).label == "timeout"
    assert classify(requests.exceptions.ConnectTimeout()).label == "timeout"
    assert classify(requests.exceptions.ChunkedEncodingError()).label == "network error"


def test_non_idempotent_5xx_that_may_have_done_the_work_is_ambiguous_but_429_is_a_refusal():
    assert classify(requests_error(500), idempotent=False).error_class is A
    assert classify(requests_error(504), idempotent=False).error_class is A
    assert classify(requests_error(503), idempotent=False).error_class is A  # a gateway may answer 503 after commit
    assert type(translate(requests_error(503), idempotent=False)) is AmbiguousOutcomeError
    assert classify(requests_error(429), idempotent=False).error_class is T


def test_retry_after_is_carried_in_seconds_or_as_a_date():
    assert classify(requests_error(429, retry_after="3")).retry_after == 3.0
    dated = requests_error(429, retry_after="Tue, 14 Nov 2023 22:13:30 GMT")
    assert translate(dated, now=1_700_000_000.0).retry_after == pytest.approx(10.0)


def test_descriptions_never_include_urls():
    assert "apikey" not in describe(requests.exceptions.ReadTimeout("HTTPSConnectionPool(host='x', ...) ?apikey=K"))
    assert describe(requests_error(404)) == "HTTPError 404"
    assert "SECRET123" not in str(translate(requests_error(404)))


def test_requests_errors_raises_the_translation_with_the_original_chained():
    original = requests.exceptions.ReadTimeout("read timed out")
    with pytest.raises(AmbiguousOutcomeError) as raised, requests_errors(idempotent=False):
        raise original
    assert raised.value.__cause__ is original and raised.value.reason == "read_timeout"


def test_requests_errors_leaves_everything_else_alone():
    bug = KeyError("CaseID")
    with pytest.raises(KeyError) as raised, requests_errors(idempotent=True):
        raise bug
    assert raised.value is bug
    assert translate(ConnectionResetError()) is None


_FOREIGN = st.sampled_from([Exception, RuntimeError, OSError, KeyError, ValueError, requests.RequestException])


@settings(deadline=None)  # a loaded 2-core box must not turn slowness into failures
@given(
    status=st.sampled_from([400, 401, 403, 404]),
    extra_types=st.lists(_FOREIGN, max_size=3),
    extra_statuses=st.sets(st.integers(100, 599), max_size=8) | st.none(),
    idempotent=st.booleans(),
)
def test_no_override_makes_a_broken_request_retryable(status, extra_types, extra_statuses, idempotent):
    assert_no_override_makes_it_retryable(requests_error(status), status, extra_types, extra_statuses, idempotent)


@settings(deadline=None)
@given(
    exc=st.sampled_from([requests.exceptions.ReadTimeout(), requests.exceptions.ChunkedEncodingError(), requests_error(502)]),
    extra_statuses=st.sets(st.integers(100, 599), max_size=8),
)
def test_overrides_never_make_an_ambiguous_write_retryable(exc, extra_statuses):
    assert_overrides_keep_it_ambiguous(exc, extra_statuses)
