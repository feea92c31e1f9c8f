"""pages_vouched: a letter in doubt whose every page shows the matched taxpayer is filed without a person.

A letter's pages are in doubt when the reader cannot tell each is the letter's; matching then names the right case
but sends the letter to review (``matching.match_notice``), since a missed letter start would put another taxpayer's
page on the case. The match itself is new evidence: the CRM has confirmed the page's name and last 4 as one person.
A page showing that last 4, or that person's first name and whole surname on one name line, is that person's
(the first name may be one OCR letter off in a name of seven letters or more, "RIMBERLY ADAMS": the case is already
matched, and finding one still wants the first name itself; round 29, spent seed 75025, tuned); a page showing
neither (a body page, a page whose label and header OCR lost) leaves the doubt, unless it is a single inner page
between two that show the person (round 30), and a page showing a last 4 that is neither the one read nor the
case's always does. The extraction keeps no marks for a letter with a page surely showing another letter's code,
AUR number, last 4, tax year or notice date, nor for one whose pages run past its label's end (notices/page_marks.py).

Tuned on thirteen seeds' saved OCR (round 25, docs/extraction.md): of the letters matched to their right case but
held in doubt, those whose pages all showed the person; no letter whose pages held two letters was vouched for.
"""

from __future__ import annotations

from mailroom.matching import MatchResult
from mailroom.notices import Notice
from mailroom.page_confirmation import name_on_page

# a page's first name against the matched case's (``matching.first_name_score``): 85 takes one OCR letter off in a
# name of seven letters or more ("RIMBERLY" for KIMBERLY, 87.5), not in a shorter one (JASON for MASON, 80)
PAGE_FIRST_NAME_AT_LEAST = 85.0


def pages_show_the_taxpayer(notice: Notice, result: MatchResult) -> bool:
    """Every page of the notice (``first_page`` .. ``last_page``) shows the matched person's last 4 (as read, or as
    the case holds it when a look-alike or a guess found the case) or their name, or sits alone between two that do
    (``_between_shown_pages``); and none shows another last 4."""
    pages = range(notice.first_page, (notice.last_page or notice.first_page) + 1)
    if [marks.page for marks in notice.page_marks] != list(pages):
        return False
    last4s = {last4 for last4 in (notice.ssn_last4, result.confirmed_ssn_last4) if last4}
    first, last = notice.taxpayer_first_name, result.confirmed_last_name or notice.taxpayer_last_name
    shown: list[bool] = []  # per page: it shows the person
    for marks in notice.page_marks:
        last4s_on_page = set(marks.ssn_last4s)
        if last4s_on_page - last4s:
            return False
        shown.append(bool(last4s_on_page & last4s) or name_on_page(
            first, last, marks.name_lines, first_name_at_least=PAGE_FIRST_NAME_AT_LEAST))  # fmt: skip
    return all(own or _between_shown_pages(shown, index) for index, own in enumerate(shown))


def _between_shown_pages(shown: list[bool], index: int) -> bool:
    """One page showing nothing (a payer table, a faded body page) between two pages that show the person is theirs,
    by the argument ``notices.extract._between_own_pages`` makes for an unlabelled inner page: another taxpayer's page
    could sit there only if it had been put inside the letter's paper and OCR had lost every mark on it. Not two such
    pages in a row, where the same taxpayer's next letter, faded, may start. A letter whose pages run past its
    label's end has no marks at all (``notices.page_marks``). Round 30, dev seed 3131 (tuned): scan_0108's payer
    table between two name lines."""
    return 0 < index < len(shown) - 1 and shown[index - 1] and shown[index + 1]
