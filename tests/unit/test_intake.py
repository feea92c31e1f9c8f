"""The intake rules with in-memory steps: no Prefect, no HTTP. The ledger and the effects are the real ones
(SQLite in a temp dir, ``mailroom.effects``); only Drive and Logiqs are in-memory stand-ins behind the ``Steps``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest

from mailroom.crm import Activity, TaskRequest
from mailroom.drive import DriveFile
from mailroom.duplicates import filed_copy
from mailroom.effects import ensure_document, ensure_moved, ensure_task
from mailroom.errors import AmbiguousOutcomeError, TransientError
from mailroom.fitting import Fitting, fit_document
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
    uploaded_sha256: list[str] = field(default_factory=list)  # what each upload carried

    def upload_document(self, case_id: int, path: Path, *, file_name: str, comment: str) -> int:
        self.documents.append(case_id)
        self.uploaded_sha256.append(hashlib.sha256(path.read_bytes()).hexdigest())
        self.feed.append(Activity(activity_id=len(self.feed) + 1, case_id=case_id, kind="document", comment=comment,
                                  subject=f"Document uploaded: {file_name}", document_id=len(self.documents)))
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
    content: bytes = b"%PDF-1.4 notice"  # what the download writes
    max_bytes: int = 6 * 1024 * 1024  # the fit step's limit (the real fit_document runs)

    def _step(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail_at:
            raise self.fail_at[name]

    def download(self, file: DriveFile) -> Path:
        self._step("download")
        path = self.tmp / f"{file.id}.pdf"
        path.write_bytes(self.content)
        return path

    def discard(self, file: DriveFile) -> None:
        self.discarded.append(file.id)
        (self.tmp / f"{file.id}.pdf").unlink(missing_ok=True)
        (self.tmp / f"{file.id}.fitted.pdf").unlink(missing_ok=True)

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

    def fit(self, path: Path) -> Fitting:
        self._step("fit")
        return fit_document(path, path.with_name(path.stem + ".fitted.pdf"), max_bytes=self.max_bytes)

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

    def filed_copy(self, key: NoticeKey, case_id: int, document_name: str) -> int | None:
        self._step("filed-copy")
        return filed_copy(self.services.activities(case_id), key.marker, document_name)


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

    assert steps.calls == ["download", "extract", "match", "filed-copy", "fit", "upload", "create-task", "move"]
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


@pytest.mark.parametrize("step", ["download", "match", "fit", "upload", "create-task", "move"])
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

    assert steps.calls == ["download", "extract", "match", "fit"]
    assert row.outcome is Outcome.MATCHED and row.dry_run and row.document_id is None
    assert ledger.records() == [] and steps.services.parents == {}


def test_a_scan_is_read_in_full_only_in_the_second_half(ledger, tmp_path):
    steps = _steps(ledger, tmp_path, scanned=True)
    reading = _intake(ledger).read(FILE, steps)
    assert steps.calls == ["download"] and reading.extraction is None  # the text layer said nothing: no OCR yet
    row = _intake(ledger).conclude(reading, steps)
    assert steps.calls == ["download", "extract", "match", "filed-copy", "fit", "upload", "create-task",
                           "move"]
    assert row.outcome is Outcome.MATCHED


def test_a_file_drive_says_is_too_large_is_set_aside_without_downloading_it(ledger, tmp_path):
    huge = FILE.model_copy(update={"size": 5 * 1024**3})
    steps = _steps(ledger, tmp_path)
    intake = Intake(ledger, "run-1", MATCHED_FOLDER, UNMATCHED_FOLDER, lease_seconds=60.0, max_bytes=20 * 1024**2)
    row = intake.process(huge, steps)

    assert row.outcome is Outcome.UNMATCHED and row.reason.startswith("unreadable (TOO_LARGE): file is 5368709120")
    assert steps.calls == ["move"] and steps.services.parents == {FILE.id: UNMATCHED_FOLDER}


# -- duplicates: one letter, one document, one task ---------------------------------------------------------------

COPY = DriveFile(id="file-2", name="CP2000 SMITH (1).pdf", mime_type="application/pdf", parents=[INPUT_FOLDER],
                 md5=FILE.md5)  # the clerk uploaded the same scan twice
RESCAN = DriveFile(id="file-3", name="CP2000 SMITH rescan.pdf", mime_type="application/pdf", parents=[INPUT_FOLDER],
                   md5="fedcba9876543210fedc")  # other bytes, same letter
AUR_NOTICE = dict(aur_control_number="87139-0114")


def test_a_second_upload_of_the_same_file_is_a_duplicate_and_is_not_even_downloaded(ledger, tmp_path):
    first = _steps(ledger, tmp_path)
    assert _intake(ledger).process(FILE, first).outcome is Outcome.MATCHED

    copy = _steps(ledger, tmp_path, services=first.services)
    row = _intake(ledger).process(COPY, copy)

    assert (row.outcome, row.duplicate_of) == (Outcome.UNMATCHED, FILE.id)
    assert row.reason == f"duplicate of {FILE.name} (file {FILE.id}): no new document or task"
    assert copy.calls == ["move"] and copy.services.parents[COPY.id] == UNMATCHED_FOLDER
    assert len(first.services.documents) == 1 and len(first.services.tasks) == 1


def test_the_same_letter_scanned_twice_is_a_duplicate_found_once_it_is_read(ledger, tmp_path):
    notice = _notice(**AUR_NOTICE)
    first = _steps(ledger, tmp_path, notice=notice)
    assert _intake(ledger).process(FILE, first).outcome is Outcome.MATCHED

    rescan = _steps(ledger, tmp_path, notice=notice, services=first.services)
    row = _intake(ledger).process(RESCAN, rescan)

    assert (row.outcome, row.duplicate_of, row.letter_type) == (Outcome.UNMATCHED, FILE.id, "CP2000")
    # Its case was looked up while reading (a Logiqs read, made before the run knows it is a copy); never filed.
    assert rescan.calls == ["download", "extract", "match", "move"]
    assert len(first.services.documents) == 1 and len(first.services.tasks) == 1


def test_a_duplicate_of_a_notice_still_in_progress_elsewhere_waits_for_nobody(ledger, tmp_path):
    """The original is claimed by another run that has not finished it: the copy is a duplicate all the same."""
    original = NoticeKey(file_id=FILE.id, md5=FILE.md5)
    assert ledger.claim(original, "run-other", 60.0)
    assert ledger.claim_identity(original, "content", FILE.md5, file_name=FILE.name) is None

    copy = _steps(ledger, tmp_path)
    row = _intake(ledger).process(COPY, copy)
    assert (row.outcome, row.duplicate_of) == (Outcome.UNMATCHED, FILE.id) and copy.services.documents == []


def test_a_letter_set_aside_for_a_person_gives_way_to_its_next_scan(ledger, tmp_path):
    """No case yet: the first scan is UNMATCHED. Scanned again once the case exists, the letter is filed."""
    notice = _notice(**AUR_NOTICE)
    no_case = MatchResult(outcome=MatchOutcome.NO_MATCH, reason="no case")
    assert _intake(ledger).process(FILE, _steps(ledger, tmp_path, notice=notice, match=no_case)).outcome \
        is Outcome.UNMATCHED

    row = _intake(ledger).process(RESCAN, _steps(ledger, tmp_path, notice=notice))
    assert (row.outcome, row.duplicate_of) == (Outcome.MATCHED, None)


def test_a_letter_already_on_its_case_under_the_same_name_is_not_filed_again(ledger, tmp_path):
    steps = _steps(ledger, tmp_path)
    scan = tmp_path / "by-hand.pdf"
    scan.write_bytes(b"%PDF-1.4 filed by a person")
    filed_by_hand = steps.services.upload_document(1001, scan, file_name="IRS_CORR_CP2000_2023_DTD_10.14.2025_"
                                                   "SMITH.pdf", comment="uploaded by a person")
    row = _intake(ledger).process(FILE, steps)

    assert (row.outcome, row.duplicate_of, row.case_id) == (Outcome.UNMATCHED, f"logiqs-document:{filed_by_hand}", 1001)
    assert row.reason.startswith(f"duplicate of document {filed_by_hand} already on case 1001")
    assert len(steps.services.documents) == 1 and steps.services.tasks == []


def test_this_notices_own_document_is_not_a_copy_when_a_failed_notice_is_resumed(ledger, tmp_path):
    first = _steps(ledger, tmp_path, "run-1", fail_at={"create-task": TransientError("503")})
    assert _intake(ledger, "run-1").process(FILE, first).outcome is Outcome.FAILED

    row = _intake(ledger, "run-2").process(FILE, _steps(ledger, tmp_path, "run-2", services=first.services))
    assert row.outcome is Outcome.MATCHED and len(first.services.documents) == 1


def test_a_dry_run_looks_for_no_duplicate_and_claims_no_identity(ledger, tmp_path):
    first = _steps(ledger, tmp_path)
    _intake(ledger).process(FILE, first)
    row = _intake(ledger).process(COPY, _steps(ledger, tmp_path), dry_run=True)
    assert row.outcome is Outcome.MATCHED and row.duplicate_of is None  # a preview: nothing was claimed
    assert ledger.get(NoticeKey(file_id=COPY.id, md5=COPY.md5)) is None


# -- the ledger is bound to the Drive it was written for ----------------------------------------------------------

def test_a_re_created_drive_never_reads_an_old_ledgers_rows_as_done(ledger, tmp_path):
    old, new = "robot@x/root-1@2025-01-01T00:00:00+00:00", "robot@x/root-1@2026-03-01T00:00:00+00:00"
    bound = dict(lease_seconds=60.0, drive=old)
    assert Intake(ledger, "run-1", MATCHED_FOLDER, UNMATCHED_FOLDER, **bound).process(
        FILE, _steps(ledger, tmp_path)).outcome is Outcome.MATCHED
    again = Intake(ledger, "run-2", MATCHED_FOLDER, UNMATCHED_FOLDER, **bound).process(FILE, _steps(ledger, tmp_path))
    assert again == Skipped(file_id=FILE.id, reason=SkipReason.FINISHED_EARLIER)

    recreated = _steps(ledger, tmp_path, "run-3")  # same ids, same bytes, but another Drive (and another Logiqs)
    row = Intake(ledger, "run-3", MATCHED_FOLDER, UNMATCHED_FOLDER, lease_seconds=60.0, drive=new).process(
        FILE, recreated)

    assert row.outcome is Outcome.MATCHED and len(recreated.services.documents) == 1
    record = ledger.get(NoticeKey(file_id=FILE.id, md5=FILE.md5))
    assert record.drive == new and any(event.startswith("forgotten: written for Drive") for event in
                                       ledger.history(record.key))


def test_rows_from_before_the_binding_are_adopted_by_the_first_bound_run(ledger, tmp_path):
    assert _intake(ledger).process(FILE, _steps(ledger, tmp_path)).outcome is Outcome.MATCHED  # unbound
    drive = "robot@x/root-1@2025-01-01T00:00:00+00:00"
    steps = _steps(ledger, tmp_path, "run-2")
    result = Intake(ledger, "run-2", MATCHED_FOLDER, UNMATCHED_FOLDER, lease_seconds=60.0, drive=drive).process(
        FILE, steps)
    assert result == Skipped(file_id=FILE.id, reason=SkipReason.FINISHED_EARLIER) and steps.calls == []


def test_a_filing_already_begun_is_finished_even_if_a_same_name_document_appeared_meanwhile(ledger, tmp_path):
    first = _steps(ledger, tmp_path, "run-1", fail_at={"create-task": TransientError("503")})
    assert _intake(ledger, "run-1").process(FILE, first).outcome is Outcome.FAILED
    by_hand = tmp_path / "by-hand.pdf"
    by_hand.write_bytes(b"%PDF-1.4 filed by a person")
    first.services.upload_document(1001, by_hand, file_name="IRS_CORR_CP2000_2023_DTD_10.14.2025_SMITH.pdf",
                                   comment="uploaded by a person meanwhile")

    resumed = _steps(ledger, tmp_path, "run-2", services=first.services)
    row = _intake(ledger, "run-2").process(FILE, resumed)
    assert row.outcome is Outcome.MATCHED and "filed-copy" not in resumed.calls and len(first.services.tasks) == 1


# --- oversize documents --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def colour_scan_pdf() -> bytes:
    """A one-page 200 dpi colour scan of a notice page (about 1.4 MB): over a 1 MB limit until recompressed."""
    import pymupdf

    from mailroom_sandbox.corpus.heavy import colour_scan

    with pymupdf.open() as document:
        document.new_page().insert_text((72, 72), "Notice CP2000 for MARY SMITH", fontsize=12)
        return colour_scan(document.tobytes(), seed=5, dpi=200, pages=1)


def test_an_oversize_document_is_recompressed_and_the_uploaded_copy_hash_is_in_the_ledger(ledger, tmp_path,
                                                                                          colour_scan_pdf):
    steps = _steps(ledger, tmp_path, content=colour_scan_pdf, max_bytes=1024 * 1024)
    row = _intake(ledger).process(FILE, steps)

    record = ledger.get(NoticeKey(file_id=FILE.id, md5=FILE.md5))
    assert row.outcome is Outcome.MATCHED and steps.calls[3:6] == ["filed-copy", "fit", "upload"]
    assert record.document_sha256 == steps.services.uploaded_sha256[0]  # the copy that went to Logiqs...
    assert record.document_sha256 != hashlib.sha256(colour_scan_pdf).hexdigest()  # ...not the original
    assert not list(tmp_path.glob("*.pdf"))  # the download and its recompressed copy are both forgotten


def test_every_upload_attempt_of_a_recompressed_document_sends_the_same_bytes(ledger, tmp_path, colour_scan_pdf):
    """Lost responses on every POST of run 1 (nothing committed), then run 2 downloads and fits again: each POST
    carries the same bytes, and the ledger records that hash."""

    @dataclass
    class LosingServices(InMemoryServices):
        lose: int = 3  # run 1's three POSTs lose their answer before Logiqs commits anything

        def upload_document(self, case_id: int, path: Path, *, file_name: str, comment: str) -> int:
            if self.lose:
                self.lose -= 1
                self.uploaded_sha256.append(hashlib.sha256(path.read_bytes()).hexdigest())
                raise AmbiguousOutcomeError("read timeout", reason="read_timeout")
            return super().upload_document(case_id, path, file_name=file_name, comment=comment)

    services = LosingServices()
    first = _steps(ledger, tmp_path, "run-1", content=colour_scan_pdf, max_bytes=1024 * 1024, services=services)
    assert _intake(ledger, "run-1").process(FILE, first).outcome is Outcome.FAILED
    second = _steps(ledger, tmp_path, "run-2", content=colour_scan_pdf, max_bytes=1024 * 1024, services=services)
    row = _intake(ledger, "run-2").process(FILE, second)

    assert row.outcome is Outcome.MATCHED and "fit" in second.calls and len(services.documents) == 1
    assert len(services.uploaded_sha256) == 4 and len(set(services.uploaded_sha256)) == 1
    assert ledger.get(NoticeKey(file_id=FILE.id, md5=FILE.md5)).document_sha256 == services.uploaded_sha256[0]


def test_a_document_already_filed_is_not_fitted_again(ledger, tmp_path, colour_scan_pdf):
    first = _steps(ledger, tmp_path, "run-1", content=colour_scan_pdf, max_bytes=1024 * 1024,
                   fail_at={"create-task": TransientError("503")})
    assert _intake(ledger, "run-1").process(FILE, first).outcome is Outcome.FAILED
    second = _steps(ledger, tmp_path, "run-2", content=colour_scan_pdf, max_bytes=1, services=first.services)

    row = _intake(ledger, "run-2").process(FILE, second)  # a limit nothing meets: only a re-fit could fail it

    assert row.outcome is Outcome.MATCHED and "fit" not in second.calls and len(first.services.documents) == 1


def test_a_document_that_cannot_be_fitted_is_set_aside_unmatched_and_never_tried_again(ledger, tmp_path):
    class Unfittable(MemorySteps):
        def fit(self, path: Path) -> Fitting:
            self._step("fit")
            return Fitting(original_bytes=7_340_032, failure="document is 7.0 MB, over the 6 MB Logiqs upload limit, "
                           "and even with its images recompressed to 96 dpi it is 7.0 MB")

    steps = Unfittable(ledger, "run-1", tmp_path, Extraction(notice=_notice()), MATCH)
    row = _intake(ledger).process(FILE, steps)

    assert row.outcome is Outcome.UNMATCHED and "upload" not in steps.calls
    assert row.reason == ("case 1001 matched but the document cannot be filed: document is 7.0 MB, over the 6 MB "
                          "Logiqs upload limit, and even with its images recompressed to 96 dpi it is 7.0 MB")
    assert steps.services.parents == {FILE.id: UNMATCHED_FOLDER} and not steps.services.documents
    again = Unfittable(ledger, "run-2", tmp_path, Extraction(notice=_notice()), MATCH)
    assert _intake(ledger, "run-2").process(FILE, again) == Skipped(file_id=FILE.id,
                                                                   reason=SkipReason.FINISHED_EARLIER)
    assert again.calls == []


def test_a_typed_letter_finds_its_case_while_the_run_is_still_reading(ledger, tmp_path):
    """Matching only reads Logiqs: done in ``read`` (while other notices still download from Drive), so filing in
    urgency order later starts with the effects. A scan, or a file of several letters, is matched when concluded."""
    typed = _steps(ledger, tmp_path)
    reading = _intake(ledger).read(FILE, typed)
    assert typed.calls == ["download", "extract", "match"] and reading.match == MATCH
    row = _intake(ledger).conclude(reading, typed)
    assert row.outcome is Outcome.MATCHED and typed.calls.count("match") == 1

    other = [FILE.model_copy(update=dict(id=f"file-{n}", md5=f"{n:020d}")) for n in (7, 8)]
    several = _steps(ledger, tmp_path, extraction=Extraction(notice=_notice(), more_notices=[_notice()]))
    assert _intake(ledger).read(other[0], several).match is None and several.calls == ["download", "extract"]
    scan = _steps(ledger, tmp_path, scanned=True)
    assert _intake(ledger).read(other[1], scan).match is None and scan.calls == ["download"]


def test_a_case_search_that_fails_while_reading_ends_the_notice_failed_at_match(ledger, tmp_path):
    steps = _steps(ledger, tmp_path, fail_at={"match": TransientError("503", service="logiqs", operation="find")})
    reading = _intake(ledger).read(FILE, steps)
    row = _intake(ledger).conclude(reading, steps)
    assert (row.outcome, row.failed_step) == (Outcome.FAILED, "match")
    assert "upload" not in steps.calls and steps.services.parents == {}
