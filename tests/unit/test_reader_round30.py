"""Round 30 (issue 10): one page showing nothing between two pages that show the taxpayer vouches with them; pages
joined past the end a letter's label gave never vouch.

Found replaying dev seed 3131's saved OCR (tuned): scan_0108, three pages, no page read as a first page; pages 1
and 3 showed CHLOE DA SILVA's name, page 2 only its payer table, and the letter went to review with its case named.
The second rule closes a way the first (and round 25's vouching) could lose a letter: a one-page letter labelled
"1 of 1", then the same taxpayer's next letter whose faded first page shows nothing and whose response form shows
their name, held as one letter in doubt.
"""

from __future__ import annotations

from mailroom.matching import MatchOutcome, match_notice
from mailroom.notices import extract_notices
from mailroom.notices.model import Notice, PageMarks
from mailroom.pages_vouched import pages_show_the_taxpayer
from tests.unit.test_letter_pages import directory, first_page, inner_page, write
from tests.unit.test_reader_round29 import MATCHED, _in_doubt


# ---- one page showing nothing between two that show the taxpayer -------------------------------------------------


def _marked(*pages: str) -> Notice:
    """A letter in doubt whose pages show, in turn: "name", "last4", "nothing" or "other" (another last 4)."""
    shows = {"name": dict(name_lines=["KIMBERLY L ADAMS"]), "last4": dict(ssn_last4s=["2664"]), "nothing": {},
             "other": dict(ssn_last4s=["9999"])}  # fmt: skip
    return _in_doubt(*(PageMarks(page=number, **shows[kind]) for number, kind in enumerate(pages, start=1)))


def test_one_page_showing_nothing_between_two_that_show_the_taxpayer_is_theirs() -> None:
    assert pages_show_the_taxpayer(_marked("name", "nothing", "last4"), MATCHED)
    assert pages_show_the_taxpayer(_marked("name", "nothing", "name", "nothing", "last4"), MATCHED)


def test_not_two_in_a_row_nor_a_first_or_last_page_nor_beside_another_last_4() -> None:
    for pages in (("name", "nothing", "nothing", "last4"), ("nothing", "name", "last4"), ("name", "last4", "nothing"),
                  ("name", "other", "last4"), ("name", "nothing", "other")):  # fmt: skip
        assert not pages_show_the_taxpayer(_marked(*pages), MATCHED), pages


def test_pages_past_the_end_a_label_gave_are_never_vouched_for(tmp_path) -> None:
    """A one-page letter labelled "1 of 1", then a page that starts nothing and shows nothing, then a page showing the
    same taxpayer's name (the response form of their next letter, its first page faded): one letter in doubt, and
    no page of it may vouch, or the second letter and its deadline would be lost inside the first."""
    response_form = inner_page("JOHN SMITH", "123 MAIN ST", "ANYTOWN OH 44101-1234")
    path = write(tmp_path / "past.pdf", [(first_page(), "Page 1 of 1"), (inner_page(), None), (response_form, None)])
    (notice,) = extract_notices(path)
    assert notice.pages_in_doubt == "page 2 follows the end of letter 1 and starts none"
    assert notice.page_marks == []
    assert match_notice(notice, directory()).outcome is MatchOutcome.AMBIGUOUS
