"""A limit shared with other processes (``set_shared_limit``): consulted on every attempt, after the local bucket,
its wait counted, its failures classified like any other; removed cleanly. Fake clock: nothing sleeps for real."""

from __future__ import annotations

import pytest

from mailroom.errors import ConfigurationError, ThrottledError, TransientError
from mailroom.resilience import FakeClock, ResiliencePolicy, metrics_snapshot, registry, reset_registry, set_shared_limit


@pytest.fixture
def clock() -> FakeClock:
    fake = FakeClock()
    reset_registry(clock=fake)
    yield fake
    registry.shared_limits.clear()


def test_every_attempt_waits_for_the_shared_limit_after_the_local_bucket(clock):
    events: list[str] = []
    start = clock.monotonic()

    def shared() -> None:
        events.append(f"shared@{clock.monotonic() - start:.2f}")
        clock.sleep(0.5)  # the fleet-wide limit made us wait

    set_shared_limit("svc", shared)
    policy = ResiliencePolicy("svc", calls_per_second=1.0, burst=1, max_retries=2, initial_delay=0.1, jitter=0)
    answers = iter([ThrottledError("slow down", service="svc"), "ok"])

    def call() -> str:
        events.append(f"call@{clock.monotonic() - start:.2f}")
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert policy.call(call, operation="op") == "ok"
    # attempt 1: bucket full -> shared -> call; attempt 2: backoff 0.1 s, then the bucket's 1 s spacing (minus the
    # time already spent), then the shared limit again, then the call.
    assert [e.split("@")[0] for e in events] == ["shared", "call", "shared", "call"]
    assert events[1] == "call@0.50" and events[2] == "shared@1.00" and events[3] == "call@1.50"
    stats = metrics_snapshot()["svc"]["op"]
    assert stats.limiter_wait_seconds == pytest.approx(0.5 + 0.4 + 0.5)


def test_a_shared_limit_that_cannot_answer_is_retried_like_a_transient_failure(clock):
    calls = {"shared": 0, "func": 0}

    def flaky_shared() -> None:
        calls["shared"] += 1
        if calls["shared"] == 1:
            raise TransientError("limit server unreachable", service="svc", reason="shared_limit_unavailable")

    set_shared_limit("svc", flaky_shared)
    policy = ResiliencePolicy("svc", max_retries=2, initial_delay=0.1, jitter=0)

    def func() -> str:
        calls["func"] += 1
        return "ok"

    assert policy.call(func) == "ok"
    assert calls == {"shared": 2, "func": 1}  # the call itself never went out on the failed permit


def test_a_missing_shared_limit_is_permanent_and_nothing_is_sent(clock):
    def missing() -> None:
        raise ConfigurationError("no such global concurrency limit", service="svc", reason="shared_limit_missing")

    set_shared_limit("svc", missing)
    sent: list[int] = []
    with pytest.raises(ConfigurationError):
        ResiliencePolicy("svc", max_retries=3, jitter=0).call(lambda: sent.append(1))
    assert sent == []


def test_only_the_named_service_is_shared_and_the_remover_removes_only_its_own(clock):
    seen: list[str] = []
    remove = set_shared_limit("logiqs", lambda: seen.append("logiqs"))
    ResiliencePolicy("drive").call(lambda: None)
    ResiliencePolicy("logiqs").call(lambda: None)
    assert seen == ["logiqs"]
    replacement = lambda: seen.append("new")  # noqa: E731
    set_shared_limit("logiqs", replacement)
    remove()  # a stale remover must not take away the limit installed after it
    assert registry.shared_limits["logiqs"] is replacement
    reset_registry(clock=clock, clear_hooks=True)
    assert registry.shared_limits == {}
