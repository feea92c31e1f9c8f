"""Round 31 (issue 10): a name line with a stamp's debris in it is still the page's name evidence, up to the debris;
a colour scan's dropout computed faster, with the same pixels.

Found looking at spent seeds' letters with a last 4 and no surname (tuned): OCR read "WEI H TORRES & ADAEZE W
HARKISY 14 5° D" (196418) where a "RECEIVED" stamp crossed the address block, and the block was not found; round
22's loose name lines dropped the whole line for one digit word read surely, so nothing was searched and the letter
was INSUFFICIENT_DATA. Such a word now ends the name; the evidence rules are round 22's: searched with the page's
last 4, a case taken only when its own first name and whole surname stand on one line.
"""

from __future__ import annotations

import io

import pymupdf
from PIL import Image

from mailroom.matching import MatchOutcome, match_notice
from mailroom.notices import ExtractionLimits
from mailroom.notices.loose_names import loose_name_lines
from mailroom.notices.model import LetterType, Notice
from mailroom.notices.ocr import render_page
from tests.unit.ocr_lines import word_line
from tests.unit.test_matching import ListDirectory, case


# A name line a stamp's date ran into (spent seed 196418), as OCR read it: words and confidences.
_NAME_THEN_STAMP_DIGITS = (("WEI", 35), ("H", 35), ("TORRES", 93), ("&", 93), ("ADAEZE", 57), ("W", 33),
                           ("HARKISY", 8), ("14", 69), ("5°", 31), ("D", 92))


def test_a_stamps_digits_after_a_name_end_it() -> None:
    assert loose_name_lines(word_line(*_NAME_THEN_STAMP_DIGITS)) == ["WEI H TORRES & ADAEZE W HARKISY"]


def test_a_lower_case_word_still_makes_a_chunk_no_name() -> None:
    """Round 22's rule stands before a name: lower case there is a sentence's, not the IRS's capitals; cutting there
    measured city names and street fragments into the evidence for no match gained. A state's code in lower case
    after two words makes the line a city's (round 32 cuts after a name at other lower-case words)."""
    assert loose_name_lines(word_line(("EL", 95), ("PASO", 95), ("Tx", 60), ("79901", 95))) == []
    assert loose_name_lines(word_line(("'s", 40), ("whe", 45), ("CARLOS", 91), ("DA", 90), ("SILVA", 88))) == []


def test_streets_sentences_and_stamps_stay_no_name_lines() -> None:
    for words in ((("1047", 95), ("OAK", 95), ("STREET", 95)),  # a street line starts with its number
                  (("Send", 95), ("us", 95), ("your", 95), ("response", 95), ("by", 95), ("MARCH", 95), ("20,", 95),
                   ("2026", 95)),  # a sentence's capitals: one word
                  (("We", 95), ("received", 95), ("your", 95), ("2024", 95), ("return", 95), ("on", 95),
                   ("APRIL", 95), ("14,", 95)),  # lower case: a sentence, whatever capitals follow
                  (("TAX", 95), ("RESOLUTION", 95), ("DEPT", 95)),  # a clerk's stamp
                  (("PORTLAND", 95), ("ME", 95), ("04101", 95))):  # a city line: a state before its ZIP
        assert loose_name_lines(word_line(*words)) == [], words


def _nameless_notice(evidence: list[str]) -> Notice:
    return Notice(letter_type=LetterType.CP2000, tax_year=2021, ssn_last4="8711", name_evidence=evidence)


def test_the_name_before_the_debris_finds_its_case_and_only_its_own() -> None:
    evidence = loose_name_lines(word_line(*_NAME_THEN_STAMP_DIGITS))
    directory = ListDirectory([case(7, "WEI", "TORRES", "8711"), case(8, "MARIA", "TORRES", "2711")])
    result = match_notice(_nameless_notice(evidence), directory)
    assert (result.outcome, result.case_id) == (MatchOutcome.MATCHED, 7) and len(directory.queries) <= 3
    other = ListDirectory([case(8, "MARIA", "TORRES", "8711")])  # the right case absent: same surname, last 4
    assert match_notice(_nameless_notice(evidence), other).outcome is MatchOutcome.INSUFFICIENT_DATA


# ---- colour dropout, computed faster --------------------------------------------------------------------------------


def test_a_colour_scan_is_read_in_each_pixels_brightest_band() -> None:
    """Black print stays black, a red stamp and a blue pen fade to light grey (colour dropout); computed with PIL's
    per-pixel maximum since round 31 (numpy's reduction over the colour axis cost ~0.1 s a page)."""
    inks = {"paper": (250, 250, 250), "print": (12, 12, 12), "stamp": (200, 30, 40), "pen": (20, 40, 160)}
    scan = Image.new("RGB", (400, 100), inks["paper"])
    for column, ink in enumerate(inks.values()):
        scan.paste(ink, (column * 100, 0, column * 100 + 100, 100))
    image = io.BytesIO()
    scan.save(image, format="PNG")
    document = pymupdf.open()
    page = document.new_page(width=288, height=72)
    page.insert_image(page.rect, stream=image.getvalue())
    grey, _ = render_page(page, ExtractionLimits(), dpi=100)
    assert grey.mode == "L"
    shades = [grey.getpixel((column * grey.width // 4 + grey.width // 8, grey.height // 2)) for column in range(4)]
    assert [abs(shade - max(ink)) <= 2 for shade, ink in zip(shades, inks.values(), strict=True)] == [True] * 4
