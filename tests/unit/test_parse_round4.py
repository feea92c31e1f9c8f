"""Round 4 of issue 10: classes of scanned-page misses found on development seed 4242 (tuned), one test each."""

from __future__ import annotations

import pytest

from mailroom.notices.address import address_block_names, names_found
from mailroom.notices.layout import Word, build_layout
from mailroom.notices.ssn import find_ssn_last4


def _line(tokens: list[tuple[str, float]], top: float, *, x: float = 170.0, height: float = 20.0,
          gap: float = 14.0) -> list[Word]:
    """Words left to right, 12 px per character and one character's gap; a token of no letter or digit is a speck
    (4 px high), as OCR boxes specks and marks."""
    words = []
    for text, conf in tokens:
        tall = height if any(ch.isalnum() for ch in text) else 4.0
        words.append(Word(text, conf, x, top + height - tall, x + 12 * len(text), top + height))
        x += 12 * len(text) + gap
    return words


def _block(rows: list[tuple[list[tuple[str, float]], float]], gap: float = 14.0):
    return address_block_names(build_layout([_line(tokens, top, gap=gap) for tokens, top in rows], 1700, 1200))


def _plain(text: str, conf: float = 95.0) -> list[tuple[str, float]]:
    return [(token, conf) for token in text.split()]


def test_specks_in_a_name_line_do_not_split_it_into_chunks() -> None:
    # ", ANA OKAFOR ~": the specks' 4 px boxes halved the line's median height, the gap between the two names became
    # "wide" and the line fell apart into chunks; the block had no name line
    block = _block([([(",", 0.0), ("ANA", 93.0), ("OKAFOR", 74.0), ("~", 0.0)], 300),
                    (_plain("16767 S BROADWAY UNIT 1107"), 330), (_plain("NEW ORLEANS LA 70112"), 360)], gap=30)
    assert block is not None and block.names is not None
    assert (block.names.taxpayer.first, block.names.taxpayer.last) == ("ANA", "OKAFOR")


def test_a_speck_before_the_zip_still_ends_an_address_block() -> None:
    block = _block([(_plain("JASON L & JAMES CARTER"), 300), (_plain("10952 RIVER RD"), 330), (_plain("APT 1107"), 360),
                    (_plain("EL PASO TX .79901-0326"), 390)])
    assert block is not None and block.names is not None and block.names.taxpayer.last == "CARTER"


def test_an_unreadable_line_between_name_and_street_is_passed_over_unsure() -> None:
    # a spouse's name line under a pen stroke (OCR: "NA z" at the block's left edge): the taxpayer's line above it is
    # still the block's name, but only a guess
    block = _block([(_plain("STEVEN MCNEIL", 97.0), 300), ([("NA", 95.0), ("z", 7.0)], 330), (_plain("12169 N MAIN ST"), 360),
                    (_plain("WINSTON-SALEM NC 27101-7874"), 390)])
    assert block is not None and block.names is not None
    assert (block.names.taxpayer.first, block.names.taxpayer.last) == ("STEVEN", "MCNEIL")
    found = names_found(block)
    assert found is not None and found.confidence < 0.8  # the CRM must find this name on the page before filing


def test_a_readable_heading_above_the_street_still_ends_the_block() -> None:
    assert _block([(_plain("STEVEN MCNEIL"), 300), (_plain("Employee ID number"), 330),
                   (_plain("12169 N MAIN ST"), 360), (_plain("WINSTON-SALEM NC 27101-7874"), 390)]) is None


@pytest.mark.parametrize("text, last4", [
    ("Social security number: wee   6732\nTo contact us: Phone 1-800-829-8310", "6732"),
    ("Social Security number   eet 8379", "8379"),
])  # fmt: skip
def test_a_mask_ocr_read_as_a_lower_case_non_word_gives_the_last_four_unsure(text: str, last4: str) -> None:
    found = find_ssn_last4(text)
    assert found is not None and found.value == last4 and found.confidence < 0.9


@pytest.mark.parametrize("text", ["SSN   see 2022", "SSN   Tax year 2022", "SSN: wee 6732 2024", "SSN   no 1234"])
def test_a_word_or_a_longer_number_after_the_label_is_no_mask(text: str) -> None:
    assert find_ssn_last4(text) is None
