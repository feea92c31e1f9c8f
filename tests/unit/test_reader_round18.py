"""Round 18 of issue 10: a letter counted by any page's label; a first name read beside a surname the page garbled
cannot veto a case; OCR's misreads of the ampersand between two names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_letter_pages import first_page, inner_page, write

# --- a letter counted by its second page's "2 of N" (extract._labelled_to_the_end) ----------------------------------


def _doubt(tmp_path: Path, labels: list[str | None]) -> list[tuple[int, int, bool]]:
    from mailroom.notices import extract_notices

    pages = [(first_page(), labels[0]), *[(inner_page(), label) for label in labels[1:]]]
    notices = extract_notices(write(tmp_path / "pages.pdf", pages))
    return [(n.first_page, n.last_page, n.pages_in_doubt is not None) for n in notices]


def test_unlabelled_pages_of_a_letter_whose_second_page_counts_it_are_its_own(tmp_path: Path) -> None:
    assert _doubt(tmp_path, [None, "Page 2 of 4", None, None]) == [(1, 4, False)]


@pytest.mark.parametrize("labels", [
    [None, "Page 2", None, None],  # no total: nothing says where the letter ends
    [None, "Page 2 of 5", None, None],  # the count runs past the file: a page is missing, the others are unsure
    [None, "Page 2 of 3", None, None],  # the file runs a page past the letter's own count
    [None, "Page 3 of 4", None, None],  # labelled out of its place
    [None, "Page 2 of 4", None, "Page 2 of 2"],  # another page labelled with another total: another letter's
])  # fmt: skip
def test_unlabelled_pages_stay_in_doubt_unless_a_label_in_place_counts_them(tmp_path: Path,
                                                                            labels: list[str | None]) -> None:
    assert all(doubt for _, _, doubt in _doubt(tmp_path, labels))


# --- the first word of a line whose garbled surname the file name replaced (filename_hints.apply_file_name_hints) -


def _hinted(file_name: str, last: str, first: str) -> tuple[str, str | None, bool]:
    from mailroom.notices.filename_hints import apply_file_name_hints
    from mailroom.notices.model import FieldProvenance, FieldSource

    values = {"taxpayer_last_name": last, "taxpayer_first_name": first}
    fields = {name: FieldProvenance(confidence=0.657, source=FieldSource.OCR) for name in values}
    apply_file_name_hints(values, fields, file_name)
    return values["taxpayer_last_name"], values.get("taxpayer_first_name"), "taxpayer_first_name" in fields


@pytest.mark.parametrize(("file_name", "page_last", "page_first", "want"), [
    ("LEWIS CP504 2022.pdf", "EWRS", "QXICUIISI", ("LEWIS", None, False)),  # the clerk named no first name
    ("O'BRIEN_KIMBERLY_CP504.pdf", "BRIS", "KIMBERLY", ("O'BRIEN", "KIMBERLY", True)),  # the clerk's agrees
    ("LEWIS CP504 2022.pdf", "SMITH", "JOHN", ("SMITH", "JOHN", True)),  # the page's surname stays: so does its line
])  # fmt: skip
def test_a_first_name_beside_a_surname_the_file_name_replaced_is_kept_only_when_the_clerk_named_it(
        file_name: str, page_last: str, page_first: str, want: tuple[str, str | None, bool]) -> None:  # fmt: skip
    assert _hinted(file_name, page_last, page_first) == want


def test_a_notice_without_the_garbled_first_name_finds_its_case() -> None:
    """The matcher's side: the same notice with the garbled first name is NO_MATCH, without it MATCHED (an exact
    last name and last 4 reach the threshold as the only candidate, ``matching.UNKNOWN_FIRST_SCORE``)."""
    from mailroom.crm import CaseCandidate
    from mailroom.matching import MatchOutcome, match_notice
    from mailroom.notices.model import LetterType, Notice
    from mailroom_sandbox.logiqs.directory import InMemoryCaseDirectory

    directory = InMemoryCaseDirectory([CaseCandidate(case_id=445759, first_name="Richard", last_name="Lewis",
                                                     ssn_last4="0313", active=True)])  # fmt: skip
    notice = Notice(letter_type=LetterType.CP504, taxpayer_last_name="LEWIS", ssn_last4="0313")
    garbled = notice.model_copy(update={"taxpayer_first_name": "QXICUIISI"})
    assert match_notice(garbled, directory).outcome is MatchOutcome.NO_MATCH
    assert (match_notice(notice, directory).outcome, match_notice(notice, directory).case_id) == (
        MatchOutcome.MATCHED, 445759)


# --- OCR's misreads of the ampersand between two people (address.clean_token) -------------------------------------


@pytest.mark.parametrize(("words", "spouse"), [
    ("LUCIA WILSON ¢ OLUWASEUN WILSON", ("OLUWASEUN", "WILSON")),
    ("MARGARET § THANH LEWIS-MCGRATH", ("THANH", "LEWIS-MCGRATH")),
    ("BRIAN R & JUAN M THOMPSON", ("JUAN", "THOMPSON")),
])  # fmt: skip
def test_a_cent_or_section_sign_between_two_names_is_their_ampersand(words: str, spouse: tuple[str, str]) -> None:
    from mailroom.notices.address import clean_token
    from mailroom.notices.names import parse_name_line

    names = parse_name_line(" ".join(cleaned for word in words.split() if (cleaned := clean_token(word))))
    assert names is not None and names.spouse is not None
    assert (names.spouse.first, names.spouse.last) == spouse


def test_a_cent_sign_is_no_word_of_a_name_otherwise() -> None:
    from mailroom.notices.address import clean_token

    assert [clean_token(word) for word in ("¢5", "©", "$", "£")] == ["", "", "", ""]
