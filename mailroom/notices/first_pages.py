"""first_pages: the pages before the first letter a file's pages start: the letter's own first pages (claimed by it),
a letter of their own whose start was missed, or a cover or separator sheet.

Split from extract.py. A page before the first letter that shows a letter's marks was once joined to that letter and
put it in doubt, so a clean letter went to review with the pages before it (dev seeds 5150 and 3131: a two-letter
file whose first letter's box was lost sent both letters to review). A file no page of which reads as a first page
is one letter when its labels say so (``one_letter_in_file``), after a first page that is a cover sheet (round 29).
See docs/extraction.md "Pages in doubt".
"""

from __future__ import annotations

from typing import Any

from mailroom.notices.letter import Letter
from mailroom.notices.letter_marks import (
    LETTERHEAD,
    letter_marks,
    one_letter_by_first_label,
    one_letter_by_labels,
    one_letter_in_sequence,
    repeats_marks,
    shows_other_letter,
)
from mailroom.notices.page_fields import parse_layout
from mailroom.notices.pages import Pages
from mailroom.notices.parse import Found


def claim_first_pages(pages: Pages, letter: Letter, before: list[Letter]) -> None:
    """A first page whose box OCR could not read starts no letter, and the letter is found one page later, where the
    header of later pages repeats the box. When that page is labelled page k and the k-1 pages before it are labelled
    1 .. k-1 and show no other letter's marks, they are the letter's first pages, not a cover (development seed 4242:
    3 letters held as "a page before the first letter shows a letter's marks"). A claimed page's label may come from
    its footer read closer ("Page t" read again as "Page 1", round 13): such a page starts no letter and shows no
    other letter's marks, which is where a closer read may vouch (``Pages.label_read_closer``). An unlabelled start
    whose next page is labelled "k of N" claims the pages that label puts before it (``_claim_by_next_label``)."""
    label = pages.label(letter.first)
    if label is None:
        _claim_by_next_label(pages, letter, before)
        return
    if not 2 <= label[0] <= len(before) + 1:
        return
    claimed = before[len(before) - (label[0] - 1) :]
    for number, page in enumerate(claimed, start=1):
        seen = pages.label(page.first) or pages.label_read_closer(page.first)
        if seen is None or seen[0] != number or (seen[1] and label[1] and seen[1] != label[1]):
            return
        if shows_other_letter(page.found, letter.found):
            return
    _claim(pages, letter, claimed)


def _claim_by_next_label(pages: Pages, letter: Letter, before: list[Letter]) -> None:
    """The letter's start, unlabelled, is followed by a page labelled "k of N" with k past 2: the k-2 pages before the
    start are the letter's first pages (dev seed 3131: page 1's box under a stamp, page 2 started the letter with its
    header and an unreadable label, page 3 read "3 of 4"; page 1 was held as a page before the letter with its marks).
    Before the first letter nothing but a cover can sit there, and a cover is filed with the first letter anyway; a
    page showing another letter's marks, or labelled out of that sequence, is not claimed."""
    if letter.first + 1 >= pages.document.page_count:
        return
    label = pages.label(letter.first + 1)
    if label is None or label[1] is None or not 3 <= label[0] <= len(before) + 2:
        return
    claimed = before[len(before) - (label[0] - 2) :]
    for number, page in enumerate(claimed, start=1):
        seen = pages.label(page.first)
        if (seen is not None and (seen[0] != number or seen[1] not in (None, label[1]))
                or shows_other_letter(page.found, letter.found)):  # fmt: skip
            return
    _claim(pages, letter, claimed)


def _claim(pages: Pages, letter: Letter, claimed: list[Letter]) -> None:
    for page in claimed:
        letter.add(page.found, page.block, pages.source(page.first))
    letter.first = claimed[0].first


def labelled_first(pages: Pages, letters: list[Letter], index: int, found: dict[str, Found[Any]]) -> bool:
    """After a letter, a page labelled page 1 ("1 of 2") starts the next letter even when its box read nothing that
    starts one: joined to the letter before, it put that letter in doubt and sent it to review (dev seed 5150, two
    letters in one file, page 2's box under a stamp). Before the first letter a label alone is no such evidence: a fax
    cover prints "Page 1 of 5" in its header. There the page must show a letter's marks and the next page be labelled
    page 2 of the same total, showing none of another letter's marks (seed 44917, round 13: a letter whose page 1 box
    was unread, "1 of 4" then "2 of 4", was taken for pages before the file's second letter, and both went to review in
    doubt)."""
    label = pages.label(index)
    if letters:
        return label is not None and label[0] == 1
    if label is None or label[0] != 1 or label[1] is None or not letter_marks(found):
        return False
    if index + 1 >= pages.document.page_count or pages.label(index + 1) != (2, label[1]):
        return False
    return not shows_other_letter(found, parse_layout(pages.band(index + 1, "top"))[0])


def early_letter(pages: Pages, first: Letter, before: list[Letter], marked: int) -> Letter | None:
    """The pages before the first letter, from the first that shows a letter's marks (``marked``), as a letter of
    their own whose start OCR missed, filed apart from the letter after them, which they no longer put in doubt. Its
    own pages are in doubt unless their labels, read closer where the footers gave none, run 1 .. N from the marked
    page (dev seed 3131: a fax cover, then four faded pages read closer as "1" to "4", then a second letter); a cover
    before the marked page goes with it, as with any first letter. None, and the pages stay with the letter after
    them, in doubt, when they may be that letter's own: they repeat its SSN last 4 or AUR number (the same
    taxpayer's letter, or another of theirs), or its labels say pages come before it ("2 of 2" on its first page)."""
    if _pages_before(pages, first):
        return None
    letter = Letter(before[0].first)
    for page in before:
        letter.add(page.found, page.block, pages.source(page.first))
    if repeats_marks(letter.found, first.found):
        return None
    letter.last = before[-1].first
    own = [page for page in before if page.first >= marked]
    labels = [pages.label(page.first) or pages.label_read_closer(page.first) for page in own]
    if not one_letter_in_sequence(labels, own[0].found):
        span = f"page {marked + 1} shows" if marked == letter.last else f"pages {marked + 1}-{letter.last + 1} show"
        letter.doubt_about(f"{span} a letter's marks before the first letter found, and no letter starts there")
    return letter


def _pages_before(pages: Pages, letter: Letter) -> bool:
    """The letter's labels put pages before its first: "k of N" on it with k past 1, or on the next page past 2."""
    label = pages.label(letter.first)
    if label is None and letter.first + 1 < pages.document.page_count:
        following = pages.label(letter.first + 1)
        return following is not None and following[0] >= 3
    return label is not None and label[0] >= 2


def one_letter_in_file(pages: Pages, count: int) -> bool:
    """A file where no page reads as a letter's first page is one letter when its labels say so (letter_marks.py).
    Labels the footers did not give may come from the footers read closer, but only to complete a sequence 1 .. N
    that page 1's marks begin: a second letter would start again at 1 (dev seed 5150, tuned: "Page 1", "Page 2",
    "Page 3" without totals, and page 4's label read only closer). A first page that is a cover sheet
    (``_cover_sheet``) is filed with the letter, as a cover before a letter found is (extract.py), and the pages after
    it are judged alone; one page is one letter (round 29, seeds 3131 and 121393, tuned: a fax cover, then a one-page
    letter whose stamped box started nothing, went to review although page 2 showed the taxpayer's name)."""
    first_page = parse_layout(pages.band(0, "top"))[0]
    start = 1 if _cover_sheet(pages, first_page) else 0
    if count - start == 1:
        return True
    labels = [pages.label(index) for index in range(start, count)]
    if start:
        first_page = parse_layout(pages.band(start, "top"))[0]
    if one_letter_by_labels(labels) or one_letter_by_first_label(labels, first_page):
        return True
    filled = [label or pages.label_read_closer(index) for index, label in enumerate(labels, start=start)]
    return one_letter_in_sequence(filled, first_page)


def _cover_sheet(pages: Pages, found: dict[str, Found[Any]]) -> bool:
    """The file's first page shows nothing of an IRS letter: no page label, no letterhead, none of a letter's marks
    (``letter_marks``: no SSN last 4, code or AUR number however unsure; no date, tax year or amount by its label).
    A letter's page 1 whose every mark OCR lost is taken for one too, and is then filed with its own letter, where it
    belongs (three 2-page files of one letter, faded: spent seeds 514229 and 75025). Another taxpayer's page read as
    blank as that would be filed with the letter too, as before a letter found. ``found``: what its top band shows."""
    return pages.label(0) is None and not LETTERHEAD.search(pages.band(0, "top").text) and not letter_marks(found)
