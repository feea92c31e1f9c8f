"""A Drive file holding several letters: each is matched and filed on its own, the file moves once all are done.

Real ledger, real effects, real page-range PDFs; Drive and Logiqs are the in-memory stand-ins of test_intake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pymupdf
import pytest

from mailroom.drive import DriveFile
from mailroom.errors import TransientError
from mailroom.intake import Extraction
from mailroom.ledger import Ledger, NoticeKey
from mailroom.matching import MatchOutcome, MatchResult
from mailroom.notices import Notice
from mailroom.outcomes import Outcome
from tests.unit.test_intake import FILE, MATCHED_FOLDER, UNMATCHED_FOLDER, MemorySteps, _intake, _notice


def _letters() -> list[Notice]:
    return [_notice(part=0, first_page=1, last_page=3, page_count=5),  # page 1: a cover sheet, filed with letter 1
            _notice(part=1, first_page=4, last_page=5, page_count=5, taxpayer_last_name="JONES", tax_year=2022)]


@dataclass
class LetterSteps(MemorySteps):
    """Downloads a real 5-page PDF; matches by last name; remembers the page count of every uploaded document."""

    by_name: dict[str, MatchResult] = field(default_factory=dict)
    uploaded_pages: list[int] = field(default_factory=list)
    uploaded_paths: list[Path] = field(default_factory=list)

    def download(self, file: DriveFile) -> Path:
        self._step("download")
        path = self.tmp / f"{file.id}.pdf"
        with pymupdf.open() as document:
            for number in range(5):
                document.new_page().insert_text((72, 72), f"page {number + 1}")
            document.save(path)
        return path

    def match(self, notice: Notice) -> MatchResult:
        self._step("match")
        return self.by_name[notice.taxpayer_last_name]

    def upload(self, key: NoticeKey, case_id: int, path: Path, document_name: str) -> int:
        with pymupdf.open(path) as document:
            self.uploaded_pages.append(document.page_count)
        self.uploaded_paths.append(path)
        return super().upload(key, case_id, path, document_name)


def _match(case_id: int) -> MatchResult:
    return MatchResult(outcome=MatchOutcome.MATCHED, case_id=case_id, score=100.0, reason=f"case {case_id} exact")


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite")


def _steps(ledger: Ledger, tmp_path: Path, owner: str = "run-1", **kwargs) -> LetterSteps:
    letters = _letters()
    extraction = Extraction(notice=letters[0], more_notices=letters[1:])
    by_name = kwargs.pop("by_name", {"SMITH": _match(1001), "JONES": _match(2002)})
    return LetterSteps(ledger, owner, tmp_path, extraction, _match(1001), by_name=by_name, **kwargs)


def test_each_letter_is_filed_as_its_own_document_and_the_file_moves_once(ledger, tmp_path):
    steps = _steps(ledger, tmp_path)
    row = _intake(ledger).process(FILE, steps)
    assert row.outcome is Outcome.MATCHED and row.case_id == 1001
    assert steps.uploaded_pages == [3, 2]  # letter 1 with the cover sheet, letter 2 alone
    assert [task.case_id for task in steps.services.tasks] == [1001, 2002]
    assert steps.calls.count("move") == 1 and steps.services.parents[FILE.id] == MATCHED_FOLDER
    comments = [activity.comment for activity in steps.services.feed if activity.kind == "document"]
    first, second = NoticeKey(file_id=FILE.id, md5=FILE.md5), NoticeKey(file_id=FILE.id, md5=FILE.md5, part=1)
    assert first.marker in comments[0] and second.marker in comments[1] and first.marker not in comments[1]
    assert ledger.get(second).outcome is Outcome.MATCHED and ledger.get(second).document_id is not None
    assert ledger.get(first).outcome is Outcome.MATCHED
    assert not any(path.exists() for path in steps.uploaded_paths)  # the page ranges held a full SSN: deleted
    assert "letter 1 (pages 1-3) MATCHED" in row.reason and "letter 2 (pages 4-5) MATCHED" in row.reason


def test_a_letter_without_its_case_sends_the_file_to_unmatched_with_each_letters_reason(ledger, tmp_path):
    no_case = MatchResult(outcome=MatchOutcome.NO_MATCH, reason="no case with this last name and SSN ***-**-6789")
    steps = _steps(ledger, tmp_path, by_name={"SMITH": _match(1001), "JONES": no_case})
    row = _intake(ledger).process(FILE, steps)
    assert row.outcome is Outcome.UNMATCHED and steps.services.parents[FILE.id] == UNMATCHED_FOLDER
    assert steps.uploaded_pages == [3]  # letter 1 is filed all the same
    assert "letter 2 (pages 4-5) UNMATCHED: NO_MATCH" in row.reason and "letter 1 (pages 1-3) MATCHED" in row.reason
    assert ledger.get(NoticeKey(file_id=FILE.id, md5=FILE.md5, part=1)).outcome is Outcome.UNMATCHED


def test_a_failure_in_a_later_letter_is_finished_by_the_next_run_without_repeating_anything(ledger, tmp_path):
    first = _steps(ledger, tmp_path, "run-1")
    first.fail_at["create-task"] = TransientError("503")  # letter 1's task fails: nothing of letter 2 happens
    assert _intake(ledger, "run-1").process(FILE, first).outcome is Outcome.FAILED
    second = _steps(ledger, tmp_path, "run-2", services=first.services)
    second.fail_at["move"] = TransientError("503")  # both letters filed, the move fails
    assert _intake(ledger, "run-2").process(FILE, second).outcome is Outcome.FAILED
    third = _steps(ledger, tmp_path, "run-3", services=first.services)
    row = _intake(ledger, "run-3").process(FILE, third)
    assert row.outcome is Outcome.MATCHED and third.services.parents[FILE.id] == MATCHED_FOLDER
    assert len(first.services.documents) == 2 and len(first.services.tasks) == 2  # each effect exactly once
    assert "finished earlier" in row.reason  # run 3 found letter 2 done by run 2


def test_part_keys_keep_old_rows_and_markers_and_never_collide():
    key = NoticeKey(file_id="abc", md5="0123456789abcdef")
    assert key.letter(0) == key and key.row_md5 == key.md5 and key.marker == "mailroom:abc:0123456789ab"
    later = key.letter(2)
    assert later.marker == "mailroom:abc/2:0123456789ab" and key.marker not in later.marker
    assert NoticeKey.from_row("abc", later.row_md5) == later and NoticeKey.from_row("abc", key.md5) == key
