"""Round 28 (issue 10): an address block read past a stamp's marks; a page in doubt read closer for its marks; an
asterisk mask read again by its digits alone.

A RECEIVED stamp over the address block may leave the name line whole and still lose the block: its date read on
after the name puts digits in the name line, or its text over the street line leaves no house number to know the
street by. Such a block is read on a second pass only, and its lines are evidence for the CRM only: the matcher
searches their surnames with the page's last 4 and files nothing unless the case's own name is on them.

A letter held in doubt by a page that shows nothing of its taxpayer has that page's top band read again through the
second looks' cleanups, so a faded header's last 4 can vouch for the page (mailroom/pages_vouched.py).
"""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

from mailroom.crm import CaseCandidate
from mailroom.matching import MatchOutcome, match_notice
from mailroom.notices import ExtractionLimits, extract_notices
from mailroom.notices import page_marks
from mailroom.notices.address import address_block_names, names_found
from mailroom.notices.layout import build_layout
from mailroom.notices.model import ExtractionError, ExtractionFailure, Notice
from mailroom.notices.page_fields import TRUSTED_CONFIDENCE
from mailroom.notices.ocr import ocr_image, prepare, read_line
from mailroom.notices.pages import Pages
from mailroom.notices.rereads import reread_ssn_last4
from mailroom_sandbox.logiqs.directory import InMemoryCaseDirectory
from tests.unit.test_letter_pages import FILLER, directory, first_page
from tests.unit.test_extraction import scanned_copy
from tests.unit.test_parse_round4 import _line, _plain
from tests.unit.test_reader_round6 import _box_line
from tests.unit.test_reader_round26 import scanned_with_dust


def _block(rows: list[tuple[str, float]]):
    return address_block_names(build_layout([_line(_plain(text), top) for text, top in rows], 1700, 1200))


def test_a_stamps_date_after_the_name_line_costs_the_words_after_it_not_the_block() -> None:
    # seed 196418: "WEI H TORRES & ADAEZE W HARKISY 14 5\u00b0 D", the name line with the stamp's date read after
    # it, was no name line for its digits, and the letter had no name to search by
    block = _block([("WEI H TORRES & ADAEZE W HARKISY 14 5\u00b0 D", 300), ("11309 2ND ST", 330),
                    ("PORTLAND ME 04101", 360)])
    assert block is not None and block.lines == ("WEI H TORRES & ADAEZE W HARKISY",)
    assert block.names is None and names_found(block) is None  # evidence only: HARKISY is the stamp's HARRIS


def test_a_street_line_the_stamp_garbled_still_leads_to_the_name_above_it() -> None:
    # seed 196418: "8864 S BROADWAY" under the stamp's word read as "Ske 3 BRompiaw RECEIVED"
    block = _block([("CAROL D & ASHLEY TAYLOR-SCHRODER", 300), ("Ske 3 BRompiaw RECEIVED", 330),
                    ("EL PASO TX 79901", 360)])
    assert block is not None and block.lines == ("CAROL D & ASHLEY TAYLOR-SCHRODER",)
    assert block.names is None


def test_a_line_of_no_digit_above_the_city_is_no_street_even_past_a_stamp() -> None:
    assert _block([("CAROL D & ASHLEY TAYLOR-SCHRODER", 300), ("RECEIVED BY THE", 330),
                   ("EL PASO TX 79901", 360)]) is None


def test_one_word_left_before_a_stamps_date_is_no_name_line() -> None:
    assert _block([("TORRES 14 5\u00b0 D", 300), ("11309 2ND ST", 330), ("PORTLAND ME 04101", 360)]) is None
    assert _block([("4 ROSE COURT", 300), ("11309 2ND ST", 330), ("PORTLAND ME 04101", 360)]) is None


def test_a_block_read_whole_wins_over_one_read_past_a_stamp_above_it() -> None:
    # the lenient reading is a second pass: a block higher on the page that only it would read does not take the
    # place of the page's block read whole
    block = _block([("JOHN Q PUBLIC", 200), ("Ske 3 BRompiaw", 230), ("EL PASO TX 79901", 260),
                    ("MARY SMITH", 400), ("123 MAIN ST", 430), ("BOISE ID 83702", 460)])
    assert block.names is not None and (block.names.taxpayer.first, block.names.taxpayer.last) == ("MARY", "SMITH")
    assert names_found(block).confidence >= TRUSTED_CONFIDENCE


def test_the_lines_read_past_a_stamp_find_the_case_only_with_its_own_name_on_them() -> None:
    block = _block([("CAROL D & ASHLEY TAYLOR-SCHRODER", 300), ("Ske 3 BRompiaw RECEIVED", 330),
                    ("EL PASO TX 79901", 360)])
    crm = InMemoryCaseDirectory([
        CaseCandidate(case_id=7, first_name="Carol", last_name="Taylor-Schroder", ssn_last4="0679", status="active",
                      active=True),
        CaseCandidate(case_id=8, first_name="Diane", last_name="Taylor-Schroder", ssn_last4="0976", status="active",
                      active=True),
    ])  # fmt: skip
    found = match_notice(Notice(ssn_last4="0679", name_evidence=list(block.lines)), crm)
    assert (found.outcome, found.case_id) == (MatchOutcome.MATCHED, 7)
    other = match_notice(Notice(ssn_last4="0976", name_evidence=list(block.lines)), crm)  # DIANE is not on the page
    assert other.outcome is not MatchOutcome.MATCHED


def _faded_second_page_scan(tmp_path: Path, header: str = "Social Security number XXX-XX-4321") -> Path:
    """Two unlabelled pages scanned at 150 dpi with dust: ``first_page()`` in black, then a page whose header (notice
    date, ``header``) and text are faded to grey 0.74 (seed 121393's DI NAPOLI-WASHINGTON: the band read saw nothing
    on pages 2 and 3, a median and binarising read the last 4)."""
    canvas = Canvas(str(tmp_path / "text.pdf"), pagesize=letter)
    canvas.setFont("Courier", 10)
    for row, line in enumerate(first_page()):
        canvas.drawString(60, 740 - 15 * row, line)
    canvas.showPage()
    canvas.setFont("Courier", 10)
    canvas.setFillGray(0.74)
    canvas.drawString(330, 740, "Notice date Oct. 14, 2025")
    canvas.drawString(330, 725, header)
    for row in range(6):
        canvas.drawString(60, 680 - 15 * row, FILLER)
    canvas.showPage()
    canvas.save()
    return scanned_with_dust(tmp_path / "text.pdf", tmp_path / "scan.pdf", seed=28, lid_edge=False)


def test_a_faded_page_in_doubt_is_read_closer_and_its_last_4_vouches_for_it(tmp_path: Path) -> None:
    (notice,) = extract_notices(_faded_second_page_scan(tmp_path), file_name="scan.pdf", limits=ExtractionLimits())
    assert notice.pages_in_doubt == "page 2 has no readable page label and shows nothing of this letter"
    assert [(marks.page, marks.ssn_last4s) for marks in notice.page_marks] == [(1, ["4321"]), (2, ["4321"])]
    result = match_notice(notice, directory())
    assert (result.outcome, result.case_id) == (MatchOutcome.MATCHED, 1)
    assert "each shows this taxpayer's last 4 or name" in result.reason


def test_a_page_read_closer_showing_another_last_4_keeps_the_letter_in_review(tmp_path: Path) -> None:
    scan = _faded_second_page_scan(tmp_path, header="Social Security number XXX-XX-5555")
    (notice,) = extract_notices(scan, file_name="scan.pdf", limits=ExtractionLimits())
    assert notice.pages_in_doubt is not None
    assert notice.page_marks == []  # a page surely showing another last 4: no page vouches for the letter
    assert match_notice(notice, directory()).outcome is MatchOutcome.AMBIGUOUS


def test_no_closer_read_once_the_letters_budget_is_spent(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(page_marks, "CLOSER_READS", 0)
    (notice,) = extract_notices(_faded_second_page_scan(tmp_path), file_name="scan.pdf", limits=ExtractionLimits())
    assert [(marks.page, marks.ssn_last4s) for marks in notice.page_marks] == [(1, ["4321"]), (2, [])]
    assert match_notice(notice, directory()).outcome is MatchOutcome.AMBIGUOUS


def test_a_closer_read_that_runs_out_of_time_leaves_the_letter_in_doubt_not_the_file_failed(tmp_path: Path,
                                                                                          monkeypatch) -> None:
    def spent(*args, **kwargs):
        raise ExtractionError(ExtractionFailure.TIMEOUT, "time budget of 60.0 s spent")

    monkeypatch.setattr(Pages, "band_cleaned", spent)
    (notice,) = extract_notices(_faded_second_page_scan(tmp_path), file_name="scan.pdf", limits=ExtractionLimits())
    assert [(marks.page, marks.ssn_last4s) for marks in notice.page_marks] == [(1, ["4321"]), (2, [])]


def _masked_box(tmp_path: Path, last4: str):
    """A box's "Taxpayer ID number" in Courier beside its value right-aligned in 10-point Times bold, as the papers
    corpus's second layout prints it, scanned at 200 dpi."""
    path = tmp_path / "box.pdf"
    canvas = Canvas(str(path), pagesize=letter)
    canvas.setFont("Courier", 10)
    canvas.drawString(330, 740, "Notice")
    canvas.drawString(330, 725, "Taxpayer ID number")
    canvas.setFont("Times-Bold", 10)
    canvas.drawRightString(560, 740, "CP2000")
    canvas.drawRightString(560, 725, f"***-**-{last4}")
    canvas.showPage()
    canvas.save()
    with pymupdf.open(scanned_copy(path, tmp_path / "scan.pdf")) as document:
        prepared = prepare(document[0], ExtractionLimits())
    layout, _ = ocr_image(prepared.band(0.0, 0.2), prepared.dpi, ExtractionLimits(), 30)
    return prepared, layout


@pytest.mark.parametrize("last4", ["2891", "6594"])
def test_an_asterisk_mask_read_closer_is_read_again_by_its_digits_alone(tmp_path: Path, last4: str) -> None:
    # seed 196418, Doc489: "***-**-6594" in bold read "54", "54", "594" whole; its right half read "6594" every way
    prepared, layout = _masked_box(tmp_path, last4)
    reads: list[str] = []

    def read(image, dpi, psm, allowed):
        words = read_line(image, dpi, psm, allowed, 30)
        reads.append(" ".join(words))
        return words

    closer = reread_ssn_last4(prepared.image, layout, dpi=prepared.dpi, speckled=False, read=read)
    assert closer.last4 is not None and (closer.last4.value, closer.last4.confidence) == (last4, 0.85)
    assert len(reads) == 6 and not any(read.endswith(last4) for read in reads[:3])  # the whole value's reads failed


def test_no_second_three_reads_where_the_first_three_agree(tmp_path: Path) -> None:
    prepared, layout = _box_line(tmp_path / "box.pdf", "Social security number        XXX-XX-5088")
    answers = iter(["XXX-XX-5088", "XXX-XX-5088", "5089"])  # a fourth read would raise StopIteration
    closer = reread_ssn_last4(prepared.image, layout, dpi=prepared.dpi, speckled=False,
                              read=lambda image, dpi, psm, allowed: [next(answers)])  # fmt: skip
    assert closer.last4 is not None and closer.last4.value == "5088"
