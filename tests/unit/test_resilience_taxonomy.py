"""classify(): our classes and plain transport errors by structure, keywords last; overrides never un-break.

Vendor exceptions are mapped by the clients (tests/unit/test_drive_errors.py, test_logiqs_errors.py); this layer
must not even import a vendor library.
"""

from __future__ import annotations

import errno
import http.client
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mailroom.resilience
from mailroom.errors import (
    AmbiguousOutcomeError,
    AuthError,
    CircuitOpenError,
    ErrorClass,
    MailroomError,
    Symptom,
    ThrottledError,
    TransientError,
)
from mailroom.http_failures import answer_error, maybe_sent
from mailroom.resilience import classify, describe, parse_retry_after, register_error_adapter
from tests.unit.override_properties import assert_no_override_makes_it_retryable, assert_overrides_keep_it_ambiguous
from tests.unit.source_reading import imported_packages_of

T, R, P, A = ErrorClass.THROTTLED, ErrorClass.TRANSIENT, ErrorClass.PERMANENT, ErrorClass.AMBIGUOUS
VENDORS = ("googleapiclient", "httplib2", "google", "requests", "urllib3", "google_auth_httplib2")


def test_the_resilience_package_imports_no_vendor_library():
    package = Path(mailroom.resilience.__file__).parent
    imported = set().union(*imported_packages_of(sorted(package.glob("*.py"))).values())
    assert imported & set(VENDORS) == set()
    # and at run time: a fresh interpreter that imports the package and classifies plain errors loads none
    probe = (
        "import sys, mailroom.resilience as r; "
        "[r.classify(e) for e in (ConnectionResetError(), TimeoutError(), KeyError('x'), Exception('Quota'))]; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {VENDORS!r}))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


@pytest.mark.parametrize(
    "exc, idempotent_class, non_idempotent_class, reason",
    [
        (socket.timeout("timed out"), R, A, "timeout"),
        (TimeoutError(), R, A, "timeout"),
        (ConnectionResetError(), R, A, "ConnectionResetError"),
        (BrokenPipeError(), R, A, "BrokenPipeError"),
        (http.client.IncompleteRead(b"part"), R, A, "IncompleteRead"),
        (http.client.RemoteDisconnected("closed"), R, A, "RemoteDisconnected"),
        (ssl.SSLEOFError(), R, A, "SSLEOFError"),
        (ConnectionRefusedError(), R, R, "connect_failed"),  # never sent: safe even for a write
        (socket.gaierror(), R, R, "connect_failed"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), R, R, "connect_failed"),
        (ssl.SSLCertVerificationError(), P, P, "tls_certificate"),
    ],
)
def test_plain_transport_errors_by_phase(exc, idempotent_class, non_idempotent_class, reason):
    assert (classify(exc, idempotent=True).error_class, classify(exc, idempotent=True).reason) == (idempotent_class, reason)
    assert classify(exc, idempotent=False).error_class is non_idempotent_class


def test_transport_labels_say_how_it_failed():
    assert classify(socket.timeout("timed out")).label == "timeout"
    assert classify(ConnectionResetError()).label == "network error"
    assert classify(ConnectionResetError(), idempotent=False).label == "ambiguous outcome"


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


def test_a_keyword_timeout_on_a_write_is_ambiguous():
    assert classify(RuntimeError("request timeout"), idempotent=False).error_class is A


def test_mailroom_errors_keep_their_own_class():
    assert classify(ThrottledError("x", retry_after=4.0)).error_class is T
    assert classify(ThrottledError("x", retry_after=4.0)).retry_after == 4.0
    assert classify(AmbiguousOutcomeError("x")).error_class is A
    assert classify(CircuitOpenError("x")).error_class is R
    deliberate = classify(TransientError("md5 mismatch", reason="md5Mismatch"))
    assert (deliberate.reason, deliberate.label, deliberate.kind, deliberate.description) == (
        "md5Mismatch", "network error", None, None)


def test_a_translated_error_is_classified_from_what_the_mapping_said():
    answer = answer_error(503, "HttpError 503 backendError", idempotent=True, reason="backendError", retry_after=12.0)
    c = classify(answer, idempotent=False)  # the mapping already decided idempotency; classify does not redo it
    assert (c.error_class, c.reason, c.status, c.retry_after, c.label) == (R, "backendError", 503, 12.0, "backend error")
    assert (c.kind, c.description) == (TransientError, "HttpError 503 backendError")
    timeout = classify(maybe_sent("read_timeout", Symptom.TIMEOUT, "ReadTimeout", idempotent=True))
    assert (timeout.error_class, timeout.label) == (R, "timeout")
    assert classify(answer_error(401, "HTTPError 401", idempotent=True)).kind is AuthError
    assert describe(answer) == "HttpError 503 backendError"


@pytest.mark.parametrize(
    "status, idempotent, expected",
    [(500, False, A), (502, False, A), (503, False, A), (504, False, A), (429, False, T), (408, False, R),
     (503, True, R), (400, False, P), (409, True, P)],
)
def test_an_error_answer_on_a_write_that_may_have_done_the_work_is_ambiguous(status, idempotent, expected):
    # a gateway may answer 503 after the backend committed; only 429 is a certain refusal
    assert classify(answer_error(status, f"HTTP {status}", idempotent=idempotent)).error_class is expected


def test_parse_retry_after_seconds_dates_and_garbage():
    now = 1_700_000_000.0
    assert parse_retry_after("3", now=now) == 3.0
    assert parse_retry_after(" 0 ", now=now) == 0.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:30 GMT", now=now) == pytest.approx(10.0)
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:00 GMT", now=now) == 0.0  # in the past: go now
    for garbage in (None, "", "soon", "-5", "nan", "inf"):
        assert parse_retry_after(garbage, now=now) is None


class VendorTimeout(Exception):
    """Stands for another vendor's exception."""


def test_a_registered_adapter_maps_another_vendors_exceptions_until_removed():
    def adapter(exc, *, idempotent, now):
        if isinstance(exc, VendorTimeout):
            return maybe_sent("vendor_timeout", Symptom.TIMEOUT, "VendorTimeout", idempotent=idempotent)
        return None

    assert classify(VendorTimeout("x")).recognized is False
    remove = register_error_adapter(adapter)
    try:
        c = classify(VendorTimeout("x"), idempotent=False)
        assert (c.error_class, c.reason) == (A, "vendor_timeout")
        assert classify(VendorTimeout("x")).label == "timeout"
    finally:
        remove()
    assert classify(VendorTimeout("x")).recognized is False


def test_a_failing_adapter_never_replaces_the_callers_exception(caplog):
    def broken(exc, *, idempotent, now):
        raise RuntimeError("adapter bug")

    remove = register_error_adapter(broken)
    try:
        assert classify(Exception("Quota exceeded")).error_class is T
        assert classify(VendorTimeout("x")).recognized is False
    finally:
        remove()
    assert "adapter bug" in caplog.text


def _broken_answer(status: int, idempotent: bool) -> MailroomError:
    return answer_error(status, f"HTTP {status}", idempotent=idempotent)


_FOREIGN = st.sampled_from([Exception, RuntimeError, OSError, KeyError, ValueError, MailroomError])


@settings(deadline=None)  # a loaded 2-core box must not turn slowness into failures
@given(
    status=st.sampled_from([400, 401, 403, 404]),
    extra_types=st.lists(_FOREIGN, max_size=3),
    extra_statuses=st.sets(st.integers(100, 599), max_size=8) | st.none(),
    idempotent=st.booleans(),
)
def test_no_override_makes_a_broken_request_retryable(status, extra_types, extra_statuses, idempotent):
    assert_no_override_makes_it_retryable(_broken_answer(status, idempotent), status, extra_types, extra_statuses, idempotent)


@settings(deadline=None)
@given(
    exc=st.sampled_from([ConnectionResetError(), http.client.IncompleteRead(b""), socket.timeout("timed out"),
                         _broken_answer(502, False)]),
    extra_statuses=st.sets(st.integers(100, 599), max_size=8),
)
def test_overrides_never_make_an_ambiguous_write_retryable(exc, extra_statuses):
    assert_overrides_keep_it_ambiguous(exc, extra_statuses)
