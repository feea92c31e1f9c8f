"""Round 5 of issue 10: which way up a page is, judged by common English words (Tesseract reads turned text as
confident words of its own), and a response form's scan line whose one-digit code OCR misread."""

import pymupdf
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas
from PIL import Image, ImageFilter

from mailroom.notices import extract_notice, extract_notices
from mailroom.notices.model import LetterType
from mailroom.notices.ssn import find_ssn_last4

from tests.unit.test_extraction import page_one, write_pdf
from tests.unit.test_letter_pages import FILLER, first_page, scanned
from tests.unit.test_extraction_round2 import _png, _with_body


def _blurred_upside_down_scan(source, target, *, radius: float, skew: float):
    with pymupdf.open(source) as original, pymupdf.open() as scanned:
        for page in original:
            pixmap = page.get_pixmap(dpi=200, colorspace=pymupdf.csGRAY)
            image = Image.frombytes("L", (pixmap.width, pixmap.height), pixmap.samples)
            image = image.filter(ImageFilter.GaussianBlur(radius)).rotate(180 + skew, fillcolor=255)
            sheet = scanned.new_page(width=page.rect.width, height=page.rect.height)
            sheet.insert_image(sheet.rect, stream=_png(image))
        scanned.save(target)
    return target


def test_a_blurred_page_fed_upside_down_is_turned_and_its_box_read(tmp_path):
    """Blur and a feeder's skew make Tesseract's turned read look confident (19 % of its words at 60+, where the old
    rule turned a page below 15 %: "ayy", "em", "sebueyo"); dev seed 5150 lost 9 of 32 true matches to pages kept
    upside down (most of them sideways pages turned the wrong way)."""
    typed = write_pdf(tmp_path / "typed.pdf", [_with_body(page_one())])
    notice = extract_notice(_blurred_upside_down_scan(typed, tmp_path / "upside.pdf", radius=1.2, skew=1.5))
    assert notice.letter_type is LetterType.CP2000 and notice.tax_year == 2023
    assert notice.ssn_last4 == "4321" and notice.taxpayer_last_name == "SMITH"


def test_a_scan_line_whose_one_digit_code_ocr_misread_still_gives_the_last_four():
    assert find_ssn_last4("XXXXX7202 MART 28 @ 202412 428 00000000000").value == "7202"
    assert find_ssn_last4("XXXXX7202 MART 28 0 202412 428 00000000000").value == "7202"
    assert find_ssn_last4("XXXXX7202 MART 28 @@ 202412 428") is None  # two characters are no one-digit code


def _response_form_letter(path):
    """A 3-page letter whose last page (the response form) prints the scan line and its label at its foot."""
    canvas = Canvas(str(path), pagesize=letter)
    for number, lines in enumerate([first_page(), [FILLER] * 3, ["Response form", *[FILLER] * 6]], start=1):
        y = 740
        for line in lines:
            canvas.drawString(60, y, line)
            y -= 15
        if number == 3:
            canvas.drawString(60, 75, "XXXXX4321 SMIT 25 0 202312 612 00000403929")
            canvas.drawString(60, 60, "CP2000 (Rev. 01-2022) AUR 87139-0114 TY2023 Page 3 of 3")
        canvas.drawString(400, 30, f"CP2000 (Rev. 01-2022) Page {number} of 3")
        canvas.showPage()
    canvas.save()
    return path


def test_an_upside_down_page_whose_foot_reads_as_lettered_garbage_is_still_turned(tmp_path):
    """Read turned, a response form's foot (scan line, label) is 8+ "words" of 3+ letters and no English; counted as
    proof the page was upright, the page was never turned and its label never found (dev seed 5150: 3 letters held
    in doubt). Only common English words settle a page's turn."""
    text = _response_form_letter(tmp_path / "text.pdf")
    notices = extract_notices(scanned(text, tmp_path / "scan.pdf", upside_down=(3,)))
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in notices] == [(1, 3, None)]


def test_a_mask_heavy_speckle_left_with_periods_or_underscores_gives_the_last_four_unsure():
    """Dev seed 5150 (speckle at 1.5 % of pixels): "oe%.0%-7121", "oo*.99_7121", "94.99.8759" next to the label."""
    cases = {"Social Security number oe%.0%-7121 ,": "7121", "Recipient's SSN oo*.99_7121": "7121",
             "SSN 94.99.8759 :": "8759"}  # fmt: skip
    for line, last4 in cases.items():
        found = find_ssn_last4(line)
        assert found is not None and (found.value, found.confidence) == (last4, 0.8), line
    assert find_ssn_last4("SSN 12.31.2022") is None  # a date next to the label is no mask
    assert find_ssn_last4("Social Security number 666-12-3456") is None  # a readable invalid number stays rejected
    assert find_ssn_last4("Notice date 10.14.2025 page 2") is None  # and no label, no guess
