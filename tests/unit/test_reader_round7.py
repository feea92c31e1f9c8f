"""Reader round 7: values OCR garbles in ways round 6 did not read (docs/extraction.md, "Round 7")."""

from mailroom.notices.ssn import find_ssn_last4


def test_a_scan_line_with_a_speck_after_its_two_digit_code_still_gives_the_last_four():
    # dev seed 5150, scan_0104: the SSN box read "o*.9*.S5S1"; only the response form's scan line kept the number
    assert find_ssn_last4("XXXKX5551 PATE 15. 0 202112 302 00000063917").value == "5551"
    assert find_ssn_last4("XXXXX5551 PATE 15, 0 202112 302").value == "5551"
    assert find_ssn_last4("XXXXX5551 PATE 15.. 0 202112 302") is None  # two specks: not the scan line's shape
