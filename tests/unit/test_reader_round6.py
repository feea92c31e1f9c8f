"""Round 6 of issue 10: a label read turned at a page's top, a closer look at an unread SSN.

Each fails without its change: an inner page fed upside down had its whole top band OCR'd to find its label, and an
SSN the band read garbled stayed unread.
"""

from __future__ import annotations

import pymupdf
import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

import mailroom.notices.pages as pages
from mailroom.notices import extract_notices
from mailroom.notices.model import ExtractionLimits
from mailroom.notices.ocr import ocr_image, prepare, read_line
from mailroom.notices.rereads import reread_ssn_last4

from tests.unit.test_extraction import scanned_copy
from tests.unit.test_letter_pages import FILLER, first_page, scanned, write


@pytest.fixture
def bands_read(monkeypatch) -> list[tuple[int, str]]:
    """(page index, band) of every band OCR'd, in order."""
    read: list[tuple[int, str]] = []
    real = pages.Pages.band

    def band(self, index, name):
        if (index, name) not in self.bands and self.scanned(index):
            read.append((index, name))
        return real(self, index, name)

    monkeypatch.setattr(pages.Pages, "band", band)
    return read


def test_an_inner_page_fed_upside_down_gives_its_label_without_its_top_band_read(tmp_path, bands_read):
    """Dev seed 5150: 9 of the 25 top bands read for a label the footer did not give (~0.7 s each) were pages fed
    upside down; their label is at their top, turned, and a strip there costs ~0.05 s."""
    path = write(tmp_path / "text.pdf", [(first_page(), "Page 1 of 2"), ([FILLER, FILLER], "Page 2 of 2")])
    notices = extract_notices(scanned(path, tmp_path / "scan.pdf", upside_down=(2,)))
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in notices] == [(1, 2, None)]
    assert (1, "top") not in bands_read


def _box_line(path, text: str):
    canvas = Canvas(str(path), pagesize=letter)
    canvas.setFont("Helvetica", 11)
    canvas.drawString(60, 740, "Notice CP2000")
    canvas.drawString(60, 720, text)
    canvas.showPage()
    canvas.save()
    with pymupdf.open(scanned_copy(path, path.with_suffix(".scan.pdf"))) as document:
        prepared = prepare(document[0], ExtractionLimits())
    strip = prepared.band(0.0, 0.2)
    layout, _ = ocr_image(strip, prepared.dpi, ExtractionLimits(), 30)
    return prepared, layout


def _reread(prepared, layout):
    return reread_ssn_last4(prepared.image, layout, dpi=prepared.dpi, speckled=False,
                            read=lambda image, dpi, psm, allowed: read_line(image, dpi, psm, allowed, 30))  # fmt: skip


def test_the_value_beside_an_ssn_label_is_read_again_and_kept_when_two_reads_agree(tmp_path):
    prepared, layout = _box_line(tmp_path / "box.pdf", "Social security number        XXX-XX-5088")
    found = _reread(prepared, layout).last4
    assert found is not None and (found.value, found.confidence) == ("5088", 0.85)


@pytest.mark.parametrize("text", [
    "Taxpayer ID number      Person to contact      Employee ID 1234",  # a box's next column, not a value
    "Spouse's social security number      XXX-XX-5088",  # the spouse's number is not the taxpayer's
    "Social security number",  # nothing printed beside it
])  # fmt: skip
def test_no_number_is_made_up_where_none_is_the_taxpayers(tmp_path, text):
    prepared, layout = _box_line(tmp_path / "box.pdf", text)
    assert _reread(prepared, layout) == (None, [])
