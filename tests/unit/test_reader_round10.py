"""Reader round 10 (docs/extraction.md, "Round 10")."""

from __future__ import annotations

from datetime import date

from mailroom.notices.aur import find_aur_control_number
from mailroom.notices.parse import find_notice_date, find_tax_year
from mailroom.notices.ssn import find_ssn_last4


def test_a_long_label_word_with_one_letter_misread_or_lost_still_labels_its_value():
    assert find_ssn_last4("Social segurity number XXX-XX-4821").value == "4821"
    assert find_aur_control_number("AUR contrel numbe 5502282370").value == "5502282370"
    assert find_notice_date("Notiee date 10/14/2025").value == date(2025, 10, 14)


def test_short_label_words_stay_exact():
    """"Tax yean" is no "Tax year" label: the year beside it is only an unlabelled guess, not a labelled value."""
    labelled, garbled = find_tax_year("Tax year 2023"), find_tax_year("Tax yean 2023")
    assert labelled is not None and labelled.confidence >= 0.9
    assert garbled is None or garbled.confidence < labelled.confidence
