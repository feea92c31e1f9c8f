"""Ledger semantics with a fake clock (no sleeping), on both backends: a real SQLite file and a real PostgreSQL
database (tests/pg.py). Every test taking ``ledger`` runs once per backend."""

from __future__ import annotations

import sqlite3

import pytest

from mailroom.errors import MailroomError
from mailroom.ledger import (
    ClaimResult,
    Ledger,
    LeaseLostError,
    NoticeKey,
    Outcome,
    Stage,
    default_ledger_path,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


KEY = NoticeKey(file_id="f-1", md5="0123456789abcdef0123456789abcdef")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ledger(ledger_target, clock) -> Ledger:
    ledger = ledger_target.open(clock=clock)
    yield ledger
    ledger.close()


def test_marker_is_drive_id_and_md5_prefix() -> None:
    assert KEY.marker == "mailroom:f-1:0123456789ab"
    assert str(KEY) == "f-1@0123456789ab"


def test_file_is_sqlite_in_wal_mode_with_full_sync(tmp_path) -> None:
    ledger = Ledger(tmp_path / "state" / "ledger.sqlite")
    db = sqlite3.connect(ledger.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with ledger._engine().connect() as conn:  # the setting is per connection: check one the ledger uses
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_default_path_honours_state_dir_env(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MAILROOM_STATE_DIR", str(tmp_path / "s"))
    assert default_ledger_path() == tmp_path / "s" / "ledger.sqlite"
    assert default_ledger_path(tmp_path / "x") == tmp_path / "x" / "ledger.sqlite"


def test_claim_is_exclusive_until_the_lease_expires(ledger: Ledger, clock: FakeClock) -> None:
    assert ledger.claim(KEY, "run-a", 60, file_name="n.pdf") is ClaimResult.ACQUIRED
    assert ledger.claim(KEY, "run-b", 60) is ClaimResult.BUSY
    assert not ledger.claim(KEY, "run-b", 60)
    assert ledger.claim(KEY, "run-a", 60) is ClaimResult.ACQUIRED  # same owner renews
    clock.advance(61)
    assert ledger.claim(KEY, "run-b", 60) is ClaimResult.ACQUIRED
    record = ledger.get(KEY)
    assert record is not None and record.owner == "run-b" and record.runs == 3
    assert "claimed (expired lease taken over)" in ledger.history(KEY)


def test_stale_owner_is_fenced_off_after_takeover(ledger: Ledger, clock: FakeClock) -> None:
    ledger.claim(KEY, "run-a", 60)
    clock.advance(61)
    ledger.claim(KEY, "run-b", 60)
    with pytest.raises(LeaseLostError):
        ledger.record_stage(KEY, "run-a", Stage.DOWNLOADED)
    with pytest.raises(LeaseLostError):
        ledger.begin_document(KEY, "run-a", case_id=7)
    with pytest.raises(LeaseLostError):
        ledger.finish(KEY, "run-a", Outcome.UNMATCHED, reason="no_match")
    record = ledger.get(KEY)
    assert record is not None and record.stage is Stage.CLAIMED and record.document_attempts == 0


def test_expired_lease_fences_its_own_owner_too(ledger: Ledger, clock: FakeClock) -> None:
    ledger.claim(KEY, "run-a", 10)
    clock.advance(11)
    with pytest.raises(LeaseLostError):
        ledger.begin_document(KEY, "run-a", case_id=7)


def test_progress_writes_renew_the_lease(ledger: Ledger, clock: FakeClock) -> None:
    ledger.claim(KEY, "run-a", 10)
    for stage in (Stage.DOWNLOADED, Stage.EXTRACTED):
        clock.advance(8)
        ledger.record_stage(KEY, "run-a", stage, lease_seconds=10)
    clock.advance(8)  # 24 s after the claim, still held thanks to renewals
    assert ledger.claim(KEY, "run-b", 10) is ClaimResult.BUSY


def test_stage_never_moves_backwards(ledger: Ledger) -> None:
    ledger.claim(KEY, "run-a", 60)
    ledger.record_stage(KEY, "run-a", Stage.MATCHED_CASE, case_id=42)
    ledger.record_stage(KEY, "run-a", Stage.DOWNLOADED)
    record = ledger.get(KEY)
    assert record is not None and record.stage is Stage.MATCHED_CASE and record.case_id == 42


def test_effect_stages_need_their_ids(ledger: Ledger) -> None:
    ledger.claim(KEY, "run-a", 60)
    with pytest.raises(ValueError):
        ledger.record_stage(KEY, "run-a", Stage.DOCUMENT_UPLOADED)


def test_intent_is_durable_before_the_effect(ledger: Ledger, ledger_target) -> None:
    ledger.claim(KEY, "run-a", 60)
    assert ledger.begin_document(KEY, "run-a", case_id=42) == 1
    # A second process (fresh connection) sees the attempt although no id was ever recorded.
    other = ledger_target.open()
    record = other.get(KEY)
    assert record is not None and record.document_attempts == 1 and record.document_id is None
    assert ledger.begin_document(KEY, "run-a", case_id=42) == 2


def test_documents_and_tasks_are_recorded_once(ledger: Ledger) -> None:
    ledger.claim(KEY, "run-a", 60)
    ledger.begin_document(KEY, "run-a", case_id=42)
    ledger.record_document(KEY, "run-a", 501)
    ledger.record_document(KEY, "run-a", 999)  # a late duplicate report never replaces the confirmed id
    with pytest.raises(MailroomError):
        ledger.begin_document(KEY, "run-a", case_id=42)
    ledger.begin_task(KEY, "run-a", case_id=42)
    ledger.record_task(KEY, "run-a", 77, found_by_marker=True)
    record = ledger.get(KEY)
    assert record is not None
    assert (record.document_id, record.task_id, record.stage) == (501, 77, Stage.TASK_CREATED)
    assert "task 77 confirmed (found by marker)" in ledger.history(KEY)


def test_matched_requires_confirmed_document_and_task(ledger: Ledger) -> None:
    ledger.claim(KEY, "run-a", 60)
    ledger.begin_document(KEY, "run-a", case_id=42)
    ledger.record_document(KEY, "run-a", 501)
    with pytest.raises(MailroomError, match="cannot be MATCHED"):
        ledger.finish(KEY, "run-a", Outcome.MATCHED)
    ledger.record_task(KEY, "run-a", 77)
    ledger.record_target(KEY, "run-a", "folder-matched")
    ledger.finish(KEY, "run-a", Outcome.MATCHED)
    record = ledger.get(KEY)
    assert record is not None
    assert record.outcome is Outcome.MATCHED and record.stage is Stage.DONE and record.moved
    assert record.owner is None and record.target_folder_id == "folder-matched"
    assert ledger.claim(KEY, "run-b", 60) is ClaimResult.FINISHED


def test_failed_notice_is_retried_later_keeping_its_effects(ledger: Ledger) -> None:
    ledger.claim(KEY, "run-a", 60)
    ledger.begin_document(KEY, "run-a", case_id=42)
    ledger.record_document(KEY, "run-a", 501)
    ledger.finish(KEY, "run-a", Outcome.FAILED, reason="logiqs_unavailable")
    assert [r.key for r in ledger.unfinished()] == [KEY]
    assert ledger.claim(KEY, "run-b", 60) is ClaimResult.ACQUIRED
    record = ledger.get(KEY)
    assert record is not None
    assert record.outcome is None and record.document_id == 501 and record.stage is Stage.DOCUMENT_UPLOADED


def test_case_cannot_change_once_a_document_is_filed(ledger: Ledger) -> None:
    ledger.claim(KEY, "run-a", 60)
    ledger.begin_document(KEY, "run-a", case_id=42)
    ledger.record_document(KEY, "run-a", 501)
    ledger.record_stage(KEY, "run-a", Stage.MATCHED_CASE, case_id=42)  # same case: fine
    with pytest.raises(MailroomError, match="already has a document on case 42"):
        ledger.record_stage(KEY, "run-a", Stage.MATCHED_CASE, case_id=43)


def test_release_only_by_the_holder(ledger: Ledger) -> None:
    ledger.claim(KEY, "run-a", 60)
    ledger.release(KEY, "run-b")
    assert ledger.claim(KEY, "run-b", 60) is ClaimResult.BUSY
    ledger.release(KEY, "run-a")
    assert ledger.claim(KEY, "run-b", 60) is ClaimResult.ACQUIRED


def test_same_file_with_new_content_is_a_new_notice(ledger: Ledger) -> None:
    ledger.claim(KEY, "run-a", 60)
    ledger.record_stage(KEY, "run-a", Stage.EXTRACTED)
    ledger.finish(KEY, "run-a", Outcome.UNMATCHED, reason="no_match")
    replaced = NoticeKey(file_id=KEY.file_id, md5="ffffffffffffffffffffffffffffffff")
    assert ledger.claim(replaced, "run-b", 60) is ClaimResult.ACQUIRED
    assert len(ledger.records()) == 2


def test_records_carry_no_taxpayer_fields(ledger: Ledger) -> None:
    ledger.claim(KEY, "run-a", 60, file_name="CP2000 DTD 10.14.2025_SMITH - 0012.pdf")
    fields = set(ledger.get(KEY).model_dump())  # type: ignore[union-attr]
    assert not fields & {"ssn", "ssn_last4", "taxpayer_first_name", "taxpayer_last_name", "amount_due"}
