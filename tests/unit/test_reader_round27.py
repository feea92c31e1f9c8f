"""Round 27 (issue 10): a masked SSN whose first group lost a character, read without its label; a stamp's lighter
ink cut away at the scan's own resolution."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pymupdf
from PIL import Image, ImageFilter
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

from mailroom.notices import ExtractionLimits, extract_notices
from mailroom.notices.page_fields import parse_layout
from mailroom.notices.pages import Pages
from mailroom.notices.layout import PageLayout
from mailroom.notices.scan_resolution import dark_ink_at_scan_resolution, scan_dpi
from mailroom.notices.ssn import find_ssn_last4
from tests.unit.test_letter_pages import draw_courier_first_page


def test_a_mask_short_of_one_character_gives_the_last_4_unsure() -> None:
    # a table box's label row lost to speckle, its value row read: "xx-xx-8027" for "xxx-xx-8027" (dev seed 5150)
    found = find_ssn_last4("a   920   September 8, 2023   xx-xx-8027   6861580474   Phone 1-800-829-8310")
    assert found is not None and found.value == "8027"
    assert found.confidence < 0.85  # below a whole mask's: the name beside it must confirm the case


def test_numbers_shaped_otherwise_are_no_short_mask() -> None:
    for text in ("Phone 1-800-829-8310", "AUR control number 87139-0114", "x-xx-8027", "xx-x-8027",
                 "xx-xx-80271"):  # fmt: skip
        assert find_ssn_last4(text) is None, text


def _stamped_scan(tmp_path: Path, dpi: int, *, upside_down: bool = False) -> Path:
    """Page 1 of a letter in thin Courier with a clerk's grey "RECEIVED" stamp over its name line, scanned at ``dpi``
    (greyscale, the print blurred a little as a scanner's optics do)."""
    canvas = Canvas(str(tmp_path / "text.pdf"), pagesize=letter)
    canvas.setFillGray(0.42)  # the stamp first: the print stays black where the stamp's ink lies on it
    canvas.setFont("Helvetica", 26)
    canvas.saveState()
    canvas.translate(48, 588)
    canvas.rotate(8)
    canvas.drawString(0, 0, "RECEIVED")
    canvas.setFont("Helvetica", 15)
    canvas.drawString(20, -18, "OCT 21 2025")
    canvas.restoreState()
    draw_courier_first_page(canvas)
    canvas.showPage()
    canvas.save()
    with pymupdf.open(tmp_path / "text.pdf") as text, pymupdf.open() as scan:
        pixmap = text[0].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
        image = Image.frombytes("L", (pixmap.width, pixmap.height), pixmap.samples)
        image = image.filter(ImageFilter.GaussianBlur(0.9))  # at 0.6 the 200-dpi darkest-ink look read the name too
        image = image.rotate(180) if upside_down else image
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        page = scan.new_page(width=text[0].rect.width, height=text[0].rect.height)
        page.insert_image(page.rect, stream=buffer.getvalue())
        scan.save(tmp_path / f"scan{dpi}.pdf")
    return tmp_path / f"scan{dpi}.pdf"


def _names(layout: PageLayout | None) -> tuple[str | None, str | None]:
    assert layout is not None
    found = parse_layout(layout)[0]
    first, last = (found.get(name) for name in ("taxpayer_first_name", "taxpayer_last_name"))
    return (first.value if first else None, last.value if last else None)


def test_a_stamp_over_the_name_is_cut_away_at_the_scans_resolution(tmp_path: Path) -> None:
    """Dev seed 5150 (img20230915) and spent seed 196418 (Doc488): on a 300-dpi scan the print under a grey stamp is
    black, at the reader's 200 dpi as grey as the stamp; the name a person reads was lost to every read before."""
    scan = _stamped_scan(tmp_path, 300)
    with pymupdf.open(scan) as document:
        pages = Pages(document, ExtractionLimits(), time.monotonic() + 60)
        assert _names(pages.band(0, "top"))[1] is None  # the first read lost the surname to the stamp
        assert _names(dark_ink_at_scan_resolution(pages, 0)) == ("JOHN", "SMITH")
    notice = extract_notices(scan, file_name="scan.pdf", limits=ExtractionLimits())[0]
    assert (notice.taxpayer_first_name, notice.taxpayer_last_name) == ("JOHN", "SMITH")


def test_an_upside_down_scan_is_cut_the_way_it_was_read(tmp_path: Path) -> None:
    scan = _stamped_scan(tmp_path, 300, upside_down=True)
    with pymupdf.open(scan) as document:
        pages = Pages(document, ExtractionLimits(), time.monotonic() + 60)
        assert pages.label(0) == (1, 1)  # read turned at the page's top: the page is upside down
        pages.band(0, "top")
        assert pages.images[0].upside_down
        assert _names(dark_ink_at_scan_resolution(pages, 0)) == ("JOHN", "SMITH")


def test_a_scan_no_finer_than_the_read_gets_no_such_look(tmp_path: Path) -> None:
    scan = _stamped_scan(tmp_path, 150)
    with pymupdf.open(scan) as document:
        assert scan_dpi(document[0]) == 150
        pages = Pages(document, ExtractionLimits(), time.monotonic() + 60)
        pages.band(0, "top")
        assert dark_ink_at_scan_resolution(pages, 0) is None
    with pymupdf.open(_stamped_scan(tmp_path, 300)) as document:
        assert scan_dpi(document[0]) == 300
