"""The intake rules with in-memory steps: no Prefect, no HTTP. The ledger and the effects are the real ones
(SQLite in a temp dir, ``mailroom.effects``); only Drive and Logiqs are in-memory stand-ins behind the ``Steps``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest

from mailroom.crm import Activity, TaskRequest
from mailroom.drive import DriveFile
from mailroom.effects import ensure_document, ensure_moved, ensure_task
from mailroom.errors import TransientError
from mailroom.intake import Extraction, Intake, Skipped
from mailroom.ledger import Ledger, NoticeKey
from mailroom.matching import MatchOutcome, MatchResult
from mailroom.notices import LetterType, Notice
from mailroom.outcomes import Outcome, SkipReason

MATCHED_FOLDER, UNMATCHED_FOLDER, INPUT_FOLDER = "f-matched", "f-unmatched", "f-input"
TODAY = date(2025, 10, 14)


def _notice(**overrides) -> Notice:
    values = dict(letter_type=LetterType.CP2000, tax_year=2023, notice_date=TODAY,
                  response_due_date=TODAY + timedelta(days=30), taxpayer_first_name="MARY",
                  taxpayer_last_name="SMITH", ssn_last4="6789")
    return Notice(**(values | overrides))


@dataclass
class InMemoryServices:
    """Drive parents and Logiqs documents/tasks/activities, in memory."""

    parents: dict[str, str] = field(default_factory=dict)
    documents: list[int] = field(default_factory=list)
    tasks: list[TaskRequest] = field(default_factory=list)
    feed: list[Activity] = field(default_factory=list)

    def upload_document(self, case_id: int, path: Path, *, file_name: str, comment: str) -> int:
        self.documents.append(case_id)
        self.feed.append(Activity(activity_id=len(self.feed) + 1, case_id=case_id, kind="document", comment=comment,
                                  document_id=len(self.documents)))
        return len(self.documents)

    def create_task(self, task: TaskRequest) -> int:
        self.tasks.append(task)
        return len(self.tasks)

    def activities(self, case_id: int) -> list[Activity]:
        return [a for a in self.feed if a.case_id == case_id]

    def move(self, file_id: str, *, to_folder_id: str) -> None:
        self.parents[file_id] = to_folder_id


@dataclass
class MemorySteps:
    """``Steps`` over the real effects and in-memory services; ``fail_at`` makes one step raise."""

    ledger: Ledger
    owner: str
    tmp: Path
    extraction: Extraction
    match_result: MatchResult
    services: InMemoryServices = field(default_factory=InMemoryServices)
    fail_at: dict[str, Exception] = field(default_factory=dict)
    scanned: bool = False  # a scan: the text layer says nothing, the full read (OCR) happens later
    calls: list[str] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)

    def _step(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail_at:
            raise self.fail_at[name]

    def download(self, file: DriveFile) -> Path:
        self._step("download")
        path = self.tmp / f"{file.id}.pdf"
        path.write_bytes(b"%PDF-1.4 notice")
        return path

    def discard(self, file: DriveFile) -> None:
        self.discarded.append(file.id)
        (self.tmp / f"{file.id}.pdf").unlink(missing_ok=True)

    def extract(self, path: Path, file_name: str) -> Extraction:
        self._step("extract")
        assert path.exists()
        return self.extraction

    def read_text_layer(self, path: Path, file_name: str) -> Extraction | None:
        if self.scanned:
            return None
        return self.extract(path, file_name)  # a typed notice: the text layer is the whole reading

    def match(self, notice: Notice) -> MatchResult:
        self._step("match")
        return self.match_result

    def upload(self, key: NoticeKey, case_id: int, path: Path, document_name: str) -> int:
        self._step("upload")
        return ensure_document(self.ledger, self.services, key, owner=self.owner, case_id=case_id, path=path,
                               file_name=document_name).id

    def create_task(self, key: NoticeKey, case_id: int, letter_type: str, notice_date, due_date: date) -> int:
        self._step("create-task")
        from datetime import datetime, timezone

        due = datetime(due_date.year, due_date.month, due_date.day, 17, tzinfo=timezone.utc)
        request = TaskRequest(case_id=case_id, subject=f"Review {letter_type}", due_date=due, reminder=due)
        return ensure_task(self.ledger, self.services, key, request, owner=self.owner).id

    def move(self, key: NoticeKey, outcome: Outcome, to_folder_id: str, reason: str) -> None:
        self._step("move")
        ensure_moved(self.ledger, self.services, key, owner=self.owner, outcome=outcome, to_folder_id=to_folder_id,
                     reason=reason)


MATCH = MatchResult(outcome=MatchOutcome.MATCHED, case_id=1001, score=97.5, reason="exact name and SSN last 4")
FILE = DriveFile(id="file-1", name="CP2000 SMITH.pdf", mime_type="application/pdf", parents=[INPUT_FOLDER],
                 md5="0123456789abcdef0123")


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite")


def _intake(ledger: Ledger, owner: str = "run-1") -> Intake:
    return Intake(ledger, owner, MATCHED_FOLDER, UNMATCHED_FOLDER, lease_seconds=60.0)


def _steps(ledger: Ledger, tmp_path: Path, owner: str = "run-1", *, notice: Notice | None = None,
           match: MatchResult = MATCH, **kwargs) -> MemorySteps:
    extraction = kwargs.pop("extraction", None) or Extraction(notice=notice or _notice())
    return MemorySteps(ledger, owner, tmp_path, extraction, match, **kwargs)


def test_a_matched_notice_is_filed_then_moved_and_its_download_forgotten(ledger, tmp_path):
    steps = _steps(ledger, tmp_path)
    row = _intake(ledger).process(FILE, steps)

    assert steps.calls == ["download", "extract", "match", "upload", "create-task", "move"]
    assert (row.outcome, row.case_id, row.document_id, row.task_id) == (Outcome.MATCHED, 1001, 1, 1)
    assert row.document_name == "IRS_CORR_CP2000_2023_DTD_10.14.2025_SMITH.pdf"
    assert row.ssn == "***-**-6789" and row.response_due_date == TODAY + timedelta(days=30)
    assert steps.services.parents == {FILE.id: MATCHED_FOLDER}
    assert steps.discarded == [FILE.id] and not (tmp_path / f"{FILE.id}.pdf").exists()
    record = ledger.get(NoticeKey(file_id=FILE.id, md5=FILE.md5))
    assert record.outcome is Outcome.MATCHED and record.moved


@pytest.mark.parametrize(
    ("extraction", "match", "notice", "reason_starts"),
    [
        (Extraction(failure="ENCRYPTED", message="the PDF is encrypted"), MATCH, None, "unreadable (ENCRYPTED)"),
        (None, MatchResult(outcome=MatchOutcome.AMBIGUOUS, reason="2 cases within 8 points"), None, "AMBIGUOUS: 2"),
        (None, MatchResult(outcome=MatchOutcome.NO_MATCH, reason="no case"), None, "NO_MATCH: no case"),
        (None, MATCH, _notice(response_due_date=None), "case 1001 matched but no response due date"),
    ],
    ids=["unreadable", "ambiguous", "no-match", "no-due-date"],
)
def test_what_a_person_must_file_goes_to_unmatched_with_its_reason(ledger, tmp_path, extraction, match, notice,
                                                                   reason_starts):
    steps = _steps(ledger, tmp_path, notice=notice, match=match, extraction=extraction)
    row = _intake(ledger).process(FILE, steps)

    assert row.outcome is Outcome.UNMATCHED and row.reason.startswith(reason_starts), row.reason
    assert "upload" not in steps.calls and not steps.services.documents and not steps.services.tasks
    assert steps.services.parents == {FILE.id: UNMATCHED_FOLDER}
    assert ledger.get(NoticeKey(file_id=FILE.id, md5=FILE.md5)).outcome is Outcome.UNMATCHED


@pytest.mark.parametrize("step", ["download", "match", "upload", "create-task", "move"])
def test_a_step_still_failing_after_its_retries_leaves_the_notice_failed_in_place(ledger, tmp_path, step):
    steps = _steps(ledger, tmp_path, fail_at={step: TransientError("503 from the service", status=503)})
    row = _intake(ledger).process(FILE, steps)

    assert (row.outcome, row.failed_step) == (Outcome.FAILED, step)
    assert row.reason == f"{step}: 503 from the service"
    assert FILE.id not in steps.services.parents  # FAILED stays in its input folder
    assert steps.discarded == [FILE.id]
    assert ledger.get(NoticeKey(file_id=FILE.id, md5=FILE.md5)).outcome is Outcome.FAILED


def test_the_next_run_finishes_a_failed_notice_without_repeating_its_effects(ledger, tmp_path):
    first = _steps(ledger, tmp_path, "run-1", fail_at={"create-task": TransientError("503")})
    assert _intake(ledger, "run-1").process(FILE, first).outcome is Outcome.FAILED

    second = _steps(ledger, tmp_path, "run-2", services=first.services)
    row = _intake(ledger, "run-2").process(FILE, second)

    assert row.outcome is Outcome.MATCHED
    assert len(first.services.documents) == 1 and len(first.services.tasks) == 1


def test_a_bug_in_a_step_fails_only_that_notice_and_names_the_step(ledger, tmp_path):
    steps = _steps(ledger, tmp_path, fail_at={"match": KeyError("a bug")})
    row = _intake(ledger).process(FILE, steps)
    assert (row.outcome, row.failed_step, row.reason) == (Outcome.FAILED, "match", "match: unexpected KeyError")


def test_a_notice_held_by_another_run_or_finished_earlier_is_left_alone(ledger, tmp_path):
    other = _steps(ledger, tmp_path, "run-other")
    key = NoticeKey(file_id=FILE.id, md5=FILE.md5)
    assert ledger.claim(key, "run-other", 60.0)
    steps = _steps(ledger, tmp_path, "run-1")

    assert _intake(ledger).process(FILE, steps) == Skipped(file_id=FILE.id, reason=SkipReason.HELD_BY_ANOTHER_RUN)
    assert steps.calls == []

    assert _intake(ledger, "run-other").process(FILE, other).outcome is Outcome.MATCHED
    assert _intake(ledger).process(FILE, steps) == Skipped(file_id=FILE.id, reason=SkipReason.FINISHED_EARLIER)
    assert steps.calls == []


def test_a_run_whose_lease_was_taken_over_mid_notice_skips_it_and_writes_nothing_more(ledger, tmp_path):
    key = NoticeKey(file_id=FILE.id, md5=FILE.md5)

    class Stalled(MemorySteps):
        def match(self, notice: Notice) -> MatchResult:  # the run stalls past its lease; run-2 takes over
            clock[0] += 120.0
            assert ledger.claim(key, "run-2", 60.0)
            return super().match(notice)

    clock = [1000.0]
    ledger = Ledger(tmp_path / "fenced.sqlite", clock=lambda: clock[0])
    steps = Stalled(ledger, "run-1", tmp_path, Extraction(notice=_notice()), MATCH)
    result = _intake(ledger).process(FILE, steps)

    assert result == Skipped(file_id=FILE.id, reason=SkipReason.LEASE_TAKEN_OVER)
    assert steps.services.documents == [] and ledger.get(key).owner == "run-2"


def test_a_dry_run_reads_and_matches_but_writes_nothing_not_even_the_ledger(ledger, tmp_path):
    steps = _steps(ledger, tmp_path)
    row = _intake(ledger).process(FILE, steps, dry_run=True)

    assert steps.calls == ["download", "extract", "match"]
    assert row.outcome is Outcome.MATCHED and row.dry_run and row.document_id is None
    assert ledger.records() == [] and steps.services.parents == {}


def test_a_scan_is_read_in_full_only_in_the_second_half(ledger, tmp_path):
    steps = _steps(ledger, tmp_path, scanned=True)
    reading = _intake(ledger).read(FILE, steps)
    assert steps.calls == ["download"] and reading.extraction is None  # the text layer said nothing: no OCR yet
    row = _intake(ledger).conclude(reading, steps)
    assert steps.calls == ["download", "extract", "match", "upload", "create-task", "move"]
    assert row.outcome is Outcome.MATCHED
