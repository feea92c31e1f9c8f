"""mailroom.logiqs.LogiqsClient against the Logiqs emulator (V4 dialect, default envelope) over real HTTP.

The other dialect and every envelope variant: test_logiqs_dialects.py."""

from __future__ import annotations

import base64
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from mailroom.crm import TaskRequest
from mailroom.errors import AuthError, NotFoundError, PermanentError
from mailroom.logiqs import LogiqsClient, api_base
from mailroom.resilience import ResiliencePolicy
from mailroom_sandbox.http.faults import FaultConfig, RateLimitConfig
from mailroom_sandbox.logiqs.server import LogiqsEmulator

CASES = [
    {"case_id": 101, "first_name": "John", "last_name": "Smith", "spouse_first_name": "Jane",
     "spouse_last_name": "Smith", "ssn": "100-20-1234", "status": "Active", "active": True},
    {"case_id": 102, "first_name": "Jon", "last_name": "Smith", "ssn": "300-40-1234", "status": "Open"},
    {"case_id": 103, "first_name": "Mary", "last_name": "Smith", "ssn": "500-60-1234", "status": "Closed",
     "active": False},
    {"case_id": 104, "first_name": "Ana", "last_name": "Garcia-Lopez", "ssn": "700-80-5555", "status": "Active"},
    {"case_id": 105, "first_name": "Liam", "last_name": "Reed", "spouse_first_name": "Ava",
     "spouse_last_name": "Moss", "ssn": "900-10-7777", "spouse_ssn": "900-10-8888", "status": "Active"},
]
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def emulator():
    emu = LogiqsEmulator(rate_limit=RateLimitConfig(requests_per_second=None))
    emu.seed_cases(CASES)
    with emu:
        yield emu


@pytest.fixture
def logiqs(emulator):
    """A full-scope client whose policy retries fast; faults, outages and stats are reset per test."""
    emulator.set_faults(FaultConfig())
    emulator.server.reset_stats()
    key, secret = emulator.create_api_key()
    yield make_client(emulator, key, secret)
    emulator.set_faults(FaultConfig())


def make_client(emulator, key, secret, **policy) -> LogiqsClient:
    options = {"initial_delay": 0.01, "max_delay": 2.0, "jitter": 0.0, "use_breaker": False, "use_budget": False}
    return LogiqsClient(emulator.api_url, key, secret, policy=ResiliencePolicy("logiqs", **(options | policy)),
                        timeout=(1, 0.5))


@pytest.fixture
def pdf(tmp_path) -> Path:
    path = tmp_path / "notice.pdf"
    path.write_bytes(b"%PDF-1.4\n" + b"x" * 2048)
    return path


def calls(emulator, endpoint: str) -> int:
    return sum(emulator.stats()["calls"].get(endpoint, {}).values())


def task(case_id: int = 101, **overrides) -> TaskRequest:
    fields = {"case_id": case_id, "subject": "Respond to CP2000", "due_date": NOW + timedelta(days=30),
              "reminder": NOW + timedelta(days=23), "comments": "Filed by mailroom [mailroom:f1:abc]",
              "user_ids": [7]}
    return TaskRequest(**(fields | overrides))


# ------------------------------------------------------------------------------------------------------ auth


def test_bad_secret_is_an_auth_error_without_retries_or_secrets_in_the_message(emulator, logiqs):
    key, secret = emulator.create_api_key()
    client = make_client(emulator, key, "not-the-secret")
    with pytest.raises(AuthError) as caught:
        client.find_cases("Smith", "1234")
    message = str(caught.value)
    assert "rejected the API key" in message and caught.value.status == 401
    assert key not in message and secret not in message and "not-the-secret" not in message
    assert key not in repr(client) and "not-the-secret" not in repr(client)
    assert calls(emulator, "Case/FindCase") == 1  # permanent: never retried


def test_missing_scope_is_an_auth_error_naming_the_scope_and_nothing_is_stored(emulator, logiqs, pdf):
    key, secret = emulator.create_api_key(scopes=["case.read"])
    reader = make_client(emulator, key, secret)
    before = emulator.stats()["documents_total"]
    with pytest.raises(AuthError, match="'case.write'"):
        reader.upload_document(101, pdf, file_name="a.pdf", comment="c")
    with pytest.raises(AuthError, match="'task.write'"):
        reader.create_task(task())
    with pytest.raises(AuthError, match="'case.write'"):
        reader.check_access()
    # the wire shape (default): HTTP 403, Success false; the HTTP 200 variant is in test_logiqs_dialects.py
    raw = requests.post(emulator.api_url + "Task/Task", json={}, auth=(key, secret), timeout=5)
    assert raw.status_code == 403 and raw.json()["Success"] is False and raw.json()["StatusCode"] == 403
    assert emulator.stats()["documents_total"] == before


def test_check_access_passes_for_a_full_key_quietly_and_without_any_effect(emulator, logiqs, caplog):
    before = (emulator.stats()["documents_total"], emulator.stats()["tasks_total"])
    with caplog.at_level(logging.INFO):
        logiqs.check_access()
    assert (emulator.stats()["documents_total"], emulator.stats()["tasks_total"]) == before
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # a healthy check logs no error
    assert emulator.stats()["calls"]["Task/Task"] == {"400": 1}  # the probe was answered after the scope check


def test_unauthenticated_request_gets_401_envelope(emulator, logiqs):
    raw = requests.post(emulator.api_url + "Case/FindCase", json={}, timeout=5)
    assert raw.status_code == 401 and raw.json() == {
        "Success": False, "data": None, "message": raw.json()["message"], "StatusCode": 401}
    garbage = {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe").decode()}
    assert requests.get(emulator.api_url + "Case/Case", headers=garbage, timeout=5).status_code == 401


# ------------------------------------------------------------------------------------------------------ reads


def test_find_cases_returns_zero_one_or_many(logiqs):
    assert logiqs.find_cases("Nobody", "1234") == []
    many = logiqs.find_cases("smith", "1234")
    assert [c.case_id for c in many] == [101, 102, 103]
    assert [c.case_id for c in logiqs.find_cases("Smith", "1234", active_only=True)] == [101, 102]
    assert [c.case_id for c in logiqs.find_cases("Smith", "1234", first_name="Jo")] == [101, 102]
    assert [c.case_id for c in logiqs.find_cases("Smith", "1234", first_name="Jane")] == [101]  # spouse
    only = logiqs.find_cases("Lopez", "5555")  # one part of a hyphenated name
    assert len(only) == 1 and only[0].last_name == "Garcia-Lopez" and only[0].ssn_last4 == "5555"
    assert [c.case_id for c in logiqs.find_cases("Moss", "8888")] == [105]  # spouse name and spouse SSN
    closed = logiqs.find_cases("Smith", "1234", first_name="Mary")[0]
    assert closed.active is False and closed.status == "Closed"


def test_find_cases_refuses_a_bad_last4_without_calling(emulator, logiqs):
    with pytest.raises(PermanentError):
        logiqs.find_cases("Smith", "12-34")
    assert calls(emulator, "Case/FindCase") == 0


def test_get_case_details_and_not_found(emulator, logiqs):
    case = logiqs.get_case(101)
    assert (case.first_name, case.last_name, case.spouse_first_name, case.spouse_last_name) == (
        "John", "Smith", "Jane", "Smith")
    assert case.status == "Active" and case.active and case.ssn_last4 == "1234"
    with pytest.raises(NotFoundError):
        logiqs.get_case(999)
    assert calls(emulator, "Case/Case") == 2
    key, secret = emulator.create_api_key()
    mismatch = requests.get(emulator.api_url + "Case/Case", params={"CaseID": "102"}, headers={"CaseID": "101"},
                            auth=(key, secret), timeout=5)
    assert mismatch.status_code == 400


# ----------------------------------------------------------------------------------------------------- effects


def test_upload_document_shows_in_activities_and_stats(emulator, logiqs, pdf):
    doc_id = logiqs.upload_document(102, pdf, file_name="IRS_CORR_CP2000_2024_DTD_10.14.2025_SMITH.pdf",
                                    comment="CP2000 for 2024 [mailroom:f1:abc]")
    activity = [a for a in logiqs.activities(102) if a.document_id == doc_id]
    assert len(activity) == 1 and activity[0].kind == "document"
    assert "[mailroom:f1:abc]" in activity[0].comment
    assert "IRS_CORR_CP2000_2024_DTD_10.14.2025_SMITH.pdf" in activity[0].subject
    stored = [d for d in emulator.store.documents if d.document_id == doc_id][0]
    assert stored.size == pdf.stat().st_size
    stats = emulator.stats()
    assert stats["documents"]["102"]["IRS_CORR_CP2000_2024_DTD_10.14.2025_SMITH.pdf"] >= 1


def test_documents_over_6_mb(emulator, logiqs, tmp_path):
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF" + b"0" * (6 * 1024 * 1024 + 1))
    with pytest.raises(PermanentError) as caught:
        logiqs.upload_document(101, big, file_name="big.pdf", comment="c")
    assert caught.value.reason == "too_large" and calls(emulator, "Documents/CaseDocument") == 0
    key, secret = emulator.create_api_key()
    with big.open("rb") as handle:  # the server enforces it too
        raw = requests.post(emulator.api_url + "Documents/CaseDocument", auth=(key, secret), timeout=10,
                            headers={"CaseID": "101", "Comment": "c"}, files={"File": ("big.pdf", handle)})
    assert raw.status_code == 413 and raw.json()["Success"] is False


def test_create_task_returns_201_and_shows_in_activities(emulator, logiqs):
    task_id = logiqs.create_task(task(101, subject="CP2000 response due 12/28/2026"))
    activity = [a for a in logiqs.activities(101) if a.task_id == task_id][0]
    assert activity.kind == "task" and activity.subject == "CP2000 response due 12/28/2026"
    assert "[mailroom:f1:abc]" in activity.comment
    stored = [t for t in emulator.store.tasks if t.task_id == task_id][0]
    assert stored.due_date == NOW + timedelta(days=30) and stored.user_ids == [7] and stored.priority_id == 2
    key, secret = emulator.create_api_key()
    body = {"CaseID": 101, "Subject": "s", "Reminder": "2026-12-01T00:00:00Z", "DueDate": "2026-12-02T00:00:00Z",
            "TaskType": 1, "UserID": [1], "PriorityID": 1, "StatusID": 0, "Comments": ""}
    raw = requests.post(emulator.api_url + "Task/Task", json=body, auth=(key, secret), timeout=5)
    assert raw.status_code == 201 and raw.json()["StatusCode"] == 201 and raw.json()["data"]["TaskID"] > task_id
    event = requests.post(emulator.api_url + "Task/Task", json=body | {"TaskType": 2}, auth=(key, secret), timeout=5)
    assert event.status_code == 400  # an event needs EndDate
    assert requests.post(emulator.api_url + "Task/Task", auth=(key, secret), timeout=5,
                         json=body | {"PriorityID": 4}).status_code == 400


def test_events_need_an_end_date(emulator, logiqs):
    with pytest.raises(PermanentError):
        logiqs.create_task(task(task_type=2))
    assert calls(emulator, "Task/Task") == 0
    task_id = logiqs.create_task(task(task_type=2, end_date=NOW + timedelta(days=30, hours=1)))
    assert [t.end_date for t in emulator.store.tasks if t.task_id == task_id] == [NOW + timedelta(days=30, hours=1)]


def test_task_on_unknown_case_is_not_found(logiqs):
    with pytest.raises(NotFoundError):
        logiqs.create_task(task(case_id=4242))


def test_duplicates_are_counted(emulator, logiqs, pdf):
    for _ in range(2):
        logiqs.upload_document(104, pdf, file_name="dup.pdf", comment="c")
        logiqs.create_task(task(104, subject="dup task"))
    duplicates = emulator.stats()["duplicates"]
    assert {"case_id": 104, "file_name": "dup.pdf", "count": 2} in duplicates["documents"]
    assert any(d["case_id"] == 104 and d["subject"] == "dup task" for d in duplicates["tasks"])
    assert emulator.stats()["tasks"]["104"] == 2


def test_api_base_accepts_the_tenant_root_or_the_api_path():
    assert api_base("https://t.logiqs.com") == "https://t.logiqs.com/publicapi/V4/"
    assert api_base("https://t.logiqs.com/publicapi/V4/") == "https://t.logiqs.com/publicapi/V4/"
