"""Start-of-run reconciliation with a real ledger (SQLite, fake clock) and Drive as a dict of where each file is."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailroom.drive import DriveFile
from mailroom.errors import NotFoundError, TransientError
from mailroom.ledger import Ledger, NoticeKey, NoticeRecord, Outcome
from mailroom.reconcile import Reconciler

MATCHED, UNMATCHED, INPUT, ELSEWHERE = "f-matched", "f-unmatched", "f-input", "f-someone-elses"
LEASE = 60.0


class Drive:
    """Where each file is now; a file absent from ``parents`` is gone (404)."""

    def __init__(self) -> None:
        self.ledger = ledger
        self.parents: dict[str, str] = {}
        self.fail: set[str] = set()

    def get(self, file_id: str) -> DriveFile:
        if file_id in self.fail:
            raise TransientError("503 from Drive", status=503)
        if file_id not in self.parents:
            raise NotFoundError(f"file {file_id} not found", status=404)
        return DriveFile(id=file_id, name="x.pdf", mime_type="application/pdf", parents=[self.parents[file_id]])

    def move(self, record: NoticeRecord, folder_id: str, reason: str) -> None:  # stands in for ensure_moved
        self.parents[record.key.file_id] = folder_id
        self.ledger.finish(record.key, "run-2", Outcome.UNMATCHED, reason=reason)


clock = [1000.0]
ledger: Ledger


@pytest.fixture(autouse=True)
def fresh_ledger(tmp_path: Path):
    global ledger
    clock[0] = 1000.0
    ledger = Ledger(tmp_path / "ledger.sqlite", clock=lambda: clock[0])
    yield
    ledger.close()


def _left_by_a_killed_run(file_id: str, *, document: int | None = None, task: int | None = None,
                          moved_to: str | None = None, reason: str = "", drive: str | None = None) -> NoticeKey:
    key = NoticeKey(file_id=file_id, md5="0123456789abcdef")
    assert ledger.claim(key, "run-1", LEASE, file_name=f"{file_id}.pdf", drive=drive)
    if document is not None:
        ledger.begin_document(key, "run-1", 1001)
        ledger.record_document(key, "run-1", document)
    if task is not None:
        ledger.begin_task(key, "run-1", 1001)
        ledger.record_task(key, "run-1", task)
    if moved_to is not None:
        ledger.record_target(key, "run-1", moved_to, reason=reason)
    return key


def _reconcile(drive: Drive, *, listed: tuple[str, ...] = (), binding: str | None = None):
    clock[0] += LEASE + 1  # run-1 died: its leases have expired by the time run-2 starts
    reconciler = Reconciler(ledger, "run-2", MATCHED, UNMATCHED, LEASE, drive=binding)
    return reconciler.reconcile(drive.get, listed=listed, input_folders={INPUT}, move=drive.move)


def test_killed_between_the_move_and_the_ledger_update_the_notice_is_reported_matched_once():
    drive = Drive()
    _left_by_a_killed_run("a", document=5001, task=9001, moved_to=MATCHED)
    drive.parents["a"] = MATCHED  # the move happened; finish() never did

    rows = _reconcile(drive)

    assert [(r.file_id, r.outcome, r.reconciled, r.case_id, r.document_id, r.task_id) for r in rows] == [
        ("a", Outcome.MATCHED, True, 1001, 5001, 9001)]
    assert rows[0].reason.startswith("reconciled: found in the MATCHED folder, filed")
    assert ledger.unfinished() == []
    assert _reconcile(drive) == []  # and never again: one report only


def test_a_file_found_in_unmatched_keeps_the_reason_recorded_before_its_move():
    drive = Drive()
    _left_by_a_killed_run("b", moved_to=UNMATCHED, reason="NO_MATCH: no case for SMITH / 6789")
    drive.parents["b"] = UNMATCHED

    (row,) = _reconcile(drive)
    assert (row.outcome, row.reason) == (Outcome.UNMATCHED, "reconciled: NO_MATCH: no case for SMITH / 6789")


def test_a_file_still_in_an_input_folder_or_listed_is_left_to_the_run_that_resumes_it():
    drive = Drive()
    _left_by_a_killed_run("c", document=5001)
    _left_by_a_killed_run("d")
    drive.parents.update(c=INPUT, d=INPUT)

    assert _reconcile(drive, listed=("d",)) == []
    assert {r.key.file_id for r in ledger.unfinished()} == {"c", "d"}


def test_a_row_another_live_run_holds_is_its_business():
    drive = Drive()
    key = _left_by_a_killed_run("e", document=5001, task=9001)
    drive.parents["e"] = MATCHED
    clock[0] += LEASE + 1
    assert ledger.claim(key, "run-3", 10 * LEASE)  # run-3 took it over and is working on it now

    assert _reconcile(drive) == [] and ledger.get(key).owner == "run-3"


@pytest.mark.parametrize(
    ("where", "effects", "outcome", "reason_starts"),
    [
        (None, {}, Outcome.UNMATCHED, "reconciled: deleted from Drive before it was filed (document none, task none"),
        (None, {"document": 5001, "task": 9001}, Outcome.MATCHED, "reconciled: filed (document 5001, task 9001 on "
                                                                  "case 1001); the file was since deleted from Drive"),
        (ELSEWHERE, {"document": 5001}, Outcome.UNMATCHED, "reconciled: moved out of the input folders before it "
                                                            "was filed (document 5001, task none on case 1001)"),
        (MATCHED, {"document": 5001}, Outcome.UNMATCHED, "reconciled: found in the MATCHED folder but not filed "
                                                          "(document 5001, task none on case 1001); moved to UNMATCHED"),
    ],
    ids=["deleted", "deleted-after-filing", "moved-away-half-filed", "in-matched-by-hand"],
)
def test_a_file_that_left_the_input_folders_is_settled_by_what_the_ledger_shows(where, effects, outcome,
                                                                                reason_starts):
    drive = Drive()
    key = _left_by_a_killed_run("f", **effects)
    if where is not None:
        drive.parents["f"] = where

    (row,) = _reconcile(drive)

    assert row.outcome is outcome and row.reason.startswith(reason_starts), row.reason
    assert ledger.get(key).finished
    if where is not None:  # MATCHED means filed: a file found there unfiled is taken out; elsewhere it stays
        assert drive.parents["f"] == (UNMATCHED if where == MATCHED else where)


def test_rows_of_another_drive_and_rows_drive_cannot_answer_for_now_wait():
    drive = Drive()
    _left_by_a_killed_run("g", document=5001, task=9001, drive="old drive")
    _left_by_a_killed_run("h", document=5001, task=9001, drive="this drive")
    drive.parents.update(g=MATCHED, h=MATCHED)
    drive.fail.add("h")

    assert _reconcile(drive, binding="this drive") == []
    assert {r.key.file_id for r in ledger.unfinished()} == {"g", "h"}
