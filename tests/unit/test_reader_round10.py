"""Reader round 10 (docs/extraction.md, "Round 10")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from mailroom.notices.address import address_block_names, clean_name_line, names_found
from mailroom.notices.aur import find_aur_control_number
from mailroom.notices.names import parse_name_line
from mailroom.notices.page_fields import merge, parse_layout
from mailroom.notices.parse import Found, find_amount_due, find_notice_date, find_response_due_date, find_tax_year
from mailroom.notices.ssn import find_ssn_last4
from tests.unit.ocr_lines import name_chunk, page_lines


def test_a_long_label_word_with_one_letter_misread_or_lost_still_labels_its_value():
    assert find_ssn_last4("Social segurity number XXX-XX-4821").value == "4821"
    assert find_aur_control_number("AUR contrel numbe 5502282370").value == "5502282370"
    assert find_notice_date("Notiee date 10/14/2025").value == date(2025, 10, 14)


def test_short_label_words_stay_exact():
    """"Tax yean" is no "Tax year" label: the year beside it is only an unlabelled guess, not a labelled value."""
    labelled, garbled = find_tax_year("Tax year 2023"), find_tax_year("Tax yean 2023")
    assert labelled is not None and labelled.confidence >= 0.9
    assert garbled is None or garbled.confidence < labelled.confidence


@pytest.mark.parametrize("line, cleaned", [
    ("ANA W & LINDA J-LA ROSA", "ANA W & LINDA J LA ROSA"),  # a speck between the initial and the particle
    ("ANA J-SMITH", "ANA J SMITH"),
    ("MARIA GARCIA-LOPEZ", "MARIA GARCIA-LOPEZ"),  # a hyphenated surname's parts are never one letter: kept
    ("JOHN O'BRIEN-KIM", "JOHN O'BRIEN-KIM"),
])  # fmt: skip
def test_an_initial_hyphened_to_the_next_word_is_split_from_it(line: str, cleaned: str) -> None:
    assert clean_name_line(name_chunk(line))[0] == cleaned


def test_a_joint_line_with_a_hyphened_initial_gives_the_whole_surname() -> None:
    names = parse_name_line(clean_name_line(name_chunk("ANA W & LINDA J-LA ROSA"))[0])
    assert names is not None and names.taxpayer.last == "LA ROSA" and names.spouse.last == "LA ROSA"


def test_a_mark_glued_to_the_ampersand_leaves_no_hyphen_on_the_initial_before_it() -> None:
    line, _, stripped = clean_name_line(name_chunk("SUNITA L-& MIGUEL ZIELINSKI"))
    assert (line, stripped) == ("SUNITA L & MIGUEL ZIELINSKI", True)
    assert parse_name_line(line).taxpayer.last == "ZIELINSKI"


def test_a_first_name_read_as_one_letter_is_unsure_so_a_whole_read_of_the_names_wins() -> None:
    """Page 1's "WILLIAM" lost under a stamp ("S & LISA C ..."), the response form's line whole: its read wins."""
    address = ("22002 CEDAR LN", "LAS CRUCES NM 88001-2325")
    initial_only, _ = parse_layout(page_lines("S & LISA C THOMPSON-SCOTT", *address))
    whole, _ = parse_layout(page_lines("WILLIAM S & LISA C THOMPSON-SCOTT", *address))
    assert initial_only["taxpayer_first_name"].value == "S"
    assert initial_only["taxpayer_first_name"].confidence < whole["taxpayer_first_name"].confidence
    merge(initial_only, whole)
    assert initial_only["taxpayer_first_name"].value == "WILLIAM"


@pytest.mark.parametrize("line", ["AGNIESZKA L PEREZ-JOHNSON & SPOUSE", "AGNIESZKA L PEREZ-JOHNSON & SPO",
                                  "AGNIESZKA L PEREZ-JOHNSON & SPONSE"])
def test_a_spouse_placeholder_ocr_cut_or_garbled_still_leaves_the_taxpayer(line: str) -> None:
    layout = page_lines(line, "22002 CEDAR LN", "LAS CRUCES NM 88001-2325")
    names = names_found(address_block_names(layout))
    assert names is not None and (names.value.taxpayer.first, names.value.taxpayer.last, names.value.spouse) == (
        "AGNIESZKA", "PEREZ-JOHNSON", None)


@pytest.mark.parametrize("line, cleaned", [
    ("BO'VAN DER BERG-SCHWARZENEGGER", "BO VAN DER BERG-SCHWARZENEGGER"),  # a speck before a particle
    ("CARLOS D'ANGELO", "CARLOS D'ANGELO"),
    ("JOHN O'BRIEN", "JOHN O'BRIEN"),
    ("DA'QUAN SMITH", "DA'QUAN SMITH"),  # the part after the apostrophe is no particle: a name of its own
])  # fmt: skip
def test_an_apostrophe_before_a_surname_particle_is_a_speck_between_two_words(line: str, cleaned: str) -> None:
    assert clean_name_line(name_chunk(line))[0] == cleaned


@pytest.mark.parametrize("line, amount", [
    ("Amount due WED $1,052.27", "1052.27"),  # a RECEIVED stamp's letters between the label and the amount
    ("Total amount you owe a : : $9,897.50", "9897.50"),
    ("Proposed balance due ; $147.15", "147.15"),
    ("Amount due \u2018 : $11,232.40\u201d", "11232.40"),
])  # fmt: skip
def test_an_amount_past_a_marks_debris_on_its_labels_line_is_read(line: str, amount: str) -> None:
    assert find_amount_due(line) == Found(Decimal(amount), 0.9)


@pytest.mark.parametrize("line", [
    "Pay the amount due immediately. Call us if you can't pay: $25.00",  # a sentence, not debris
    "Amount due 2 $2,158.00",  # a digit between: unsure what it belongs to
    "Amount due ; $1,234",  # no cents: not the amount as printed
])  # fmt: skip
def test_words_digits_or_a_partial_amount_past_the_label_are_no_debris(line: str) -> None:
    assert find_amount_due(line) is None


def test_an_amount_right_after_any_label_wins_over_one_past_debris() -> None:
    text = "Amount due WED $1,052.27\nTotal amount you owe: $1,052.72"
    assert find_amount_due(text) == Found(Decimal("1052.72"), 0.97)


def test_a_month_name_with_one_letter_misread_beside_a_label_is_repaired_unsure() -> None:
    assert find_response_due_date("If you don't agree, respond by QCTOBER 13, 2025.") == Found(date(2025, 10, 13), 0.85)
    assert find_response_due_date("If you don't agree, respond by QCTOPER 13, 2025.") is None  # two letters off


def test_an_aur_number_after_a_speck_with_its_last_1_read_as_i_is_repaired_unsure() -> None:
    assert find_aur_control_number("AUR Control No. ,2F240395i") == Found("2F2403951", 0.85)
