"""Round 18 of issue 10: a letter counted by any page's label; a first name read beside a surname the file name or a
cover sheet gave cannot veto a case; OCR's misreads of the ampersand between two names; clerks' Title Case names."""

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


# --- a first name beside a surname the page did not give cannot veto a case (matching._first_name_may_veto) ------


def _lewis_notice(last_source: str, first: str | None = "QXICUIISI"):
    from mailroom.notices.model import FieldProvenance, FieldSource, LetterType, Notice

    fields = {"taxpayer_last_name": FieldProvenance(confidence=0.6, source=FieldSource(last_source))}
    if first is not None:
        fields["taxpayer_first_name"] = FieldProvenance(confidence=0.657, source=FieldSource.OCR)
    return Notice(letter_type=LetterType.CP504, taxpayer_last_name="LEWIS", taxpayer_first_name=first,
                  ssn_last4="0313", fields=fields)  # fmt: skip


def _lewis_case():
    from mailroom.crm import CaseCandidate
    from mailroom_sandbox.logiqs.directory import InMemoryCaseDirectory

    return InMemoryCaseDirectory([CaseCandidate(case_id=445759, first_name="Richard", last_name="Lewis",
                                                ssn_last4="0313", active=True)])  # fmt: skip


@pytest.mark.parametrize("last_source", ["file_name", "cover_sheet"])
def test_a_garbled_first_name_beside_a_borrowed_surname_scores_as_no_first_name(last_source: str) -> None:
    from mailroom.matching import MatchOutcome, match_notice

    result = match_notice(_lewis_notice(last_source), _lewis_case())
    assert (result.outcome, result.case_id, result.score) == (MatchOutcome.MATCHED, 445759, 90.0)
    assert result.candidates[0].basis == "unknown first name"


def test_a_first_name_beside_the_pages_own_surname_still_vetoes() -> None:
    from mailroom.matching import MatchOutcome, match_notice

    assert match_notice(_lewis_notice("ocr"), _lewis_case()).outcome is MatchOutcome.NO_MATCH


def test_a_borrowed_surname_still_scores_an_agreeing_first_name_in_full() -> None:
    from mailroom.matching import MatchOutcome, match_notice

    result = match_notice(_lewis_notice("file_name", first="RICHARD"), _lewis_case())
    assert (result.outcome, result.score, result.candidates[0].basis) == (MatchOutcome.MATCHED, 100.0, "exact")


# --- OCR's misreads of the ampersand between two people (address.clean_name_line) ---------------------------------


def _cleaned(text: str) -> str:
    from mailroom.notices.address import clean_name_line
    from mailroom.notices.layout import Chunk, Word

    words = [Word(token, 90.0, 100.0 * at, 0.0, 100.0 * at + 80, 20.0) for at, token in enumerate(text.split())]
    return clean_name_line(Chunk(words))[0]


@pytest.mark.parametrize(("words", "spouse"), [
    ("LUCIA WILSON ¢ OLUWASEUN WILSON", ("OLUWASEUN", "WILSON")),
    ("MARGARET § THANH LEWIS-MCGRATH", ("THANH", "LEWIS-MCGRATH")),
    ("BRIAN R & JUAN M THOMPSON", ("JUAN", "THOMPSON")),
])  # fmt: skip
def test_a_cent_or_section_sign_before_a_person_is_their_ampersand(words: str, spouse: tuple[str, str]) -> None:
    from mailroom.notices.names import parse_name_line

    names = parse_name_line(_cleaned(words))
    assert names is not None and names.spouse is not None
    assert (names.spouse.first, names.spouse.last) == spouse


@pytest.mark.parametrize(("words", "line"), [
    ("JOSE § ADEYEMI-JACKSON", "JOSE ADEYEMI-JACKSON"),  # a middle initial S: one word follows, no person
    ("ANDREW NG ¢ SPOUSE", "ANDREW NG & SPOUSE"),  # the notice's placeholder for an unnamed spouse
    ("¢5 JOHN SMITH", "JOHN SMITH"),  # no symbol alone: debris
])  # fmt: skip
def test_a_cent_or_section_sign_is_an_ampersand_only_before_a_person(words: str, line: str) -> None:
    assert _cleaned(words) == line


# --- clerks' Title Case names with apostrophes and hyphens, and "St." (filename_hints.names_from_file_name) --------


@pytest.mark.parametrize(("file_name", "last", "first"), [
    ("De'Andre Choi-Patel notice.pdf", "CHOI-PATEL", "DE'ANDRE"),
    ("Jean-Paul O'Malley notice.pdf", "O'MALLEY", "JEAN-PAUL"),
    ("Anne-Marie McDonald notice.pdf", "MCDONALD", "ANNE-MARIE"),
    ("Ida St. John notice.pdf", "ST. JOHN", "IDA"),
    ("ST. JOHN CP2000 2022.pdf", "ST. JOHN", None),
    ("VAN DER BERG CP2000 2023.pdf", "VAN DER BERG", None),  # capitals: the whole run is the surname, as before
    ("Mary Smith-Jones notice.pdf", "SMITH-JONES", "MARY"),
])  # fmt: skip
def test_file_name_names_in_title_case_and_saints(file_name: str, last: str, first: str | None) -> None:
    from mailroom.notices.filename_hints import hints_from_file_name

    hints = hints_from_file_name(file_name)
    assert (hints.last_name, hints.first_name) == (last, first)
