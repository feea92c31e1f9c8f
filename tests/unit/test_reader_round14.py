"""Round 14 of issue 10: a letter missing a field its type prints (the notice date, the control number) gets the
second looks a letter missing its SSN got, and one more look keeps only the darkest ink, so a clerk's lighter
"RECEIVED" stamp across the box no longer takes the date or the control number with it; a control number whose
label's middle word OCR garbled ("AUR sonttST number") is read, unsure.

Each fails without its change: second looks ran only for a missing SSN or surname, no look took a stamp out, and
only a label read whole led to a control number.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pymupdf
import pytest
from PIL import Image, ImageDraw, ImageFont

from mailroom.notices import extract_notices
from mailroom.notices.aur import find_aur_control_number
from mailroom.notices.pages import Pages
from mailroom.notices.parse import Found
from mailroom.notices.second_looks import CLEANUPS
from tests.unit.test_extraction import scanned_copy
from tests.unit.test_letter_pages import FILLER, first_page, write

DPI = 200
_DATE_LINE, _CONTROL_LINE = 5, 7  # first_page()'s lines, 15 pt apart from 740 pt down


def _stamped(tmp_path: Path, line: int, grey: int) -> Path:
    """first_page() scanned, with a grey "RECEIVED" across one of its lines, darker where it crosses the print."""
    with pymupdf.open(write(tmp_path / "text.pdf", [(first_page(), "Page 1 of 1")])) as document:
        pixmap = document[0].get_pixmap(dpi=DPI, colorspace=pymupdf.csGRAY)
    page = Image.frombytes("L", (pixmap.width, pixmap.height), pixmap.samples)
    stamp = Image.new("L", page.size, 255)
    baseline = (792 - (740 - 15 * line)) * DPI / 72
    ImageDraw.Draw(stamp).text((60 * DPI / 72, baseline - 50), "RECEIVED", fill=grey,
                               font=ImageFont.load_default(size=64))  # fmt: skip
    Image.fromarray(np.minimum(np.asarray(page), np.asarray(stamp))).save(tmp_path / "page.png")
    with pymupdf.open() as scan:
        scan.new_page(width=612, height=792).insert_image(pymupdf.Rect(0, 0, 612, 792),
                                                          filename=str(tmp_path / "page.png"))  # fmt: skip
        scan.save(tmp_path / "scan.pdf")
    return tmp_path / "scan.pdf"


def _dark_ink_only(image: Image.Image) -> Image.Image:
    return CLEANUPS[3](image, DPI)[0]  # the fourth look: the darkest ink only


def test_the_last_look_keeps_the_dark_print_and_takes_out_lighter_ink_even_where_it_crosses_the_print() -> None:
    band = Image.new("L", (300, 100), 250)
    band.paste(10, (20, 20, 120, 80))  # print
    band.paste(130, (100, 30, 280, 70))  # a grey stamp over part of it ...
    band.paste(70, (100, 30, 120, 70))  # ... darker where it crosses the print
    cleaned = np.asarray(_dark_ink_only(band))
    assert cleaned[50, 60] == 0 and cleaned[50, 110] == 0  # the print, with the part under the stamp
    assert cleaned[50, 200] == 255 and cleaned[5, 5] == 255  # the stamp and the paper


@pytest.mark.parametrize("inks", [(0,), (0, 128)], ids=["one ink", "a sliver of lighter ink"])
def test_a_band_without_a_second_ink_is_not_looked_at_again(inks: tuple[int, ...]) -> None:
    band = Image.new("L", (300, 100), 255)
    band.paste(inks[0], (20, 20, 200, 80))
    if len(inks) > 1:
        band.paste(inks[1], (200, 20, 203, 80))  # anti-aliased edges of print: far less than a tenth of the ink
    assert _dark_ink_only(band) is band


@pytest.mark.parametrize(("line", "field", "value"), [
    (_DATE_LINE, "notice_date", "2025-10-14"), (_CONTROL_LINE, "aur_control_number", "87139-0114"),
])  # fmt: skip
@pytest.mark.parametrize("grey", [110, 140])
def test_a_grey_stamp_across_the_box_no_longer_takes_the_field_it_crosses(tmp_path, line, field, value, grey) -> None:
    notice = extract_notices(_stamped(tmp_path, line, grey))[0]
    assert str(getattr(notice, field)) == value
    assert (notice.ssn_last4, notice.taxpayer_last_name) == ("4321", "SMITH")


def _looks(tmp_path: Path, monkeypatch, *pages: list[str]) -> list[tuple[int, int]]:
    """(page index, look) of every second look at a scan of ``pages``, labelled "Page n of N"."""
    looked: list[tuple[int, int]] = []
    real = Pages.band_cleaned
    labelled = [(lines, f"Page {n} of {len(pages)}") for n, lines in enumerate(pages, 1)]
    with monkeypatch.context() as patch:  # undone before the next call
        patch.setattr(Pages, "band_cleaned", lambda self, index, name, clean: looked.append(
            (index, CLEANUPS.index(clean))) or real(self, index, name, clean))  # fmt: skip
        extract_notices(scanned_copy(write(tmp_path / "text.pdf", labelled), tmp_path / "scan.pdf"))
    return looked


def test_a_letter_missing_only_its_control_number_is_looked_at_again_on_its_first_page(tmp_path, monkeypatch) -> None:
    lines = [line for line in first_page() if not line.startswith("AUR control number")]
    everything = [(0, look) for look in range(len(CLEANUPS))]
    assert _looks(tmp_path, monkeypatch, lines) == everything
    later = ["Social Security number 912-78-4321", FILLER, FILLER]  # a later page's header repeats the SSN
    assert _looks(tmp_path, monkeypatch, lines, later) == everything


def test_a_letter_with_every_field_its_type_prints_is_not_looked_at_again(tmp_path: Path, monkeypatch) -> None:
    assert _looks(tmp_path, monkeypatch, first_page()) == []
    lines = [line for line in first_page("912-78-4321", letter_type="CP504") if "AUR" not in line]
    assert _looks(tmp_path, monkeypatch, lines) == []  # a CP504 prints no control number


@pytest.mark.parametrize(("line", "value"), [
    ("AUR sonttST number: 8549761770   os", "8549761770"),  # the label's middle word garbled
    ("AUR sssertfol no. 1V9504695", "1V9504695"),
])  # fmt: skip
def test_a_control_number_whose_labels_middle_word_ocr_garbled_is_read_unsure(line: str, value: str) -> None:
    found = find_aur_control_number(line)
    assert found is not None and (found.value, found.confidence) == (value, 0.85)


def test_a_control_number_under_its_whole_label_keeps_its_confidence_and_a_garbled_label_needs_a_value_shape() -> None:
    assert find_aur_control_number("AUR control number 87139-0114") == Found("87139-0114", 0.98)
    assert find_aur_control_number("AUR sonttST number 12 of 14") is None
