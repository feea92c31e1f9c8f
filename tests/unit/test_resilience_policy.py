"""ResiliencePolicy and the guide API, driven by a fake clock: nothing here sleeps for real."""

from __future__ import annotations

import functools
import json
import logging
import re
from email.utils import format_datetime
from datetime import datetime, timezone

import httplib2
import pytest
import requests
from googleapiclient.errors import HttpError

from mailroom.errors import (
    AmbiguousOutcomeError,
    AuthError,
    ErrorClass,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    ThrottledError,
    TransientError,
)
from mailroom.resilience import (
    FakeClock,
    ResiliencePolicy,
    add_metrics_hook,
    add_retry_hook,
    api_call_with_retry,
    metrics_snapshot,
    registry,
    reset_registry,
    resilient_api_call,
    run_resiliently,
    with_retries_and_rate_limit,
)


@pytest.fixture
def clock() -> FakeClock:
    fake = FakeClock()
    reset_registry(clock=fake)
    hooks_before = (list(registry.retry_hooks), list(registry.metrics_hooks))
    yield fake
    registry.retry_hooks[:], registry.metrics_hooks[:] = hooks_before  # hooks other modules installed stay


def test_reset_registry_keeps_hooks_unless_asked(clock):
    remove = add_retry_hook(print)
    try:
        reset_registry(clock=clock)
        assert print in registry.retry_hooks
    finally:
        remove()
    assert print not in registry.retry_hooks


def http_error(status: int, *, retry_after: str | None = None, body: bytes = b"") -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    response.reason = "x"
    response._content = body
    response.url = "https://api.example.test/v4/case?apikey=SECRET123"
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return requests.HTTPError(f"{status} error for url: {response.url}", response=response)


def google_error(status: int, reason: str | None, *, retry_after: str | None = None) -> HttpError:
    headers = {"status": str(status)}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    body = {"error": {"code": status, "message": "m", "errors": [{"reason": reason, "domain": "usageLimits"}] if reason else []}}
    return HttpError(httplib2.Response(headers), json.dumps(body).encode(), uri="https://www.googleapis.com/drive/v3/files")


class Script:
    """A callable that raises the scripted exceptions in order, then returns 'ok'. Counts its calls."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def always(exc: BaseException) -> Script:
    return Script(*([exc] * 50))


@pytest.mark.parametrize(
    "exc, expected",
    [
        (http_error(404), NotFoundError),
        (http_error(400), PermanentError),
        (http_error(401), AuthError),
        (google_error(403, "insufficientFilePermissions"), AuthError),
        (google_error(403, "dailyLimitExceeded"), PermanentError),
        (google_error(404, "notFound"), NotFoundError),
    ],
)
def test_permanent_http_errors_are_raised_after_exactly_one_call(clock, exc, expected):
    func = always(exc)
    with pytest.raises(expected) as raised:
        run_resiliently(func, max_retries=3)
    assert func.calls == 1
    assert raised.value.__cause__ is exc
    assert clock.sleeps == []


def test_keyerror_propagates_unchanged_after_one_call_and_logs_the_guide_line(clock, caplog):
    func = always(KeyError("invalid_field"))
    with caplog.at_level(logging.ERROR, logger="mailroom.resilience"), pytest.raises(KeyError):
        run_resiliently(func)
    assert func.calls == 1
    assert "❌ Non-retryable error: KeyError: 'invalid_field'" in caplog.messages


def test_guide_quota_exception_is_retried_with_the_guide_timeline_and_log_lines(clock, caplog):
    func = always(Exception("Quota exceeded"))
    with caplog.at_level(logging.INFO, logger="mailroom.resilience"), pytest.raises(ThrottledError) as raised:
        run_resiliently(func, max_retries=3, initial_delay=2.0, jitter=0.0)
    assert func.calls == 4
    assert clock.sleeps == [2.0, 4.0, 8.0]
    assert str(raised.value.__cause__) == "Quota exceeded"
    retry_lines = [m for m in caplog.messages if m.startswith("⚠️")]
    assert len(retry_lines) == 3  # one line per retry
    # The guide's words first, then the call it was about (service, operation, class and reason).
    assert re.fullmatch(r"⚠️  quota/rate limit - Attempt 2/4 failed\. Retrying in 4\.0s\.\.\. Error: Quota exceeded "
                        r"\[\S+ \S+: throttled, [^\]]+\]", retry_lines[1]), retry_lines[1]
    assert caplog.messages[-1] == "❌ Max retries (3) exhausted for quota/rate limit"


def test_success_after_retries_is_logged(clock, caplog):
    func = Script(http_error(503), http_error(502))
    with caplog.at_level(logging.INFO, logger="mailroom.resilience"):
        assert run_resiliently(func, initial_delay=1.0, jitter=0.0) == "ok"
    assert "✅ Success after 2 retries" in caplog.messages


def test_retry_after_replaces_the_backoff_instead_of_adding_to_it(clock):
    func = Script(http_error(429, retry_after="3"))
    assert run_resiliently(func, initial_delay=10.0, max_delay=60.0, jitter=0.0) == "ok"
    assert clock.sleeps == [3.0]


def test_http_date_retry_after_is_converted_with_the_injected_clock(clock):
    when = datetime.fromtimestamp(clock.time() + 7, tz=timezone.utc)
    func = Script(google_error(503, "backendError", retry_after=format_datetime(when, usegmt=True)))
    assert ResiliencePolicy("drive", jitter=0.0).call(func, operation="files.get") == "ok"
    assert clock.sleeps == [pytest.approx(7.0, abs=1.0)]


def test_retry_after_above_max_delay_fails_fast_as_rate_limited(clock):
    func = always(http_error(429, retry_after="120"))
    with pytest.raises(RateLimitedError) as raised:
        run_resiliently(func, max_delay=60.0)
    assert func.calls == 1 and clock.sleeps == []
    assert raised.value.retry_after == 120 and raised.value.error_class is ErrorClass.THROTTLED


@pytest.mark.parametrize("jitter", [0.0, 0.5, 1.0])
def test_jitter_stays_within_documented_bounds(clock, jitter):
    """wait_n ∈ [base_n·(1−jitter), base_n] with base_n = min(max_delay, initial·factor^(n−1))."""
    for extreme in (0.0, 0.999999):
        clock.sleeps.clear()
        policy = ResiliencePolicy("svc", max_retries=6, initial_delay=1.0, max_delay=10.0, jitter=jitter,
                                  use_budget=False, use_breaker=False, random=lambda: extreme)
        with pytest.raises(TransientError):
            policy.call(always(http_error(503)), operation="op")
        bases = [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
        for wait, base in zip(clock.sleeps, bases, strict=True):
            assert base * (1 - jitter) - 1e-9 <= wait <= base + 1e-9
        assert clock.sleeps[-1] == pytest.approx(10.0 * (1 - jitter * extreme))


def test_non_idempotent_read_timeout_is_ambiguous_and_never_retried(clock, caplog):
    func = always(requests.exceptions.ReadTimeout("read timed out"))
    with caplog.at_level(logging.WARNING, logger="mailroom.resilience"), pytest.raises(AmbiguousOutcomeError) as raised:
        ResiliencePolicy("logiqs").call(func, operation="create_task", idempotent=False)
    assert caplog.messages == ["⚠️  Ambiguous outcome: ReadTimeout (the request may have taken effect; not retried here)"]
    assert [r.levelno for r in caplog.records] == [logging.WARNING]  # the exactly-once layer decides, not an error yet
    assert func.calls == 1
    assert "may have taken effect" in str(raised.value)
    assert isinstance(raised.value.__cause__, requests.exceptions.ReadTimeout)


def test_non_idempotent_connect_failure_is_safe_to_retry(clock):
    func = Script(requests.exceptions.ConnectTimeout("connect timed out"))
    assert ResiliencePolicy("logiqs", jitter=0).call(func, operation="create_task", idempotent=False) == "ok"
    assert func.calls == 2


def test_retryable_exceptions_cannot_make_permanent_http_errors_retryable(clock):
    for exc in (http_error(400), http_error(401), http_error(404), google_error(403, "insufficientFilePermissions")):
        func = always(exc)
        with pytest.raises(PermanentError):
            run_resiliently(func, retryable_exceptions=(Exception,), retryable_status_codes={400, 401, 403, 404})
        assert func.calls == 1


def test_retryable_exceptions_extend_and_narrow(clock):
    class FlakyThing(Exception):
        pass

    extended = Script(FlakyThing("odd"))
    assert run_resiliently(extended, retryable_exceptions=(FlakyThing,)) == "ok"
    assert extended.calls == 2
    narrowed = always(http_error(503))
    with pytest.raises(PermanentError):
        run_resiliently(narrowed, retryable_exceptions=(requests.ConnectionError,))
    assert narrowed.calls == 1
    by_status = always(http_error(503))
    with pytest.raises(PermanentError):
        run_resiliently(by_status, retryable_status_codes={429})
    assert by_status.calls == 1
    conflict = Script(http_error(409))
    assert run_resiliently(conflict, retryable_status_codes={409}) == "ok"


def test_catch_all_exception_does_not_retry_programming_errors(clock):
    func = always(KeyError("x"))
    with pytest.raises(KeyError):
        run_resiliently(func, retryable_exceptions=[Exception])
    assert func.calls == 1


def test_deadline_stops_before_a_wait_that_would_cross_it(clock):
    func = always(http_error(503))
    with pytest.raises(TransientError):
        ResiliencePolicy("svc", max_retries=10, initial_delay=1.0, jitter=0.0, deadline=5.0).call(func, operation="op")
    assert clock.sleeps == [1.0, 2.0]  # the next wait (4 s) would end at 7 s > 5 s
    assert func.calls == 3


def test_retry_hook_gets_a_log_safe_event_per_retry(clock):
    events = []
    add_retry_hook(events.append)
    run_resiliently(Script(http_error(429, retry_after="2"), http_error(503)), service_name="logiqs",
                    operation="find_cases", initial_delay=1.0, jitter=0.0)
    assert [(e.service, e.operation, e.attempt, e.max_attempts, e.wait, e.error_class, e.reason) for e in events] == [
        ("logiqs", "find_cases", 1, 4, 2.0, ErrorClass.THROTTLED, "http_429"),
        ("logiqs", "find_cases", 2, 4, 2.0, ErrorClass.TRANSIENT, "http_503"),
    ]
    assert events[0].retry_after == 2.0 and events[1].retry_after is None
    assert "SECRET123" not in repr(events)


def test_a_failing_hook_never_changes_the_outcome(clock):
    def broken(_event):
        raise RuntimeError("observer bug")

    add_retry_hook(broken)
    add_metrics_hook(broken)
    assert run_resiliently(Script(http_error(503))) == "ok"


def test_metrics_snapshot_counts_per_service_and_operation(clock):
    records = []
    add_metrics_hook(records.append)
    policy = ResiliencePolicy("drive", initial_delay=1.0, jitter=0.0)
    policy.call(Script(google_error(403, "userRateLimitExceeded", retry_after="2"), google_error(500, "backendError")), operation="files.list")
    with pytest.raises(NotFoundError):
        policy.call(always(google_error(404, "notFound")), operation="files.get")
    snap = metrics_snapshot()["drive"]
    listing, getting = snap["files.list"], snap["files.get"]
    assert (listing.calls, listing.successes, listing.retries) == (1, 1, 2)
    assert listing.retries_by_class == {"throttled": 1, "transient": 1}
    assert (listing.throttles, listing.retry_after_waits, listing.retry_after_seconds) == (1, 1, 2.0)
    assert listing.wait_seconds >= 4.0  # 2 s Retry-After + 2 s backoff (+ any adaptive limiter wait, counted apart)
    assert listing.latency_p50_ms is not None and listing.latency_p95_ms >= listing.latency_p50_ms
    assert (getting.failures, getting.failures_by_class) == (1, {"permanent": 1})
    assert [(r.operation, r.succeeded, r.attempts) for r in records] == [("files.list", True, 3), ("files.get", False, 1)]


def test_guide_decorators_keep_working(clock):
    flaky = Script(Exception("Backend Error"))

    @resilient_api_call(max_retries=3, initial_delay=2.0)
    def upload_document(case_id, file_path):
        return flaky()

    assert upload_document(1, "a.pdf") == "ok" and flaky.calls == 2

    combined = Script(http_error(502))

    @with_retries_and_rate_limit(max_retries=3, calls_per_second=10.0)
    def api_call():
        return combined()

    assert api_call() == "ok" and combined.calls == 2
    assert api_call_with_retry(Script(), max_retries=1) == "ok"


def test_guide_keyword_arguments_reach_the_function(clock):
    def download_file(file_id):
        return f"got {file_id}"

    assert run_resiliently(download_file, file_id="abc123", max_retries=3, initial_delay=2.0) == "got abc123"


def test_error_messages_and_log_lines_are_scrubbed(clock, caplog):
    func = always(Exception("timeout talking to https://x.test/?access_token=abc.def for SSN 123-45-6789"))
    with caplog.at_level(logging.WARNING, logger="mailroom.resilience"), pytest.raises(TransientError) as raised:
        run_resiliently(func, max_retries=1)
    text = " ".join(caplog.messages) + str(raised.value)
    assert "123-45-6789" not in text and "abc.def" not in text
    assert "***-**-6789" in text


def test_guide_signatures_and_defaults_are_kept():
    import inspect

    def defaults(fn):
        return {k: p.default for k, p in inspect.signature(fn).parameters.items() if p.default is not inspect.Parameter.empty}

    assert {"max_retries": 3, "initial_delay": 1.0, "backoff_factor": 2.0, "max_delay": 60.0, "retryable_exceptions": None,
            "retryable_status_codes": None, "rate_limit_delay": 0.0}.items() <= defaults(run_resiliently).items()
    assert defaults(resilient_api_call) == {"max_retries": 3, "initial_delay": 1.0, "backoff_factor": 2.0, "max_delay": 60.0, "rate_limit_delay": 0.0}
    assert defaults(with_retries_and_rate_limit) == {"max_retries": 3, "calls_per_second": 10.0, "initial_delay": 1.0}
    from mailroom.resilience import rate_limited

    assert defaults(rate_limited)["calls_per_second"] == 10.0


def test_two_decorated_functions_in_one_module_keep_their_own_rates(clock):
    @with_retries_and_rate_limit(calls_per_second=10.0)
    def fast():
        return "f"

    @with_retries_and_rate_limit(calls_per_second=2.0)
    def slow():
        return "s"

    fast(), slow(), fast(), slow()
    # each first call goes at once; fast waits 1/10 s, slow 1/2 s minus the 0.1 s that fast's wait already advanced
    assert [round(w, 3) for w in clock.sleeps] == [0.1, 0.4]


def _outcome_through_the_policy(clock, caplog, func, **options):
    """What a caller and a reader of the logs see: the error (class, message, fields, cause) and the log lines."""
    reset_registry(clock=clock)
    clock.sleeps.clear()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="mailroom.resilience"):
        try:
            result = ResiliencePolicy("drive", max_retries=2, jitter=0.0, **options).call(
                func, operation="files.get", idempotent=func.idempotent)
        except Exception as exc:  # noqa: BLE001
            result = (type(exc), str(exc), getattr(exc, "status", None), getattr(exc, "reason", None),
                      getattr(exc, "retry_after", None), exc.__cause__)
    return result, list(clock.sleeps), list(caplog.messages)


class Raising:
    """Raises ``failure`` once per call, raw or through a client's vendor mapping (as DriveClient/LogiqsClient do)."""

    def __init__(self, failure: BaseException, *, mapped: bool, idempotent: bool) -> None:
        self.failure, self.mapped, self.idempotent = failure, mapped, idempotent

    def __call__(self):
        if not self.mapped:
            raise self.failure
        from mailroom.drive_errors import google_errors
        from mailroom.logiqs_errors import requests_errors

        with google_errors(idempotent=self.idempotent, now=registry.clock.time), requests_errors(idempotent=self.idempotent):
            raise self.failure


@pytest.mark.parametrize("idempotent", [True, False])
@pytest.mark.parametrize(
    "failure",
    [
        google_error(403, "userRateLimitExceeded", retry_after="2"),
        google_error(403, "insufficientFilePermissions"),
        google_error(404, "notFound"),
        google_error(503, "backendError"),
        google_error(429, None, retry_after="120"),
        http_error(503),
        http_error(401),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectTimeout("connect timed out"),
    ],
    ids=lambda e: type(e).__name__ + str(getattr(getattr(e, "resp", None), "status", "")),
)
@pytest.mark.parametrize(
    "options", [{}, {"retryable_exceptions": (requests.ConnectionError,)}, {"retryable_status_codes": {429}}],
    ids=["defaults", "narrowed_by_type", "narrowed_by_status"],
)
def test_a_failure_mapped_by_its_client_reads_exactly_like_the_raw_vendor_exception(clock, caplog, failure, idempotent, options):
    raw = _outcome_through_the_policy(clock, caplog, Raising(failure, mapped=False, idempotent=idempotent), **options)
    mapped = _outcome_through_the_policy(clock, caplog, Raising(failure, mapped=True, idempotent=idempotent), **options)
    assert mapped == raw
    assert raw[0][-1] is failure  # the vendor exception is the __cause__ either way


# --- breaker scope of the guide API: two unrelated functions of one module ------------------------------------------

_sync_failures = Script(*[http_error(503)] * 5)


def sync_invoices():
    """One module-level function of this module: the outage-struck one."""
    return _sync_failures()


def fetch_customer(customer_id):
    """Another function of the same module, talking to something healthy."""
    return f"customer {customer_id}"


def test_transient_failures_of_one_function_do_not_make_another_of_its_module_fail_fast(clock):
    from mailroom.errors import CircuitOpenError

    _sync_failures.failures[:] = [http_error(503)] * 5
    _sync_failures.calls = 0
    with pytest.raises(TransientError):
        run_resiliently(sync_invoices, max_retries=4, jitter=0.0)  # five transient failures in a row
    assert _sync_failures.calls == 5
    assert run_resiliently(fetch_customer, 7) == "customer 7"  # not CircuitOpenError: its own breaker is closed
    with pytest.raises(CircuitOpenError):  # the struck function's breaker did open: it still protects that service
        run_resiliently(sync_invoices)
    assert _sync_failures.calls == 5


def test_a_named_service_keeps_one_breaker_for_every_function_called_under_it(clock):
    from mailroom.errors import CircuitOpenError

    with pytest.raises(TransientError):
        run_resiliently(always(http_error(503)), max_retries=4, jitter=0.0, service_name="billing")
    with pytest.raises(CircuitOpenError):
        run_resiliently(fetch_customer, 7, service_name="billing")
    assert run_resiliently(functools.partial(fetch_customer, 8)) == "customer 8"
    assert "tests.unit.test_resilience_policy.fetch_customer" in metrics_snapshot()  # a partial is its function
