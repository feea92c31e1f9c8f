"""Round 21 (issue 10): a name line's "& SPOUSE" beside the SSN label; a speck far beside a footer's bare label.

Both were found on the replay of spent seed 27183 (tuned): a joint notice naming "ANNE-MARIE SCHRODER-DAVIS & SPOUSE"
on the OCR line that also held the box's "SSN" label had its only SSN taken for the spouse's; a response page whose
footer read "2 of 2" with a speck read as "4" far to its right had no label, so it was split off as a letter of its
own and the letter before it lost the SSN the response page printed.
"""

from __future__ import annotations

from mailroom.notices.layout import Word, build_layout
from mailroom.notices.pages import _footer_label
from mailroom.notices.ssn import find_ssn_last4


def test_a_name_lines_and_spouse_beside_the_label_leaves_the_number_the_taxpayers() -> None:
    found = find_ssn_last4("ANNE-MARIE SCHRODER-DAVIS & SPOUSE   SSN   XXX-xXXxX-2219   /")
    assert found is not None and found.value == "2219"
    assert find_ssn_last4("JOHN Q DOE AND SPOUSE   SSN   XXX-xXXxX-2219").value == "2219"


def test_the_spouses_own_label_still_gives_nothing() -> None:
    assert find_ssn_last4("Spouse's SSN   XXX-xXXxX-2219") is None
    assert find_ssn_last4("Spouse SSN XXX-xXXxX-2219") is None
    # a name line's "& SPOUSE" before the spouse's own label: the label still names the spouse's number
    assert find_ssn_last4("JOHN DOE & SPOUSE   Spouse's SSN   XXX-xXXxX-2219") is None


def _footer(*words: tuple[str, float, float]) -> object:
    """One footer line of words (text, left, right), 15 pixels high."""
    return build_layout([[Word(text, 90.0, left, 128.0, right, 143.0) for text, left, right in words]], 1700, 220)


def test_a_bare_label_with_a_speck_far_beside_it_is_read() -> None:
    footer = _footer(("CP2000", 170, 260), ("(Rev.", 268, 320), ("04-2019)", 328, 420), ("2", 1490, 1500),
                     ("of", 1508, 1528), ("2", 1536, 1546), ("4", 1641, 1650))  # fmt: skip
    assert _footer_label(footer) == (2, 2)


def test_a_digit_printed_beside_a_bare_label_still_gives_no_label() -> None:
    footer = _footer(("2", 1490, 1500), ("of", 1508, 1528), ("2", 1536, 1546), ("4", 1554, 1564))
    assert _footer_label(footer) is None
