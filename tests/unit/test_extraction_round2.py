"""Round 2 of issue 10, page handling: an upside-down page's box is read, a page is turned at most once, and only
pages with real salt-and-pepper speckle get the (costly) median filter."""

import random
from pathlib import Path

import pymupdf
import pytest
from PIL import Image

import mailroom.notices.pages as pages
from mailroom.notices import ExtractionLimits, extract_notice, tesseract
from mailroom.notices.model import LetterType
from mailroom.notices.ocr import _speckled, render_page

from tests.unit.test_extraction import page_one, scanned_copy, write_pdf

_PROSE = [f"Line {n} of the explanation of the changes we propose to your return for the year" for n in range(18)]


def _with_body(lines: list[str]) -> list[str]:
    """page_one's box and address block, and prose down to the bottom of the page."""
    return lines + [""] * 10 + _PROSE


def _upside_down_scan(source: Path, target: Path) -> Path:
    with pymupdf.open(source) as original, pymupdf.open() as scanned:
        for page in original:
            pixmap = page.get_pixmap(dpi=200, colorspace=pymupdf.csGRAY)
            image = Image.frombytes("L", (pixmap.width, pixmap.height), pixmap.samples).rotate(180)
            new_page = scanned.new_page(width=page.rect.width, height=page.rect.height)
            new_page.insert_image(new_page.rect, stream=_png(image))
        scanned.save(target)
    return target


def _png(image: Image.Image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_upside_down_page_is_read_from_its_top(tmp_path):
    """The first band read of an upside-down page is the page's lower half; after turning, the top band must be read
    again from the turned page (it was kept as the top band, so the box was never read)."""
    typed = write_pdf(tmp_path / "typed.pdf", [_with_body(page_one())])
    notice = extract_notice(_upside_down_scan(typed, tmp_path / "upside.pdf"))
    assert notice.letter_type is LetterType.CP2000 and notice.tax_year == 2023 and notice.ssn_last4 == "4321"
    assert notice.taxpayer_last_name == "SMITH"


def test_an_upright_page_is_not_read_again_turned_for_a_sparse_band(tmp_path, monkeypatch):
    """Page 1 lacks its amount, so the middle band (blank here) is read too: once, not once more turned 180. (The
    second looks a letter missing its amount gets read the top band again on purpose: left out here.)"""
    monkeypatch.setattr("mailroom.notices.second_looks.CLEANUPS", ())
    lines = [line for line in page_one() if not line.startswith("Proposed amount due")]
    scan = scanned_copy(write_pdf(tmp_path / "typed.pdf", [lines]), tmp_path / "scan.pdf")
    reads: list[str] = []
    tesseract.add_ocr_hook(lambda point: reads.append(point) if point == "pixels" else None)
    try:
        notice = extract_notice(scan)
    finally:
        tesseract.clear_ocr_hooks()
    assert notice.amount_due is None and notice.ssn_last4 == "4321"
    assert len(reads) == 3  # top, middle, footer: one read each


def test_only_pages_with_isolated_dark_pixels_count_as_speckled(tmp_path):
    typed = write_pdf(tmp_path / "typed.pdf", [_with_body(page_one())])
    with pymupdf.open(scanned_copy(typed, tmp_path / "scan.pdf")) as document:
        clean, _ = render_page(document[0], ExtractionLimits())
    assert not _speckled(clean)  # text strokes are never one pixel alone
    speckled = clean.copy()
    pixels = speckled.load()
    rng = random.Random(7)
    for _ in range(int(speckled.width * speckled.height * 5e-4)):
        pixels[rng.randrange(1, speckled.width - 1), rng.randrange(1, speckled.height - 1)] = 0
    assert _speckled(speckled)


@pytest.fixture(autouse=True)
def _no_leftover_hooks():
    yield
    tesseract.clear_ocr_hooks()


def test_the_middle_band_is_read_only_for_a_missing_amount(tmp_path, monkeypatch):
    """Page 1 gives everything but a readable SSN: the letter is incomplete, but the middle band (the letter's
    body) cannot give an SSN, so only the top and footer bands are OCR'd; without the amount, the middle is read.
    (Without its SSN the top band is also read once more without its ruled lines: tests/unit/test_reader_round12.py.)"""
    read: list[list[str]] = []
    real = pages.Pages.band

    def band(self, index, name):
        if (index, name) not in self.bands:
            read[-1].append(name)
        return real(self, index, name)

    monkeypatch.setattr(pages.Pages, "band", band)
    for drop in ("Social Security number", "Proposed amount due"):
        lines = [line for line in page_one() if not line.startswith(drop)]
        scan = scanned_copy(write_pdf(tmp_path / f"{len(read)}.pdf", [lines]), tmp_path / f"s{len(read)}.pdf")
        read.append([])
        extract_notice(scan)
    assert [sorted(bands) for bands in read] == [["footer", "top"], ["footer", "middle", "top"]]
