"""The document naming convention is safe for any name a notice or a file name can carry."""

import string
from datetime import date

from hypothesis import given, strategies as st

from mailroom.notices import Notice, document_name
from mailroom.notices.filename_hints import hints_from_file_name
from mailroom.notices.model import LetterType

SAFE = set(string.ascii_uppercase + string.digits + "._-")


def named(last):
    return Notice(letter_type=LetterType.CP2000, tax_year=2023, notice_date=date(2025, 10, 14), taxpayer_last_name=last)


def test_convention():
    assert document_name(named("SMITH")) == "IRS_CORR_CP2000_2023_DTD_10.14.2025_SMITH.pdf"


def test_hostile_and_unicode_names_are_reduced_to_safe_characters():
    assert document_name(named("../../etc/passwd")).endswith("_ETC-PASSWD.pdf")
    assert document_name(named("O'BRIEN")).endswith("_OBRIEN.pdf")
    assert document_name(named('SMITH"; rm -rf /')).endswith("_SMITH-RM-RF.pdf")
    assert document_name(named("MÜLLER-ÑÚÑEZ")).endswith("_MULLER-NUNEZ.pdf")
    assert document_name(named("ＳＭＩＴＨ")).endswith("_SMITH.pdf")  # full-width letters fold to ASCII
    assert document_name(named("DE LA\tCRUZ\x00\n")).endswith("_DE-LA-CRUZ.pdf")
    assert document_name(named("李")).endswith("_UNKNOWN.pdf")


def test_missing_fields_are_spelled_out_not_crashed_on():
    assert document_name(Notice()) == "IRS_CORR_OTHER_UNKNOWN_DTD_UNDATED_UNKNOWN.pdf"


@given(st.text(max_size=200))
def test_any_last_name_gives_a_safe_bounded_name(last):
    name = document_name(named(last))
    assert set(name.removesuffix(".pdf")) <= SAFE and name.startswith("IRS_CORR_CP2000_2023_DTD_10.14.2025_") and name.endswith(".pdf")
    assert len(name) <= 100 and ".." not in name.removesuffix(".pdf").split("_")[-1]


def test_file_name_hints():
    hints = hints_from_file_name("CP2000 DTD 10.14.2025_SMITH - 0012.pdf")
    assert (hints.letter_type, hints.notice_date, hints.last_name) == (LetterType.CP2000, date(2025, 10, 14), "SMITH")
    other = hints_from_file_name("scans/CP 2501 dtd 3-5-2024 O'BRIEN.PDF")
    assert (other.letter_type, other.notice_date, other.last_name) == (LetterType.CP2501, date(2024, 3, 5), "O'BRIEN")
    assert hints_from_file_name("../../DTD 13.45.2025_X.pdf").notice_date is None
    assert hints_from_file_name("random scan 0012.pdf") == hints_from_file_name(None)
