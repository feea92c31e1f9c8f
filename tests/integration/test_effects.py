"""ensure_document / ensure_task against the Logiqs emulator over HTTP, through the real LogiqsClient.

The emulator's "commit then lose the response" fault is the enemy here: the upload or task is stored, and the client
sees a reset, a read timeout or a 503. Zero duplicates is asserted from the emulator's own /_sandbox/stats and from
counting marked documents/tasks in its activity feeds.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from mailroom.crm import TaskRequest
from mailroom.effects import ensure_document, ensure_task, find_marked, with_marker
from mailroom.errors import MailroomError, PermanentError
from mailroom.ledger import Ledger, NoticeKey, Outcome
from mailroom.logiqs import LogiqsClient
from mailroom.resilience import ResiliencePolicy
from mailroom_sandbox.http.faults import EndpointFaults, FaultConfig, RateLimitConfig
from mailroom_sandbox.logiqs.server import LogiqsEmulator

CASES = [
    {"case_id": 100 + i, "first_name": f"Pat{i}", "last_name": "Rivera", "ssn": f"900-00-{1000 + i}"}
    for i in range(40)
]
UPLOAD, TASK = "Documents/CaseDocument", "Task/Task"


@pytest.fixture
def emulator():
    emu = LogiqsEmulator(rate_limit=RateLimitConfig(requests_per_second=None))
    emu.seed_cases(CASES)
    with emu:
        yield emu


@pytest.fixture
def client(emulator: LogiqsEmulator) -> LogiqsClient:
    key, secret = emulator.create_api_key()
    # No breaker here: these tests are about duplicates; the outage test (tests/flow/test_outage.py) covers it.
    policy = ResiliencePolicy("logiqs", max_retries=6, initial_delay=0.01, max_delay=0.05, use_budget=False,
                              use_breaker=False)
    return LogiqsClient(emulator.api_url, key, secret, policy=policy, timeout=(2, 0.3))


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite")


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    path = tmp_path / "notice.pdf"
    path.write_bytes(b"%PDF-1.4\n% synthetic test notice\n%%EOF\n")
    return path


def _key(n: int) -> NoticeKey:
    return NoticeKey(file_id=f"drive-file-{n:03d}", md5=f"{n:08x}" + "c0ffee" * 4)


def _task(case_id: int, n: int) -> TaskRequest:
    due = datetime(2026, 12, 1, tzinfo=timezone.utc) + timedelta(days=n)
    return TaskRequest(case_id=case_id, subject=f"Review CP2000 Notice - {n}", due_date=due,
                       reminder=due - timedelta(days=7), user_ids=[1], comments="Respond before the due date")


def _stats(emulator: LogiqsEmulator) -> dict:
    return requests.get(f"{emulator.url}/_sandbox/stats", timeout=5).json()  # the admin API, as a benchmark reads it


def _posts(emulator: LogiqsEmulator, endpoint: str) -> int:
    return sum(_stats(emulator)["calls"].get(endpoint, {}).values())


def _marked(emulator: LogiqsEmulator, key: NoticeKey, kind: str) -> int:
    """How many documents/tasks carry the notice's marker, read from the emulator's store."""
    items = emulator.store.documents if kind == "document" else emulator.store.tasks
    text = (lambda d: d.comment) if kind == "document" else (lambda t: t.comments)
    return sum(key.marker in text(item) for item in items)


def _file(ledger, client, key, case_id, pdf, n):
    document = ensure_document(ledger, client, key, owner="run-1", case_id=case_id, path=pdf,
                               file_name=f"IRS_CORR_CP2000_2024_DTD_{n:03d}.pdf", comment="IRS CP2000 notice")
    task = ensure_task(ledger, client, key, _task(case_id, n), owner="run-1")
    return document, task


def test_clean_run_creates_once_and_a_rerun_posts_nothing(emulator, client, ledger, pdf) -> None:
    key = _key(1)
    ledger.claim(key, "run-1", 60)
    document, task = _file(ledger, client, key, 101, pdf, 1)
    assert (document.how, task.how) == ("created", "created")
    assert (document.posts, document.lookups) == (1, 0)  # a clean first attempt costs no lookup
    calls_before = _stats(emulator)["requests"]
    again_document, again_task = _file(ledger, client, key, 101, pdf, 1)
    assert (again_document.how, again_task.how) == ("recorded", "recorded")
    assert (again_document.id, again_task.id) == (document.id, task.id)
    assert _stats(emulator)["requests"] == calls_before  # nothing at all was sent
    activities = client.activities(101)
    assert find_marked(activities, key, "document") == document.id
    assert find_marked(activities, key, "task") == task.id


def test_lost_response_is_found_by_marker_not_reposted(emulator, client, ledger, pdf) -> None:
    # Every POST commits, then the client loses the answer: without the lookup each retry would duplicate.
    always_lost = EndpointFaults(ambiguous=1.0, ambiguous_modes=["reset"])
    emulator.set_faults(FaultConfig(seed=3, endpoints={UPLOAD: always_lost, TASK: always_lost}))
    key = _key(2)
    ledger.claim(key, "run-1", 60)
    document, task = _file(ledger, client, key, 102, pdf, 2)
    assert (document.how, task.how) == ("found", "found")
    assert (document.posts, task.posts) == (1, 1)
    assert _marked(emulator, key, "document") == 1 and _marked(emulator, key, "task") == 1
    assert _stats(emulator)["duplicates"]["total"] == 0
    assert "document %d confirmed (found by marker)" % document.id in ledger.history(key)


def test_absent_after_a_failed_post_is_posted_again(emulator, client, ledger, pdf) -> None:
    # A reset *before* the handler ran (plain fault, not ambiguous): the lookup finds nothing, so we post again.
    emulator.set_faults(FaultConfig(seed=1, endpoints={UPLOAD: EndpointFaults(reset=1.0)}))
    key = _key(3)
    ledger.claim(key, "run-1", 60)
    with pytest.raises(MailroomError) as raised:
        ensure_document(ledger, client, key, owner="run-1", case_id=103, path=pdf, file_name="d.pdf", max_posts=2)
    assert raised.value.retryable  # safe for Prefect to retry: the next call looks first
    assert ledger.get(key).document_attempts == 2 and _marked(emulator, key, "document") == 0
    emulator.set_faults(FaultConfig())
    document = ensure_document(ledger, client, key, owner="run-1", case_id=103, path=pdf, file_name="d.pdf")
    assert (document.how, document.lookups, document.posts) == ("created", 1, 1)
    assert _marked(emulator, key, "document") == 1


def test_crash_between_post_and_record_is_healed_by_lookup(emulator, client, ledger, pdf) -> None:
    # What a kill -9 leaves behind: the intent committed, the upload stored in Logiqs, the id never recorded.
    key = _key(4)
    ledger.claim(key, "run-dead", 60)
    ledger.begin_document(key, "run-dead", 104)
    client.upload_document(104, pdf, file_name="d.pdf", comment=with_marker("IRS CP2000 notice", key))
    ledger.release(key, "run-dead")
    ledger.claim(key, "run-1", 60)
    uploads_before = _posts(emulator, UPLOAD)
    document = ensure_document(ledger, client, key, owner="run-1", case_id=104, path=pdf, file_name="d.pdf")
    assert (document.how, document.posts) == ("found", 0)
    assert _posts(emulator, UPLOAD) == uploads_before
    assert _marked(emulator, key, "document") == 1


def test_half_done_notice_gets_only_its_task(emulator, client, ledger, pdf) -> None:
    key = _key(5)
    ledger.claim(key, "run-1", 60)
    document = ensure_document(ledger, client, key, owner="run-1", case_id=105, path=pdf, file_name="d.pdf")
    ledger.finish(key, "run-1", Outcome.FAILED, reason="logiqs_unavailable")  # the task never happened
    ledger.claim(key, "run-2", 60)
    uploads_before = _posts(emulator, UPLOAD)
    again = ensure_document(ledger, client, key, owner="run-2", case_id=105, path=pdf, file_name="d.pdf")
    task = ensure_task(ledger, client, key, _task(105, 5), owner="run-2")
    assert again.how == "recorded" and again.id == document.id and task.how == "created"
    assert _posts(emulator, UPLOAD) == uploads_before
    assert ledger.get(key).task_id == task.id


def test_task_follows_the_case_of_its_document(emulator, client, ledger, pdf) -> None:
    key = _key(6)
    ledger.claim(key, "run-1", 60)
    with pytest.raises(PermanentError):
        ensure_task(ledger, client, key, _task(106, 6), owner="run-1")  # no document yet: refused
    ensure_document(ledger, client, key, owner="run-1", case_id=106, path=pdf, file_name="d.pdf")
    task = ensure_task(ledger, client, key, _task(999, 6), owner="run-1")  # a stale request for another case
    assert [t.case_id for t in emulator.store.tasks if t.task_id == task.id] == [106]


def test_many_notices_under_heavy_chaos_file_exactly_once(emulator, client, ledger, pdf) -> None:
    # 30 % transient faults everywhere, plus half of all POSTs committed-then-lost, by every loss mode. Throttling
    # is left out on purpose: the adaptive limiter's slow-down only costs wall time here (the chaos benchmark has it).
    transient = EndpointFaults(http_500=0.08, http_502=0.05, http_503=0.08, http_504=0.04, reset=0.05,
                               ambiguous=0.5, ambiguous_modes=["reset", "hang", "503"], hang_seconds=0.5)
    emulator.set_faults(FaultConfig(seed=11, default=transient))
    notices = 30
    for n in range(notices):
        key, case_id = _key(100 + n), 100 + n % len(CASES)
        ledger.claim(key, "run-1", 600)
        for attempt in range(10):  # what Prefect's task retries do: call again, the lookup makes it safe
            try:
                _file(ledger, client, key, case_id, pdf, 100 + n)
                break
            except MailroomError as exc:
                assert exc.retryable, exc
    stats = _stats(emulator)
    lost_responses = sum(n for kind, n in stats["faults"].items() if kind.startswith("ambiguous"))
    assert lost_responses >= 15, "chaos too mild to prove anything"
    assert stats["duplicates"]["total"] == 0
    for n in range(notices):
        key = _key(100 + n)
        record = ledger.get(key)
        assert record.document_id is not None and record.task_id is not None
        assert _marked(emulator, key, "document") == 1 and _marked(emulator, key, "task") == 1
    assert stats["documents_total"] == notices and stats["tasks_total"] == notices
