"""Round 27 (issue 10): a masked SSN whose first group lost a character, read without its label."""

from __future__ import annotations

from mailroom.notices.ssn import find_ssn_last4


def test_a_mask_short_of_one_character_gives_the_last_4_unsure() -> None:
    # a table box's label row lost to speckle, its value row read: "xx-xx-8027" for "xxx-xx-8027" (dev seed 5150)
    found = find_ssn_last4("a   920   September 8, 2023   xx-xx-8027   6861580474   Phone 1-800-829-8310")
    assert found is not None and found.value == "8027"
    assert found.confidence < 0.85  # below a whole mask's: the name beside it must confirm the case


def test_numbers_shaped_otherwise_are_no_short_mask() -> None:
    for text in ("Phone 1-800-829-8310", "AUR control number 87139-0114", "x-xx-8027", "xx-x-8027",
                 "xx-xx-80271"):  # fmt: skip
        assert find_ssn_last4(text) is None, text
