"""LogiqsClient + ResiliencePolicy against a misbehaving Logiqs emulator: throttling, 5xx, lost responses, outages."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from mailroom.crm import TaskRequest
from mailroom.errors import AmbiguousOutcomeError, ErrorClass, MailroomError, TransientError
from mailroom.logiqs import LogiqsClient
from mailroom.resilience import ResiliencePolicy
from mailroom_sandbox.http.faults import EndpointFaults, FaultConfig, RateLimitConfig
from mailroom_sandbox.logiqs.server import LogiqsEmulator

CASE = {"case_id": 201, "first_name": "Rosa", "last_name": "Park", "ssn": "111-22-3333", "status": "Active"}
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def emulator():
    emu = LogiqsEmulator(rate_limit=RateLimitConfig(requests_per_second=None))
    emu.seed_cases([CASE])
    with emu:
        yield emu


def client(emulator, *, read_timeout: float = 0.5, **policy) -> LogiqsClient:
    key, secret = emulator.create_api_key()
    options = {"initial_delay": 0.01, "max_delay": 3.0, "jitter": 0.0, "use_breaker": False, "use_budget": False}
    return LogiqsClient(emulator.api_url, key, secret, policy=ResiliencePolicy("logiqs", **(options | policy)),
                        timeout=(1, read_timeout))


def calls(emulator, endpoint: str) -> dict[str, int]:
    return emulator.stats()["calls"].get(endpoint, {})


def test_server_rate_limit_answers_429_with_retry_after_and_the_client_waits_it_out(emulator):
    emulator.server.set_rate_limit(RateLimitConfig(requests_per_second=4, burst=2))
    key, secret = emulator.create_api_key()
    session = requests.Session()
    raw = [session.post(emulator.api_url + "Case/FindCase", auth=(key, secret), timeout=5,
                        json={"LastName": "Park", "Last4SSN": "3333"}) for _ in range(4)]
    limited = [r for r in raw if r.status_code == 429]
    assert limited and all(r.headers["Retry-After"] == "1" and r.json()["Success"] is False for r in limited)

    logiqs = client(emulator, max_retries=3)
    started = time.monotonic()
    results = [logiqs.find_cases("Park", "3333") for _ in range(4)]  # drains the bucket, then must wait
    assert all(len(r) == 1 for r in results)
    assert emulator.stats()["throttled"] > len(limited)  # the client did meet the limit...
    assert time.monotonic() - started >= 0.9  # ...and honoured Retry-After (1 s) instead of hammering


def test_5xx_on_a_read_is_retried_until_it_succeeds(emulator):
    emulator.set_faults(FaultConfig(seed=1, endpoints={"Case/Case": EndpointFaults(http_503=0.25, http_500=0.15)}))
    logiqs = client(emulator, max_retries=8)
    for _ in range(10):
        assert logiqs.get_case(201).case_id == 201
    statuses = calls(emulator, "Case/Case")
    assert statuses["200"] == 10 and statuses.get("503", 0) + statuses.get("500", 0) > 0


def test_a_read_reset_is_transient_and_retried(emulator):
    emulator.set_faults(FaultConfig(seed=2, endpoints={"CaseActivity/Activity": EndpointFaults(reset=0.5)}))
    logiqs = client(emulator, max_retries=10)
    assert all(logiqs.activities(201) for _ in range(5))
    assert emulator.stats()["faults"]["reset"] > 0


def test_a_5xx_on_a_write_is_ambiguous_and_never_retried(emulator):
    emulator.set_faults(FaultConfig(endpoints={"Task/Task": EndpointFaults(http_500=1.0)}))
    logiqs = client(emulator, max_retries=5)
    with pytest.raises(AmbiguousOutcomeError) as caught:
        logiqs.create_task(TaskRequest(case_id=201, subject="s", due_date=NOW, reminder=NOW))
    assert caught.value.error_class is ErrorClass.AMBIGUOUS
    assert calls(emulator, "Task/Task") == {"500": 1}


@pytest.mark.parametrize("mode", ["reset", "hang", "503"])
def test_commit_then_lose_the_response_commits_and_the_client_reports_ambiguity(emulator, tmp_path, mode):
    emulator.set_faults(FaultConfig(endpoints={
        "Documents/CaseDocument": EndpointFaults(ambiguous=1.0, ambiguous_modes=[mode], hang_seconds=1.0),
        "Task/Task": EndpointFaults(ambiguous=1.0, ambiguous_modes=[mode], hang_seconds=1.0),
    }))
    logiqs = client(emulator, read_timeout=0.3, max_retries=5)
    pdf = tmp_path / "n.pdf"
    pdf.write_bytes(b"%PDF-1.4 notice")
    marker = f"[mailroom:drive-{mode}:0123456789ab]"
    with pytest.raises(AmbiguousOutcomeError):
        logiqs.upload_document(201, pdf, file_name=f"{mode}.pdf", comment=f"CP2000 {marker}")
    with pytest.raises(AmbiguousOutcomeError):
        logiqs.create_task(TaskRequest(case_id=201, subject=f"task {mode}", due_date=NOW + timedelta(days=30),
                                       reminder=NOW + timedelta(days=20), comments=f"respond {marker}"))
    stats = emulator.stats()
    assert stats["documents"]["201"] == {f"{mode}.pdf": 1} and stats["tasks"]["201"] == 1  # committed, once each
    assert stats["faults"] == {f"ambiguous_{mode}": 2}
    emulator.set_faults(FaultConfig())
    marked = [a for a in logiqs.activities(201) if marker in a.comment]  # what effects.py looks for
    assert sorted(a.kind for a in marked) == ["document", "task"]


def test_outage_window_fails_fast_then_recovers(emulator):
    logiqs = client(emulator, max_retries=0)
    emulator.start_outage(0.5)
    with pytest.raises(TransientError) as caught:
        logiqs.get_case(201)
    assert caught.value.status == 503
    time.sleep(0.55)
    assert logiqs.get_case(201).case_id == 201
    assert emulator.stats()["faults"] == {"outage": 1}


def test_a_mixed_fault_storm_on_reads_still_completes(emulator):
    # throttles are left out: after a 429 the client's adaptive limiter slows down on purpose (tested above)
    storm = EndpointFaults(http_500=0.08, http_502=0.05, http_503=0.07, http_504=0.03, reset=0.05, hang=0.02,
                           slow=0.05, slow_seconds=0.05, hang_seconds=0.6)
    emulator.set_faults(FaultConfig(seed=5, default=storm))
    logiqs = client(emulator, read_timeout=0.3, max_retries=12)
    for _ in range(40):
        try:
            assert logiqs.find_cases("Park", "3333")[0].case_id == 201
        except MailroomError as exc:  # only acceptable if the policy truly ran out of attempts
            pytest.fail(f"read failed after retries: {exc.error_class}")
    faults = emulator.stats()["faults"]
    assert len(faults) >= 4 and sum(faults.values()) >= 10, faults  # the storm really blew
