"""Field parsers on strings: the forms IRS notices print, and the traps the replaced extractor fell into."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from mailroom.notices.aur import find_aur_control_number
from mailroom.notices.model import LetterType
from mailroom.notices.names import parse_name_line, parse_person, find_names
from mailroom.notices.parse import (
    find_amount_due,
    find_letter_type,
    find_notice_date,
    find_response_due_date,
    find_tax_year,
    normalize_text,
    parse_date,
)
from mailroom.notices.ssn import find_ssn_last4, is_valid_tin


@pytest.mark.parametrize(
    "text, expected",
    [
        ("October 14, 2025", date(2025, 10, 14)),
        ("Oct. 14, 2025", date(2025, 10, 14)),
        ("Oct 14 2025", date(2025, 10, 14)),
        ("Sept. 2, 2024", date(2024, 9, 2)),
        ("May 1, 2025", date(2025, 5, 1)),
        ("10/14/2025", date(2025, 10, 14)),
        ("1/4/2025", date(2025, 1, 4)),
        ("10-14-2025", date(2025, 10, 14)),
        ("14 October 2025", date(2025, 10, 14)),
        ("February 30, 2025", None),  # not a date: never guess
        ("13/14/2025", None),
        ("the year 2025", None),
    ],
)
def test_parse_date_forms(text, expected):
    assert parse_date(text) == expected


def test_notice_date_prefers_the_label_over_earlier_dates():
    text = "Tax period: December 31, 2023\nNotice date\nOct. 14, 2025\nRespond by: November 13, 2025"
    assert find_notice_date(text).value == date(2025, 10, 14)
    assert find_response_due_date(text).value == date(2025, 11, 13)


def test_due_date_labels_of_each_letter():
    assert find_response_due_date("Pay by: 10/24/2025").value == date(2025, 10, 24)
    petition = "Last day to file a petition with the United States Tax Court: January 12, 2026"
    assert find_response_due_date(petition).value == date(2026, 1, 12)
    # a label followed by prose and a much later date is not a due date
    assert find_response_due_date("Interest runs from the due date of the return until paid, see 1/1/2024") is None
    assert find_response_due_date("Respond within 30 days of the date of this notice.") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Notice CP2000", LetterType.CP2000),
        ("Notice\nCP 2000", LetterType.CP2000),
        ("Notice number: CP-2501", LetterType.CP2501),
        ("Notice CP3219A", LetterType.CP3219A),
        ("Notice CP504", LetterType.CP504),
        ("Letter LT11", LetterType.LT11),
        ("Notice CP2OOO", LetterType.CP2000),  # OCR read zeros as O
        ("we may send a CP2000 ... CP2000 ... see Notice CP504", LetterType.CP504),  # the labelled code wins
    ],
)
def test_letter_type(text, expected):
    assert find_letter_type(text).value is expected


def test_unknown_letter_code_is_none():
    assert find_letter_type("Notice CP14 about your balance") is None


def test_tax_year_from_label_or_tax_period():
    assert find_tax_year("Tax year 2023").value == 2023
    assert find_tax_year("Tax year\n2022\nNotice date").value == 2022
    assert find_tax_year("Tax period: December 31, 2021 Form 1040").value == 2021
    assert find_tax_year("no year here 1-800-829-0922") is None


def test_amount_due_only_from_its_label():
    text = "Reported to IRS $12,345.67\nProposed amount due: $1,234.50\nShown on return $0.00"
    assert find_amount_due(text).value == Decimal("1234.50")
    assert find_amount_due("Amount you owe $987").value == Decimal("987.00")
    assert find_amount_due("Reported to IRS $12,345.67") is None


def test_aur_control_number_is_read_from_its_label_not_from_zip_codes():
    text = "Ogden, UT 84201-0045\nAUR control number\n87139-0114\nANYTOWN, OH 44101-1234"
    assert find_aur_control_number(text).value == "87139-0114"
    assert find_aur_control_number("Ogden, UT 84201-0045") is None


@pytest.mark.parametrize(
    "text, last4",
    [
        ("Social Security number XXX-XX-1234", "1234"),
        ("Social Security number\n***-**-5678", "5678"),
        ("SSN: 123-45-6789", "6789"),
        ("Taxpayer identification number 912-78-4321", "4321"),  # ITIN: valid, must not be rejected
        ("Social Security number 900-70-0001", "0001"),
        ("Social security number 987 94 1111", "1111"),
        ("Social security number 123456789", "6789"),  # unseparated only next to a label
    ],
)
def test_ssn_last4_forms(text, last4):
    assert find_ssn_last4(text).value == last4


def test_aur_control_number_is_never_an_ssn():
    assert find_ssn_last4("AUR control number 87139-0114") is None
    assert find_ssn_last4("Social Security number 87139-0114") is None
    assert find_ssn_last4("AUR control number 87139-0114\nSocial Security number XXX-XX-2468").value == "2468"


def test_phone_numbers_and_zip_codes_are_not_ssns():
    assert find_ssn_last4("Phone 1-800-829-0922 Ogden, UT 84201-0045 caller id 123456789") is None


def test_invalid_ssn_shapes_are_rejected():
    assert not is_valid_tin("000", "12", "3456")
    assert not is_valid_tin("666", "12", "3456")
    assert not is_valid_tin("123", "00", "3456")
    assert not is_valid_tin("123", "45", "0000")
    assert not is_valid_tin("912", "93", "1234")  # 9xx with a group outside the ITIN ranges
    assert is_valid_tin("912", "70", "1234") and is_valid_tin("999", "88", "1234") and is_valid_tin("950", "94", "1")


def test_spouse_ssn_label_does_not_win_over_the_taxpayer():
    text = "Spouse's SSN 123-45-1111\nSocial Security number XXX-XX-2222"
    assert find_ssn_last4(text).value == "2222"


@pytest.mark.parametrize(
    "line, taxpayer, spouse",
    [
        ("JOHN SMITH", ("JOHN", "SMITH"), None),
        ("JOHN A SMITH JR", ("JOHN", "SMITH"), None),
        ("SMITH, JOHN A", ("JOHN", "SMITH"), None),
        ("JOHN & MARY SMITH", ("JOHN", "SMITH"), ("MARY", "SMITH")),
        ("JOHN A & MARY B SMITH", ("JOHN", "SMITH"), ("MARY", "SMITH")),
        ("JOHN SMITH & MARY JONES", ("JOHN", "SMITH"), ("MARY", "JONES")),
        ("JOHN SMITH III & MARY K JONES-LEE", ("JOHN", "SMITH"), ("MARY", "JONES-LEE")),
        ("SMITH, JOHN & MARY", ("JOHN", "SMITH"), ("MARY", "SMITH")),
        ("MARIA DE LA CRUZ", ("MARIA", "DE LA CRUZ"), None),
        ("SEAN O'BRIEN", ("SEAN", "O'BRIEN"), None),
        ("JOSÉ MÜLLER", ("JOSÉ", "MÜLLER"), None),
    ],
)
def test_name_lines(line, taxpayer, spouse):
    names = parse_name_line(line)
    assert (names.taxpayer.first, names.taxpayer.last) == taxpayer
    assert (None if names.spouse is None else (names.spouse.first, names.spouse.last)) == spouse


def test_single_word_is_not_a_person():
    assert parse_person("SMITH") is None


def test_names_from_the_address_block_skip_the_irs_address():
    text = normalize_text(
        "Department of the Treasury\nInternal Revenue Service\nOgden, UT 84201-0045\nNotice CP2000\n"
        "JOHN & MARY SMITH\n123 MAIN ST\nAPT 4B\nANYTOWN, OH 44101-1234\nChanges to your 2023 Form 1040"
    )
    found = find_names(text).value
    assert (found.taxpayer.last, found.spouse.first) == ("SMITH", "MARY")


def test_names_from_labels():
    found = find_names("Taxpayer name: SMITH, JOHN\nSpouse: MARY JONES").value
    assert (found.taxpayer.first, found.taxpayer.last, found.spouse.last) == ("JOHN", "SMITH", "JONES")


@pytest.mark.parametrize(
    "text, amount, repaired",
    [
        ("Proposed amount due: $25,481 63", "25481.63", True),  # OCR dropped the decimal point
        ("Proposed amount due: $1 9,708.97", "19708.97", True),  # OCR split a digit group
        ("Amount due: S1,234.56", "1234.56", False),  # OCR read $ as S
        ("Amount due: $1,234.56 10/10/2025", "1234.56", False),
    ],
)
def test_amount_due_survives_ocr_damage_with_lower_confidence(text, amount, repaired):
    found = find_amount_due(text)
    assert found.value == Decimal(amount) and (found.confidence < 0.9) is repaired


def test_ocr_misread_labels_still_match():
    assert find_aur_control_number("AUR contro! number 55022-8237").value == "55022-8237"
    assert find_tax_year("Tax vear 2023 Tax year 2023").value == 2023
    assert find_notice_date("N0tice date 10/14/2025").value == date(2025, 10, 14)


def test_unlabelled_notice_date_skips_due_and_tax_period_dates():
    text = "Tax period: December 31, 2023\nRespond by: November 13, 2025\nOctober 14, 2025\nDear taxpayer"
    found = find_notice_date(text)
    assert found.value == date(2025, 10, 14) and found.confidence < 0.6


_itin_groups = st.sampled_from([50, 65, 70, 78, 88, 90, 92, 94, 99])


@given(area=st.integers(900, 999), group=_itin_groups, serial=st.integers(1, 9999), aur=st.integers(10000, 99999),
       aur_tail=st.integers(0, 9999), masked=st.booleans())  # fmt: skip
def test_property_itins_are_read_and_aur_numbers_never_are(area, group, serial, aur, aur_tail, masked):
    tin = f"XXX-XX-{serial:04d}" if masked else f"{area}-{group}-{serial:04d}"
    text = f"Notice CP2000\nAUR control number {aur}-{aur_tail:04d}\nSocial Security number {tin}\nPage 1 of 3"
    assert find_ssn_last4(text).value == f"{serial:04d}"
    assert find_ssn_last4(f"AUR control number {aur}-{aur_tail:04d}\nOgden, UT 84201-0045") is None


def test_ocr_damage_to_suffixes_and_aur_numbers_is_repaired():
    assert parse_name_line("JUSTIN HOUSTON Ili").taxpayer.last == "HOUSTON"  # "III" read as "Ili"
    assert parse_name_line("JOHN LI").taxpayer.last == "LI"  # an all-capitals LI is a surname, not a numeral
    repaired = find_aur_control_number("AUR control number §6257-9352")
    assert repaired.value == "56257-9352" and repaired.confidence < 0.9
    assert find_aur_control_number("AUR control number SSSSS-9352") is None  # too damaged to trust


def test_ocr_damaged_full_ssn_keeps_its_last4_only_next_to_a_label():
    found = find_ssn_last4("Social Security number §92-73-1284\nAUR control number 99608-1603")
    assert found.value == "1284" and found.confidence < 0.9
    assert find_ssn_last4("Reference §92-73-1284") is None  # unlabelled damage is not trusted
    assert find_ssn_last4("Social Security number 666-12-3456") is None  # a readable but invalid number stays rejected


def test_hyphenated_names_containing_stop_words_are_still_names():
    text = normalize_text("Internal Revenue Service\nOgden, UT 84201-0045\nMADISON WOOD-PAGE\n12 ELM ST\nAUSTIN TX 73301")
    assert find_names(text).value.taxpayer.last == "WOOD-PAGE"
    assert find_names("Page 2 of 4\n12 ELM ST\nAUSTIN TX 73301") is None


def test_ocr_damage_in_state_code_and_lone_numeral():
    text = "ALEXANDER H VAZQUEZ\n72368 JOHNSON ISLE\nNORTH PHILIP 1A 40361-6676"
    assert find_names(text).value.taxpayer.last == "VAZQUEZ"
    assert parse_name_line("HEATHER P GALLAGHER I").taxpayer.last == "GALLAGHER"  # "II" lost a stroke


def test_address_block_names_survive_ocr_debris_token_by_token():
    from mailroom.notices.address import address_block_names
    from mailroom.notices.layout import PageLayout, Word, build_layout

    def block(*lines: str) -> PageLayout:
        rows = [[Word(token, 90.0, 60 + 40 * i, 100 + 14 * n, 95 + 40 * i, 112 + 14 * n)
                 for i, token in enumerate(line.split())] for n, line in enumerate(lines)]
        rows.append([Word("Notice", 96.0, 400, 100, 440, 112), Word("CP2000", 96.0, 450, 100, 500, 112)])
        return build_layout(rows, 612, 792)

    cases = {
        ("JOHN A SMITH .", "12 ELM ST", "BOISE ID.83702"): ("JOHN", "SMITH"),
        ("MARY! JR", "12 ELM ST", "BOISE ID 83702"): None,  # one word left: not a person
        ("ANA © . ; VAN DER BERG", "12 ELM ST", "BOISE ID 83702"): ("ANA", "VAN DER BERG"),
        ("JOHN. & MARY : O'BRIEN", "—12 ELM ST", "BOISE ID 83702-1234"): ("JOHN", "O'BRIEN"),
        ("MARIA MACDONALD- MITCHELL", "12 ELM ST", "BOISE ID 83702"): ("MARIA", "MACDONALD-MITCHELL"),
        ("154678.111277.7849.001 1 AT", "LI XU", "% ANN LEE CPA", "12 ELM ST", "BOISE ID 83702"): ("LI", "XU"),
    }
    for lines, expected in cases.items():
        found = address_block_names(block(*lines))
        got = (found.names.taxpayer.first, found.names.taxpayer.last) if found and found.names else None
        assert got == expected, lines
