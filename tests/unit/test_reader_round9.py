"""Reader round 9: speed, colour scans, the last page's upper part, page-1 labels, address lines (docs/extraction.md,
"Round 9")."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pymupdf
import pytest
from PIL import Image, ImageFilter

from mailroom.matching import MatchOutcome, match_notice
from mailroom.notices import ExtractionLimits, extract_notices
from mailroom.notices.ocr import median3
from mailroom.notices.page_fields import parse_layout
from mailroom.notices.pages import Pages
from mailroom.notices.parse import Found
from mailroom.notices.ssn import find_ssn_last4
from mailroom_sandbox.papers.damage import DamageStep, _stamp
from tests.unit.scan_pages import scanned_strings
from tests.unit.test_letter_pages import FILLER, directory, first_page, inner_page, scanned, write

_DPI = 200


def _stamped_colour_scan(path: Path, colour: str) -> Path:
    """Page 1's box scanned in colour, a clerk's RECEIVED stamp (the sandbox's) pressed across its SSN line."""
    strings = [(330, 700, "Notice date: November 25, 2024"), (330, 686, "Social Security number: XXX-XX-4821"),
               (330, 672, "To contact us: 800-829-0922")]  # fmt: skip
    # centred on the SSN's digits, in points from the page's top: x 330 + ~150, y 792 - 686
    step = DamageStep("received_stamp", 1, {"text_date": "NOV 29 2024", "color": colour, "angle": 4.0,
                                            "where": "box", "x": 0.5, "y": 0.5})  # fmt: skip
    return scanned_strings(path, strings, font="Helvetica", dpi=_DPI, mode="RGB", image_format="JPEG",
                           damage=lambda image: _stamp(image, step, _DPI, {"box": (440, 102, 520, 102)}))


def _ssn_read(path: Path) -> str | None:
    with pymupdf.open(path) as document:
        found = parse_layout(Pages(document, ExtractionLimits(), time.monotonic() + 60).band(0, "top"))[0]
    return found["ssn_last4"].value if "ssn_last4" in found else None


def test_a_red_stamp_over_the_ssn_of_a_colour_scan_drops_out(tmp_path):
    """Red (or blue) ink is bright in its own channel, black print is dark in all three: read from each pixel's
    brightest channel, the stamp fades to a light grey and the digits under it read. In plain grey (luminance) the
    stamp is as dark as print and its letters cross the digits: the SSN does not read."""
    assert _ssn_read(_stamped_colour_scan(tmp_path / "red.pdf", "red")) == "4821"


def test_a_grey_stamp_cannot_drop_out_and_is_not_read_as_a_value(tmp_path):
    """The same stamp in grey ink: no channel tells it from print. What the page reads must not be a wrong number."""
    assert _ssn_read(_stamped_colour_scan(tmp_path / "grey.pdf", "grey")) in (None, "4821")


def test_the_vectorised_median_is_pils_median_filter_pixel_for_pixel():
    """``median3`` replaced ``ImageFilter.MedianFilter(3)`` for speed only: on noise, on flat paper and at the edges
    (PIL repeats the border pixels) both give the same image."""
    noise = np.random.default_rng(7).integers(0, 256, size=(97, 131), dtype=np.uint8)
    speckled_paper = np.full((40, 50), 250, dtype=np.uint8)
    speckled_paper[::7, ::5] = 0
    for pixels in (noise, speckled_paper, noise[:3, :4]):
        image = Image.fromarray(pixels)
        assert np.array_equal(np.asarray(median3(image)), np.asarray(image.filter(ImageFilter.MedianFilter(3))))


def test_the_last_page_is_read_in_its_upper_part_where_its_header_repeats_the_ssn(tmp_path, monkeypatch):
    """Page 1 lost its SSN (a stamp); the last page's header repeats it. That page is read only as far as its
    header and a response form reach (0-0.40 of it), not down to the top band's 0.56: the letter text below cost
    ~0.12 s of OCR a letter and gave no field on the development seeds."""
    stamped = [line for line in first_page() if not line.startswith("Social Security")]
    text = write(tmp_path / "text.pdf", [
        (stamped, "Page 1 of 2"), (["Social Security number XXX-XX-4321", *[FILLER] * 30], "Page 2 of 2"),
    ])  # fmt: skip
    read: list[tuple[int, str]] = []
    band = Pages.band
    monkeypatch.setattr(Pages, "band", lambda self, index, name: read.append((index, name)) or band(self, index, name))
    notice = extract_notices(scanned(text, tmp_path / "scan.pdf"))[0]
    assert notice.ssn_last4 == "4321"
    assert {name for index, name in read if index == 1} == {"footer", "head"}


@pytest.mark.parametrize(("text", "last4"), [
    # dev seed 4242: a box's column of values, the mask's last X and hyphen read as a quote after the letters
    ('Taxpayer ID number eee" 3440', "3440"),
    # dev seed 4242: the label's S read as g ("gocial"), the number's 9 too; its last four are clean
    ("gocial\u2019 security number * g11-48-5610 =?", "5610"),
])  # fmt: skip
def test_an_ssn_beside_a_label_ocr_garbled_gives_its_last_four_unsure(text, last4):
    assert find_ssn_last4(text) == Found(last4, 0.8)


def test_a_spouses_number_behind_a_garbled_label_is_not_the_taxpayers():
    assert find_ssn_last4("Spouse's gocial security number XXX-XX-1111") == Found("1111", 0.85)  # unlabelled mask
    assert find_ssn_last4("Spouse's gocial security number XXX-XX-1111  Social security number XXX-XX-2222") == Found(
        "2222", 0.98
    )


def test_after_a_letter_a_page_labelled_page_1_starts_the_next_letter_though_its_box_is_unread(tmp_path):
    """Dev seed 5150: two letters in one file, the second's box under a stamp. Its page said "1 of 2", yet it was
    joined to the first letter as a page that starts none, and the first letter went to review in doubt."""
    second_letters_page_1 = ["Department of the Treasury", FILLER, FILLER]  # the box lost: nothing starts a letter
    path = write(tmp_path / "two.pdf", [
        (first_page(), "Page 1 of 1"), (second_letters_page_1, "Page 1 of 2"),
        (inner_page("Social Security number XXX-XX-5555"), "Page 2 of 2"),
    ])  # fmt: skip
    notices = extract_notices(path)
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in notices] == [(1, 1, None), (2, 3, None)]
    assert (notices[0].ssn_last4, notices[1].ssn_last4) == ("4321", "5555")
    assert match_notice(notices[0], directory()).case_id == 1
    assert match_notice(notices[1], directory()).outcome is MatchOutcome.INSUFFICIENT_DATA  # no name on its pages


def test_a_city_line_whose_state_ocr_glued_to_the_zip_with_any_mark_still_anchors_the_address_block(tmp_path):
    """Dev seed 4242: a stamp's edge over the city line left "MO-'63101-8156"; only "." "," ":" ";" between state
    and ZIP were undone, so the block, and the only readable name on the page, was not found."""
    lines = [line.replace("OH 44101-1234", "OH-'44101-1234") for line in first_page()]
    notice = extract_notices(write(tmp_path / "glued.pdf", [(lines, "Page 1 of 1")]))[0]
    assert (notice.taxpayer_first_name, notice.taxpayer_last_name) == ("JOHN", "SMITH")


def test_a_po_box_line_whose_box_word_ocr_moved_is_still_the_street_above_the_city(tmp_path):
    """Dev seed 4242: a pen stroke through "PO BOX 21726" came back as "PO 21726 BOX": not a street line, so the
    block ended at the city line and the name above it was never read."""
    lines = [line.replace("123 MAIN ST", "PO 21726 BOX") for line in first_page()]
    notice = extract_notices(write(tmp_path / "box.pdf", [(lines, "Page 1 of 1")]))[0]
    assert (notice.taxpayer_first_name, notice.taxpayer_last_name) == ("JOHN", "SMITH")
