"""Round 21 (issue 10): a name line's "& SPOUSE" beside the SSN label; a speck far beside a footer's bare label.

Both were found on the replay of spent seed 27183 (tuned): a joint notice naming "ANNE-MARIE SCHRODER-DAVIS & SPOUSE"
on the OCR line that also held the box's "SSN" label had its only SSN taken for the spouse's; a response page whose
footer read "2 of 2" with a speck read as "4" far to its right had no label, so it was split off as a letter of its
own and the letter before it lost the SSN the response page printed. And on spent seed 31415 (tuned): a name block
whose parse took junk for the surname, the file name giving the clerk's IM and the page a line "EVA K IM" with
debris after it, found no case: the clerk's surname now takes a case whose first name and whole surname stand in
that order, near each other, among one page line's words.
"""

from __future__ import annotations

from mailroom.matching import MatchOutcome, match_notice
from mailroom.notices.layout import Word, build_layout
from mailroom.notices.model import FieldProvenance, FieldSource, Notice
from mailroom.notices.pages import _footer_label
from mailroom.notices.ssn import find_ssn_last4
from mailroom.page_confirmation import _in_a_line
from tests.unit.test_matching import ListDirectory, case


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


# ---- the clerk's surname: a case whose name stands on a page line, debris after it -------------------------------


def _statement_read() -> Notice:
    """Spent seed 31415's "IM CP2000 2023.pdf": the name block's parse took a response-form line's "STATEMENT" for
    the surname; the line "EVA K IM IIT LISA BRN SS" holds the name with debris after it, the file name gives IM."""
    fields = {"taxpayer_last_name": FieldProvenance(confidence=0.657, source=FieldSource.OCR)}
    return Notice(taxpayer_first_name="QO", taxpayer_last_name="STATEMENT", ssn_last4="7928", fields=fields,
                  name_evidence=["QO DON T AGREE WITH SOME OR ALL OF THE CHANGES", "EVA K IM IIT LISA BRN SS"],
                  clerk_last_name="IM")  # fmt: skip


def test_the_clerks_surname_finds_a_case_whose_first_name_and_surname_stand_on_a_page_line() -> None:
    directory = ListDirectory([case(41, "Eva", "Im", "7928")])
    result = match_notice(_statement_read(), directory)
    assert (result.outcome, result.case_id) == (MatchOutcome.MATCHED, 41)
    assert "file name" in result.reason and " IM" not in result.reason.upper().replace("SIMILAR", "")
    assert [query[0] for query in directory.queries].count("IM") == 1


def test_a_case_whose_name_is_not_on_the_line_or_is_another_surname_is_not_taken() -> None:
    other_first = ListDirectory([case(42, "Mina", "Im", "7928")])  # the clerk's surname, not the line's person
    assert match_notice(_statement_read(), other_first).outcome is MatchOutcome.NO_MATCH
    lisa = ListDirectory([case(43, "Lisa", "Im", "7928")])  # LISA stands after IM on the line, not before it
    assert match_notice(_statement_read(), lisa).outcome is MatchOutcome.NO_MATCH
    longer = _statement_read().model_copy(update={"name_evidence": ["EVA K KIM"]})  # IM inside KIM is no word
    assert match_notice(longer, ListDirectory([case(44, "Eva", "Im", "7928")])).outcome is MatchOutcome.NO_MATCH
    assert not _in_a_line("Eva", "Im", ["EVA WAS SENT A LETTER BY IM"])  # the surname far after the first name
    assert _in_a_line("Eva", "De La Cruz", ["EVA M DE LA CRUZ 3"])
    assert not _in_a_line("Eva", "De La Cruz", ["EVA LA CRUZ"])  # a part of the surname is not the surname


# ---- a speck glued before a one-word surname -------------------------------------------------------------------


def _speck_read(*, surname: str = "ENG", confidence: float = 0.837, first: str = "JIN") -> Notice:
    """Spent seed 65537: "JIN ENG" read for JIN NG, a speck before the surname read as an E."""
    fields = {"taxpayer_last_name": FieldProvenance(confidence=confidence, source=FieldSource.OCR)}
    return Notice(taxpayer_first_name=first, taxpayer_last_name=surname, ssn_last4="3287", fields=fields,
                  name_evidence=[f"{first} {surname}"])  # fmt: skip


def test_a_speck_read_as_a_letter_before_the_surname_is_searched_without_it() -> None:
    directory = ListDirectory([case(51, "Jin", "Ng", "3287")])
    notice = _speck_read()
    result = match_notice(notice, directory)
    assert (result.outcome, result.case_id, result.confirmed_last_name) == (MatchOutcome.MATCHED, 51, "NG")
    assert "speck" in result.reason and " NG" not in result.reason.upper()
    assert [query[0] for query in directory.queries].count("NG") == 1


def test_the_shortened_surname_never_outranks_a_confident_read_another_person_or_a_compound() -> None:
    directory = ListDirectory([case(52, "Jin", "Ng", "3287")])
    assert match_notice(_speck_read(confidence=0.95), directory).outcome is MatchOutcome.NO_MATCH
    assert all(query[0] != "NG" for query in directory.queries)  # not even asked
    assert match_notice(_speck_read(first="MEI"), ListDirectory([case(53, "Jin", "Ng", "3287")])).outcome \
        is MatchOutcome.NO_MATCH  # fmt: skip
    other_last4 = ListDirectory([case(54, "Jin", "Ng", "3281")])
    assert match_notice(_speck_read(), other_last4).outcome is MatchOutcome.NO_MATCH
    compound = ListDirectory([case(55, "Jin", "Ng-Park", "3287")])  # a compound surname must agree in full
    assert match_notice(_speck_read(surname="ENG-PARK"), compound).outcome is MatchOutcome.NO_MATCH
    short = ListDirectory([case(57, "Jin", "G", "3287")])  # two letters read: one left is no surname to search
    assert match_notice(_speck_read(surname="NG"), short).outcome is MatchOutcome.NO_MATCH
