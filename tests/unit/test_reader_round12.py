"""Reader round 12 (docs/extraction.md, "Round 12")."""

from __future__ import annotations

import pytest

from mailroom.notices.page_fields import _parse_text
from mailroom.notices.parse import Found
from mailroom.notices.ssn import find_ssn_last4


@pytest.mark.parametrize("header, row, last4", [
    # dev seed 5150: a table's "***-**-6955" with its stars read as letters and zeros
    ("Notice AUR contro] number Social Security number] Tax year Notice date To contect us",
     "CP32190 6K9609361 ooe~00-6955 2022 December 16, 2024 Phone 1-800-829-0922", "6955"),
    # dev seed 3131: two stars read as "ee", and the AUR label's "number" lost ("AUR Control 6")
    ("Notice : Social Security number| AUR Control 6 To contact us",
     "P2000 ee-00-8517 4547956888 + Phone 1-800-829-8310", "8517"),
])  # fmt: skip
def test_a_mask_misread_with_zeros_in_a_table_row_gives_its_last_four_unsure(header: str, row: str,
                                                                              last4: str) -> None:
    found = _parse_text(f"{header}\n{row}")["ssn_last4"]
    assert found.value == last4 and found.confidence < 0.85  # a name on the page must confirm the case


@pytest.mark.parametrize("text", [
    "Social Security number ee-00-8517",
    "SSN ooe~00-6955",
])  # fmt: skip
def test_a_two_letter_or_tilde_mask_beside_its_label_is_read_unsure(text: str) -> None:
    assert find_ssn_last4(text) == Found(text[-4:], 0.8)


@pytest.mark.parametrize("header, row", [
    ("Notice Social Security number Tax year", "CP2000 1-800-829-0922 2022"),  # a phone number is no mask
    ("Notice Social Security number Tax year", "CP2000 12-31-2024 2022"),  # nor a date
])  # fmt: skip
def test_numbers_of_other_shapes_under_a_tin_label_are_not_read_as_its_last_four(header: str, row: str) -> None:
    assert "ssn_last4" not in _parse_text(f"{header}\n{row}")
