"""Round 28 (issue 10): an address block read past a stamp's marks.

A RECEIVED stamp over the address block may leave the name line whole and still lose the block: its date read on
after the name puts digits in the name line, or its text over the street line leaves no house number to know the
street by. Such a block is read on a second pass only, and its lines are evidence for the CRM only: the matcher
searches their surnames with the page's last 4 and files nothing unless the case's own name is on them.
"""

from __future__ import annotations

from mailroom.crm import CaseCandidate
from mailroom.matching import MatchOutcome, match_notice
from mailroom.notices.address import address_block_names, names_found
from mailroom.notices.layout import build_layout
from mailroom.notices.model import Notice
from mailroom.notices.page_fields import TRUSTED_CONFIDENCE
from mailroom_sandbox.logiqs.directory import InMemoryCaseDirectory
from tests.unit.test_parse_round4 import _line, _plain


def _block(rows: list[tuple[str, float]]):
    return address_block_names(build_layout([_line(_plain(text), top) for text, top in rows], 1700, 1200))


def test_a_stamps_date_after_the_name_line_costs_the_words_after_it_not_the_block() -> None:
    # seed 196418: "WEI H TORRES & ADAEZE W HARKISY 14 5\u00b0 D", the name line with the stamp's date read after
    # it, was no name line for its digits, and the letter had no name to search by
    block = _block([("WEI H TORRES & ADAEZE W HARKISY 14 5\u00b0 D", 300), ("11309 2ND ST", 330),
                    ("PORTLAND ME 04101", 360)])
    assert block is not None and block.lines == ("WEI H TORRES & ADAEZE W HARKISY",)
    assert block.names is None and names_found(block) is None  # evidence only: HARKISY is the stamp's HARRIS


def test_a_street_line_the_stamp_garbled_still_leads_to_the_name_above_it() -> None:
    # seed 196418: "8864 S BROADWAY" under the stamp's word read as "Ske 3 BRompiaw RECEIVED"
    block = _block([("CAROL D & ASHLEY TAYLOR-SCHRODER", 300), ("Ske 3 BRompiaw RECEIVED", 330),
                    ("EL PASO TX 79901", 360)])
    assert block is not None and block.lines == ("CAROL D & ASHLEY TAYLOR-SCHRODER",)
    assert block.names is None


def test_a_line_of_no_digit_above_the_city_is_no_street_even_past_a_stamp() -> None:
    assert _block([("CAROL D & ASHLEY TAYLOR-SCHRODER", 300), ("RECEIVED BY THE", 330),
                   ("EL PASO TX 79901", 360)]) is None


def test_one_word_left_before_a_stamps_date_is_no_name_line() -> None:
    assert _block([("TORRES 14 5\u00b0 D", 300), ("11309 2ND ST", 330), ("PORTLAND ME 04101", 360)]) is None
    assert _block([("4 ROSE COURT", 300), ("11309 2ND ST", 330), ("PORTLAND ME 04101", 360)]) is None


def test_a_block_read_whole_wins_over_one_read_past_a_stamp_above_it() -> None:
    # the lenient reading is a second pass: a block higher on the page that only it would read does not take the
    # place of the page's block read whole
    block = _block([("JOHN Q PUBLIC", 200), ("Ske 3 BRompiaw", 230), ("EL PASO TX 79901", 260),
                    ("MARY SMITH", 400), ("123 MAIN ST", 430), ("BOISE ID 83702", 460)])
    assert block.names is not None and (block.names.taxpayer.first, block.names.taxpayer.last) == ("MARY", "SMITH")
    assert names_found(block).confidence >= TRUSTED_CONFIDENCE


def test_the_lines_read_past_a_stamp_find_the_case_only_with_its_own_name_on_them() -> None:
    block = _block([("CAROL D & ASHLEY TAYLOR-SCHRODER", 300), ("Ske 3 BRompiaw RECEIVED", 330),
                    ("EL PASO TX 79901", 360)])
    crm = InMemoryCaseDirectory([
        CaseCandidate(case_id=7, first_name="Carol", last_name="Taylor-Schroder", ssn_last4="0679", status="active",
                      active=True),
        CaseCandidate(case_id=8, first_name="Diane", last_name="Taylor-Schroder", ssn_last4="0976", status="active",
                      active=True),
    ])  # fmt: skip
    found = match_notice(Notice(ssn_last4="0679", name_evidence=list(block.lines)), crm)
    assert (found.outcome, found.case_id) == (MatchOutcome.MATCHED, 7)
    other = match_notice(Notice(ssn_last4="0976", name_evidence=list(block.lines)), crm)  # DIANE is not on the page
    assert other.outcome is not MatchOutcome.MATCHED
