"""Round 22 (issue 10): a first page whose address block the reader could not find, yet whose name stands on it.

Spent seed 65537 (tuned): "SUSAN S" and "HARRIS" read at 92-96 as two chunks of one line, the street and city lines
lost to a stamp, so no block, no surname, INSUFFICIENT_DATA. The page's name-like lines are now the notice's name
evidence (never its name): the matcher searches their tails with the page's last 4 and takes a case only when the
case's own first name and whole surname stand on one of them.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

from mailroom.matching import MatchOutcome, match_notice
from mailroom.notices import ExtractionLimits, extract_notice
from mailroom.notices.layout import Word, build_layout
from mailroom.notices.loose_names import loose_name_lines
from tests.unit.test_extraction import scanned_copy
from tests.unit.test_matching import ListDirectory, case


def _page(*rows: list[tuple[str, float, float]], conf: float = 95.0) -> object:
    """One OCR line per row of (text, left, right) words, 30 pixels apart."""
    return build_layout([[Word(text, conf, left, 100.0 + 30 * index, right, 120.0 + 30 * index)
                          for text, left, right in row] for index, row in enumerate(rows)], 1700, 2200)


def test_a_name_split_into_chunks_beside_the_box_is_one_loose_line() -> None:
    layout = _page([("SUSAN", 217, 300), ("S", 310, 322), ("HARRIS", 393, 480), ("Social", 976, 1040),
                    ("Security", 1050, 1140), ("number", 1150, 1230), ("XXX-XX-1047", 1400, 1560)])
    assert loose_name_lines(layout) == ["SUSAN S HARRIS"]


def test_stamps_letterheads_city_lines_and_numbers_are_no_name_lines() -> None:
    layout = _page([("RECEIVED", 200, 400)], [("TAX", 200, 260), ("RESOLUTION", 270, 480), ("DEPT", 490, 560)],
                   [("INTERNAL", 200, 330), ("REVENUE", 340, 460), ("SERVICE", 470, 590)],
                   [("PORTLAND", 200, 360), ("OR", 370, 400)], [("Kansas", 200, 300), ("City,", 310, 380)],
                   [("CHANGES", 200, 330), ("TO", 340, 370), ("YOUR", 380, 450), ("2022", 460, 530)],
                   [("1047", 200, 280), ("OAK", 290, 360), ("STREET", 370, 480)],  # a street line
                   [("RESOLUTION", 200, 400), ("DEPT", 410, 480)])  # the rest of a clerk's stamp
    assert loose_name_lines(layout) == []


def test_a_line_read_unsurely_throughout_is_no_evidence() -> None:
    assert loose_name_lines(_page([("SUSAN", 217, 300), ("HARRIS", 393, 480)], conf=60.0)) == []


def _letter_without_its_address_lines(tmp_path: Path) -> Path:
    """A scanned CP2000 whose address block kept only its name line (the street and city lines lost)."""
    source = tmp_path / "letter.pdf"
    canvas = Canvas(str(source), pagesize=letter)
    canvas.setFont("Helvetica", 11)
    lines = ["Department of the Treasury", "Internal Revenue Service", "Ogden, UT 84201-0045", "Notice CP2000",
             "Tax year 2022", "Notice date Oct. 14, 2024", "Social Security number XXX-XX-1047",
             "AUR control number 87139-0114", "", "SUSAN S HARRIS", "", "", "Changes to your 2022 Form 1040",
             "Proposed amount due: $607.20", "Respond by: November 13, 2024"]  # fmt: skip
    for number, line in enumerate(lines):
        canvas.drawString(60, 740 - 15 * number, line)
    canvas.drawString(60, 40, "CP2000 (Rev. 04-2019) Page 1 of 1")
    canvas.showPage()
    canvas.save()
    return scanned_copy(source, tmp_path / "scanned.pdf")


def test_a_scan_with_no_address_block_is_matched_by_the_name_on_its_page(tmp_path: Path) -> None:
    notice = extract_notice(_letter_without_its_address_lines(tmp_path),
                            limits=ExtractionLimits(time_budget_seconds=120))  # fmt: skip
    assert notice.taxpayer_last_name is None and notice.ssn_last4 == "1047"  # never read as the notice's name
    assert "SUSAN S HARRIS" in notice.name_evidence
    directory = ListDirectory([case(7, "SUSAN", "HARRIS", "1047"), case(8, "MARY", "HARRIS", "2047")])
    result = match_notice(notice, directory)
    assert (result.outcome, result.case_id) == (MatchOutcome.MATCHED, 7)
    assert "HARRIS" not in result.reason and "no address block" in result.reason and len(directory.queries) <= 3


def test_a_case_under_the_pages_surname_with_another_first_name_is_not_taken(tmp_path: Path) -> None:
    notice = extract_notice(_letter_without_its_address_lines(tmp_path),
                            limits=ExtractionLimits(time_budget_seconds=120))  # fmt: skip
    directory = ListDirectory([case(8, "MARY", "HARRIS", "1047")])
    result = match_notice(notice, directory)
    assert result.outcome is MatchOutcome.INSUFFICIENT_DATA and len(directory.queries) <= 3
