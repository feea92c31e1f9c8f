"""Reader round 11 (docs/extraction.md, "Round 11")."""

from __future__ import annotations

import pytest

from mailroom.notices.address import address_block_names, names_found
from mailroom.notices.layout import PageLayout, Word, build_layout
from mailroom.notices.parse import Found
from mailroom.notices.ssn import find_ssn_last4


def _lines(*texts: str) -> PageLayout:
    return build_layout([[Word(t, 95.0, 60 + 60 * n, 40 * row, 60 + 60 * n + 50, 40 * row + 20)
                          for n, t in enumerate(text.split())] for row, text in enumerate(texts)], 1700, 1200)


@pytest.mark.parametrize("text, last4", [
    ("Taxpayer ID number : XXX-XX-87 12\nAdditional information", "8712"),  # dev seed 5150, an inner page's header
    ("SSN ***-**-577 1", "5771"),
    ("Social Security number 930-36-21 23 :", "2123"),
])  # fmt: skip
def test_a_last_four_split_by_ocr_beside_its_label_is_joined_unsure(text: str, last4: str) -> None:
    assert find_ssn_last4(text) == Found(last4, 0.85)


@pytest.mark.parametrize("text", [
    "SSN XXX-XX-12 2022",  # five digits after the mask: a year is no part of the number
    "SSN XXX-XX-87 1",  # three: a digit was lost, nothing to join
    "SSN XXX-XX-87 12 5",  # a third group: the split is not the line's end
])  # fmt: skip
def test_digits_that_do_not_make_exactly_four_at_the_lines_end_are_not_joined(text: str) -> None:
    assert find_ssn_last4(text) is None


def test_an_unsplit_last_four_keeps_its_confidence() -> None:
    assert find_ssn_last4("Taxpayer ID number : XXX-XX-8712") == Found("8712", 0.98)


def test_a_zip_plus_4_whose_hyphen_ocr_lost_still_anchors_the_address_block() -> None:
    """Dev seed 5150: "DES MOINES IA 50309 5748" was no city line, so the clean name above it was never read."""
    layout = _lines("ROSA GONZALEZ", "17428 2ND ST .", "DES MOINES IA 50309 5748")
    names = names_found(address_block_names(layout))
    assert names is not None and (names.value.taxpayer.first, names.value.taxpayer.last) == ("ROSA", "GONZALEZ")


def test_a_street_line_ending_in_four_digits_is_no_city_line() -> None:
    assert address_block_names(_lines("ROSA GONZALEZ", "17428 2ND ST", "PO BOX 12345 5748")) is None
