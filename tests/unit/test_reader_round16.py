"""Round 16 of issue 10: a notice box drawn as a table, read cell by cell (``notices/table_cells.py``).

The grid's rules give the cells; a cell's label is read on its own and named by its nearest known label; its value
is read in two preparations and kept only when both agree; the SSN's cell gives readings to search with, never the
field. Real Tesseract reads rendered tables; the agreement rule is checked with a scripted reader.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pymupdf
import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

from mailroom.notices.model import ExtractionLimits
from mailroom.notices.ocr import prepare, read_line
from mailroom.notices.ruled_lines import find_rules
from mailroom.notices.table_cells import TABLE_CONFIDENCE, read_table, table_cells
from tests.unit.test_extraction import scanned_copy

_COLUMN = 130  # points per cell


def _band(path: Path, cells: list[tuple[str, str]], *, grid: bool = True, double_rule: bool = False):
    """The top band of a scanned page holding one table row of (label, value) cells, as the reader cuts it."""
    canvas = Canvas(str(path), pagesize=letter)
    canvas.setFont("Helvetica", 12)
    canvas.drawString(60, 750, "Department of the Treasury")
    left, top, bottom = 60, 720, 690
    if grid:
        canvas.rect(left, bottom, _COLUMN * len(cells), top - bottom)
        for number in range(1, len(cells)):
            canvas.line(left + _COLUMN * number, bottom, left + _COLUMN * number, top)
        if double_rule:  # a second rule 2.6 points beside the first side rule: two sides, no cell between them
            canvas.line(left + _COLUMN + 2.6, bottom, left + _COLUMN + 2.6, top)
    else:
        canvas.line(left, bottom, left + _COLUMN * len(cells), bottom)  # a rule under a row of text: no table
    for number, (label, value) in enumerate(cells):
        canvas.setFont("Helvetica", 7)
        canvas.drawString(left + 4 + _COLUMN * number, top - 11, label)
        canvas.setFont("Courier-Bold", 8)
        canvas.drawString(left + 4 + _COLUMN * number, bottom + 6, value)
    canvas.drawString(60, 600, "JOHN SMITH")
    canvas.showPage()
    canvas.save()
    with pymupdf.open(scanned_copy(path, path.with_suffix(".scan.pdf"))) as document:
        prepared = prepare(document[0], ExtractionLimits())
    return prepared.band(0.0, 0.3), prepared.dpi


def _read(image, dpi, psm, allowed):
    return read_line(image, dpi, psm, allowed, 30)


_BOX = [("Notice", "CP2000"), ("Date of this notice", "May 21, 2025"), ("Taxpayer ID number", "XXX-XX-2891"),
        ("AUR Control No.", "6M5749208")]  # fmt: skip


def test_the_cells_of_a_table_are_found_by_its_rules(tmp_path: Path) -> None:
    band, dpi = _band(tmp_path / "table.pdf", _BOX)
    cells = table_cells(band, dpi)
    assert len(cells) == 4
    assert [right - left for left, _, right, _ in cells] == pytest.approx([_COLUMN * dpi / 72] * 4, abs=4)
    assert all(20 < bottom - top < 0.8 * dpi for _, top, _, bottom in cells)


def test_side_rules_closer_than_a_cell_bound_no_cell(tmp_path: Path) -> None:
    band, dpi = _band(tmp_path / "double.pdf", _BOX, double_rule=True)  # held-out seed 27182 crashed on such a row
    cells = table_cells(band, dpi)
    assert len(cells) == 4 and all(right - left > 0.3 * dpi for left, _, right, _ in cells)
    assert read_table(band, dpi=dpi, read=_read).last4_readings == ["2891"]


def test_a_row_of_text_over_a_rule_is_no_table(tmp_path: Path) -> None:
    band, dpi = _band(tmp_path / "rule.pdf", _BOX, grid=False)
    assert find_rules(band, dpi)[0].any()  # the rule is there ...
    assert table_cells(band, dpi) == []  # ... but no side rules cross it
    assert read_table(band, dpi=dpi, read=_read).agreed() == {}


def test_each_cell_is_read_on_its_own_and_the_ssns_cell_gives_readings_only(tmp_path: Path) -> None:
    band, dpi = _band(tmp_path / "table.pdf", _BOX)
    table = read_table(band, dpi=dpi, read=_read)
    agreed = table.agreed()
    assert {name: found.value for name, found in agreed.items()} == {
        "letter_type": "CP2000", "notice_date": date(2025, 5, 21),
        "aur_control_number": "6M5749208"}  # fmt: skip
    assert {found.confidence for found in agreed.values()} == {TABLE_CONFIDENCE}
    assert table.last4_readings == ["2891"]  # searched with, never the notice's last 4


def test_an_employee_id_is_no_taxpayer_id(tmp_path: Path) -> None:
    band, dpi = _band(tmp_path / "employee.pdf", [("Notice", "LT11"), ("Employee ID number", "6389545123"),
                                                  ("Contact telephone number", "1-800-829-0922")])  # fmt: skip
    table = read_table(band, dpi=dpi, read=_read)
    assert table.last4_readings == [] and "ssn_last4" not in table.agreed()
    assert "aur_control_number" not in table.agreed()  # ten digits, but in a column no field is read from


class _Scripted:
    """A reader that answers each cell's label, then its value once per preparation, from a script."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = answers

    def __call__(self, image, dpi, psm, allowed) -> list[str]:
        return self.answers.pop(0).split() if self.answers else []


@pytest.mark.parametrize(("values", "kept"), [
    (["May 21, 2025", "May 21, 2025"], True),
    (["May 21, 2025", "May 21, 2023"], False),  # the preparations disagree: neither is taken
])  # fmt: skip
def test_a_value_is_taken_only_when_both_preparations_give_it(tmp_path: Path, values, kept) -> None:
    band, dpi = _band(tmp_path / "one.pdf", [("Date of this notice", "May 21, 2025"), ("Notice", ""), ("", "")])
    table = read_table(band, dpi=dpi, read=_Scripted(["Date of this notice", *values]))
    assert ("notice_date" in table.agreed()) is kept


@pytest.mark.parametrize(("texts", "readings"), [
    (["XXX-XX-8360", "--6360"], ["8360", "6360"]),
    (["XXX-XX-8360", "XXX-XX-8360"], ["8360"]),  # read alike twice, still only a reading
    (["1-800-829-0922", "1-800-829-0922"], []),  # a phone number is no mask, whatever its label read as
])  # fmt: skip
def test_the_ssns_cell_gives_its_readings_most_often_read_first(tmp_path: Path, texts, readings) -> None:
    band, dpi = _band(tmp_path / "tin.pdf", [("Taxpayer ID number", "XXX-XX-8360"), ("Notice", ""), ("", "")])
    table = read_table(band, dpi=dpi, read=_Scripted(["Taxpayer ID number", *texts]))
    assert table.last4_readings == readings and "ssn_last4" not in table.agreed()


# --- a letter labelled "1 of N" that runs N pages (extract._labelled_to_the_end) -----------------------------------


def _letter_pages(tmp_path: Path, first_label: str, unlabelled: int, *, then_another: bool = False):
    from mailroom.notices import extract_notices
    from tests.unit.test_letter_pages import first_page, inner_page, write

    pages = [(first_page(), first_label), (inner_page(), "Page 2"), *[(inner_page(), None)] * unlabelled]
    if then_another:
        pages.append((first_page(ssn="913-55-5555", name="ANA RUIZ"), "Page 1 of 1"))
    return extract_notices(write(tmp_path / "pages.pdf", pages))


@pytest.mark.parametrize("then_another", [False, True])
def test_unlabelled_last_pages_of_a_letter_labelled_1_of_n_that_runs_n_pages_are_its_own(tmp_path,
                                                                                         then_another) -> None:
    notices = _letter_pages(tmp_path, "Page 1 of 4", unlabelled=2, then_another=then_another)
    got = [(n.first_page, n.last_page, n.pages_in_doubt) for n in notices]
    assert got == [(1, 4, None)] + ([(5, 5, None)] if then_another else [])


def test_a_page_labelled_out_of_place_keeps_the_doubt(tmp_path: Path) -> None:
    from mailroom.notices import extract_notices
    from tests.unit.test_letter_pages import first_page, inner_page, write

    pages = [(first_page(), "Page 1 of 4"), (inner_page(), None), (inner_page(), None), (inner_page(), "Page 2 of 4")]
    assert extract_notices(write(tmp_path / "place.pdf", pages))[0].pages_in_doubt is not None


@pytest.mark.parametrize(("first_label", "unlabelled"), [
    ("Page 1", 2),  # no total: nothing says where the letter ends
    ("Page 1 of 3", 2),  # the file runs a page past the letter's own count
    ("Page 1 of 5", 2),  # the letter's count runs past the file: a page of it is missing, so the others are unsure
])  # fmt: skip
def test_unlabelled_pages_stay_in_doubt_when_the_first_label_does_not_count_them(tmp_path, first_label,
                                                                                 unlabelled) -> None:
    notices = _letter_pages(tmp_path, first_label, unlabelled)
    assert notices[0].pages_in_doubt is not None


# --- a generational suffix OCR read as IL, IT, IR, ILL, IIT (names._garbled_suffix) ----------------------------------


@pytest.mark.parametrize(("line", "last"), [
    ("SANDRA M O'CONNOR IL", "O'CONNOR"), ("HUONG C CHEN ILL", "CHEN"), ("RICHARD MCALLISTER IR", "MCALLISTER"),
    ("GUADALUPE J D'AMICO IIT", "D'AMICO"), ("BJORN J BUENAVENTURA IT", "BUENAVENTURA"),
    ("RICHARD W IM", "IM"),  # a surname of two letters that is no roman numeral
    ("JOHN A IT", "IT"),  # after an initial: no surname before it to be the suffix of
    ("JOHN IL", "IL"),  # a first name and one more word: that word is the surname
])  # fmt: skip
def test_a_suffix_ocr_garbled_after_a_surname_is_dropped(line: str, last: str) -> None:
    from mailroom.notices.names import parse_name_line

    names = parse_name_line(line)
    assert names is not None and names.taxpayer.last == last


# --- a clerk's surname in the file name explains an unsure page read (filename_hints._explains) ---------------------


def _applied(file_name: str, last: str, confidence: float, first: str | None = "KIMBERLY"):
    from mailroom.notices.filename_hints import apply_file_name_hints
    from mailroom.notices.model import FieldProvenance, FieldSource

    values = {"taxpayer_last_name": last, **({"taxpayer_first_name": first} if first else {})}
    fields = {name: FieldProvenance(confidence=confidence, source=FieldSource.OCR) for name in values}
    apply_file_name_hints(values, fields, file_name)
    return values["taxpayer_last_name"], fields["taxpayer_last_name"]


@pytest.mark.parametrize(("file_name", "page", "first", "hinted"), [
    ("O'BRIEN_KIMBERLY_CP504.pdf", "BRIS", "KIMBERLY", "O'BRIEN"),  # letters OCR garbled
    ("Layla Dos Santos notice.pdf", "SANTOS", "LAYLA", "DOS SANTOS"),  # a particle OCR lost
    ("SHAH CP2000 2023.pdf", "SHAY", "AL", "SHAH"),  # no first name in the file name: the surname alone
])  # fmt: skip
def test_an_unsure_page_surname_the_clerks_spelling_explains_is_replaced_unsure(file_name, page, first,
                                                                                hinted) -> None:
    from mailroom.notices.filename_hints import FILE_NAME_CONFIDENCE
    from mailroom.notices.model import FieldSource

    last, provenance = _applied(file_name, page, 0.657, first)
    assert last == hinted
    assert (provenance.confidence, provenance.source) == (FILE_NAME_CONFIDENCE, FieldSource.FILE_NAME)


@pytest.mark.parametrize(("file_name", "page", "confidence", "first"), [
    ("O'BRIEN_KIMBERLY_CP504.pdf", "BRIS", 0.837, "KIMBERLY"),  # a clean page read is never replaced
    ("O'BRIEN_KIMBERLY_CP504.pdf", "BRIS", 0.657, "MARY"),  # the clerk named another first name
    ("O'BRIEN_KIMBERLY_CP504.pdf", "BRIS", 0.657, None),  # the page gave no first name to agree with
    ("IM CP2000 2023.pdf", "WE", 0.657, "RICHARD"),  # nothing of the page's read in the clerk's
])  # fmt: skip
def test_a_page_surname_stays_when_the_hint_does_not_explain_it(file_name, page, confidence, first) -> None:
    assert _applied(file_name, page, confidence, first)[0] == page


def test_a_letter_missing_fields_gets_its_tables_agreed_values_and_ssn_readings(tmp_path: Path) -> None:
    """The closer look's wiring (closer_looks._read_table): only fields still missing are filled, the SSN's cell
    gives guesses, never the last 4."""
    import time

    from mailroom.notices.closer_looks import _read_table
    from mailroom.notices.letter import Letter
    from mailroom.notices.model import FieldSource
    from mailroom.notices.pages import Pages
    from mailroom.notices.parse import Found

    _band(tmp_path / "table.pdf", _BOX)  # writes table.scan.pdf beside it
    with pymupdf.open(tmp_path / "table.scan.pdf") as document:
        pages = Pages(document, ExtractionLimits(), time.monotonic() + 60)
        pages.band(0, "top")
        letter = Letter(0)
        letter.add({"letter_type": Found("CP2501", 0.5)}, None, FieldSource.OCR)  # read before, unsure: kept
        _read_table(pages, letter)
    assert letter.found["letter_type"].value == "CP2501"
    assert letter.found["aur_control_number"].value == "6M5749208"
    assert letter.found["notice_date"].confidence == TABLE_CONFIDENCE
    assert "ssn_last4" not in letter.found and letter.found["ssn_last4_guesses"].value == ("2891",)
