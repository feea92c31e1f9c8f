"""Drive/Logiqs rates shared by every worker: Prefect global concurrency limits on a real server, plugged into the
resilience core. No timing in the verdicts: a limit with no slots must stop a call, a missing one must refuse it."""

from __future__ import annotations

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

from blocks.limits import ensure_shared_limits
from mailroom.errors import ConfigurationError, ThrottledError
from mailroom.pipeline_settings import PipelineSettings
from mailroom.resilience import ResiliencePolicy, registry
from tasks import limits as limits_module
from tasks.limits import shared_limits_installed

pytestmark = [pytest.mark.prefect_server]


def _limit(name: str):
    with get_client(sync_client=True) as client:
        return client.read_global_concurrency_limit_by_name(name)


def _delete(name: str) -> None:
    with get_client(sync_client=True) as client:
        try:
            client.delete_global_concurrency_limit_by_name(name)
        except Exception:  # noqa: BLE001 - not there: nothing to delete
            pass


@pytest.fixture
def clean_limits(prefect_server):
    names = [name for name, _, _ in PipelineSettings().shared_limits().values()]
    for name in names:
        _delete(name)
    yield names
    for name in names:
        _delete(name)


def test_limits_are_created_from_the_settings_and_kept_unless_updated(clean_limits):
    settings = PipelineSettings(logiqs_calls_per_second=6.0, logiqs_burst=3, drive_calls_per_second=15.0)
    lines = ensure_shared_limits(settings)
    assert any("mailroom-logiqs-calls: 3 slot(s) decaying at 6/s (logiqs; created)" in line for line in lines)
    logiqs = _limit("mailroom-logiqs-calls")
    assert (logiqs.limit, logiqs.slot_decay_per_second, logiqs.active) == (3, 6.0, True)
    assert _limit("mailroom-drive-calls").slot_decay_per_second == 15.0

    # An operator's change on the server survives the next run; `python -m blocks.limits` (update=True) resets it.
    with get_client(sync_client=True) as client:
        client.update_global_concurrency_limit("mailroom-logiqs-calls", GlobalConcurrencyLimitUpdate(limit=1))
    ensure_shared_limits(settings)
    assert _limit("mailroom-logiqs-calls").limit == 1
    ensure_shared_limits(settings, update=True)
    assert _limit("mailroom-logiqs-calls").limit == 3


def test_every_call_of_a_run_takes_a_slot_of_the_shared_limit(clean_limits, monkeypatch):
    monkeypatch.setattr(limits_module, "SLOT_TIMEOUT_SECONDS", 1.0)
    settings = PipelineSettings(shared_rate_limits=True)
    ensure_shared_limits(settings)
    sent: list[int] = []
    policy = ResiliencePolicy("logiqs", max_retries=0, use_breaker=False, use_budget=False)
    with shared_limits_installed(settings):
        assert set(registry.shared_limits) == {"drive", "logiqs"}
        policy.call(lambda: sent.append(1))
        assert sent == [1]
        with get_client(sync_client=True) as client:  # its one slot is taken and frees in ~10,000 s
            client.update_global_concurrency_limit("mailroom-logiqs-calls", GlobalConcurrencyLimitUpdate(
                limit=1, active_slots=1, slot_decay_per_second=0.0001))
        with pytest.raises(ThrottledError) as raised:
            policy.call(lambda: sent.append(2))
        assert raised.value.reason == "shared_limit_timeout"
        assert sent == [1], "a call went out without a slot"
    assert registry.shared_limits == {}  # the run's limits leave with the run


def test_a_missing_or_unusable_limit_refuses_the_call_and_names_the_command(clean_limits):
    sent: list[int] = []
    with shared_limits_installed(PipelineSettings(shared_rate_limits=True)):
        with pytest.raises(ConfigurationError, match="python -m blocks.limits") as missing:
            ResiliencePolicy("drive", max_retries=2).call(lambda: sent.append(1))
        assert missing.value.reason == "shared_limit_missing"
        with get_client(sync_client=True) as client:
            client.upsert_global_concurrency_limit_by_name("mailroom-drive-calls", 0, slot_decay_per_second=1.0)
        with pytest.raises(ConfigurationError) as unusable:  # 0 slots: the server refuses (422), it never waits
            ResiliencePolicy("drive", max_retries=2).call(lambda: sent.append(2))
        assert unusable.value.reason == "shared_limit_unusable"
    assert sent == []


def test_without_the_setting_nothing_is_shared(prefect_server):
    with shared_limits_installed(PipelineSettings()):
        assert registry.shared_limits == {}


def test_permits_taken_a_block_at_a_time_serve_the_next_calls_of_the_process(clean_limits):
    """Five calls cost one request for five slots; the sixth takes the next block (the slots the server counts)."""
    with get_client(sync_client=True) as client:  # slots free so slowly that the server's count is exact here
        client.upsert_global_concurrency_limit_by_name("mailroom-drive-calls", 20, slot_decay_per_second=0.0001)
    limit = limits_module.PrefectRateLimit("drive", "mailroom-drive-calls", block=5, rate=0.0001)
    limit()
    assert _limit("mailroom-drive-calls").active_slots == 5
    for _ in range(4):
        limit()
    assert _limit("mailroom-drive-calls").active_slots == 5
    limit()
    assert _limit("mailroom-drive-calls").active_slots == 10


def test_prepaid_permits_expire_when_the_shared_bucket_would_have_refilled_them(clean_limits):
    now = [0.0]
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name("mailroom-drive-calls", 20, slot_decay_per_second=0.0001)
    limit = limits_module.PrefectRateLimit("drive", "mailroom-drive-calls", block=5, rate=10.0, clock=lambda: now[0])
    limit()  # 5 slots, valid for 5 / 10 = 0.5 s
    now[0] = 0.6
    limit()  # the 4 left are stale: a new block
    assert _limit("mailroom-drive-calls").active_slots == 10
