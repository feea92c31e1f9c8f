"""page_marks: what each page of a letter in doubt shows of its taxpayer, for the matcher to vouch for the pages.

A letter's pages are in doubt when the reader cannot tell that each is the letter's (extract.py, first_pages.py): a
page without a readable label that repeats none of its marks, or a file where no page reads as a first page. Such a
letter goes to review even when its case is right, because a missed letter start would put another taxpayer's page
on the case. Yet a page may still show who it belongs to: the name in its address block or on its response form, the
last 4 in its header. Once the CRM has confirmed that name and last 4 as one person (the match), a page showing
either is that person's (mailroom/pages_vouched.py). What was read already is used first; a scanned page that shows
nothing in it has its top band read again through the second looks' cleanups (``second_looks.CLEANUPS``, in turn,
until one shows the letter's own last 4, or its first name and surname; at most ``CLOSER_READS`` per letter): a
faded header's last 4 comes back under a median and binarising, or with its faint ink darkened (round 28, six seeds'
OCR, tuned: 3 true matches held in doubt were vouched for). Such reads cost OCR only for letters in doubt.

Held-out seed 75025 (spent, round 25): 2-page letters whose page 1 showed the name (a stamp over the box) and page 2
the last 4 in its header or on its response form, both labels lost to speckle and fading, went to review as "none of
the 2 pages reads as the first page of a letter"; with six more on other seeds, 8 true matches (tuned).
"""

from __future__ import annotations

from mailroom.notices.letter import Letter
from mailroom.notices.layout import PageLayout
from mailroom.notices.letter_marks import shows_other_letter, surely_differs
from mailroom.notices.loose_names import loose_name_lines
from mailroom.notices.model import ExtractionError, ExtractionFailure, PageMarks
from mailroom.notices.names import name_letters
from mailroom.notices.page_fields import parse_layout
from mailroom.notices.pages import Pages
from mailroom.notices.second_looks import CLEANUPS

CLOSER_READS = 8  # a 4-page letter's three unmarked pages, two or three cleanups each (~0.35 s a read)


def marks_of_pages(pages: Pages, letter: Letter) -> list[PageMarks]:
    """One ``PageMarks`` per page of the letter (``letter.first`` .. ``letter.last``) when it is in doubt; none when
    it is not, or when a page shows another letter's marks (another last 4, letter code, AUR number, tax year or
    notice date, read surely): no name on the other pages can vouch for such a file. None either for a letter whose
    pages run past the end its label gave (``Letter.past_its_end``): the same taxpayer's next letter, its first page
    faded, would show their name on its response form, and its deadline would be lost inside this letter."""
    if letter.doubt is None or letter.past_its_end:
        return []
    marks: list[PageMarks] = []
    closer_reads = CLOSER_READS
    for index in range(letter.first, letter.last + 1):
        shown = _shown(letter, _layouts_read(pages, index))
        for clean in CLEANUPS if pages.scanned(index) else ():
            if shown is None or _shows_own(letter, *shown) or not closer_reads:
                break
            try:
                layout = pages.band_cleaned(index, "top", clean)
            except ExtractionError as error:
                if error.failure is not ExtractionFailure.TIMEOUT:
                    raise
                closer_reads = 0  # the file's time is spent: its letters stay in doubt rather than the file failing
                break
            if layout is not None:  # None: nothing for this cleanup to take out, or no top band read
                closer_reads -= 1
                more = _shown(letter, [layout], dates=("tax_year",))
                shown = None if more is None else (shown[0] + more[0], shown[1] + more[1])
        if shown is None:
            return []
        last4s, lines = shown
        marks.append(PageMarks(page=index + 1, ssn_last4s=list(dict.fromkeys(last4s))[:8],
                               name_lines=list(dict.fromkeys(lines))[:12]))  # fmt: skip
    return marks


def _shown(letter: Letter, layouts: list[PageLayout],
           dates: tuple[str, ...] = ("tax_year", "notice_date")) -> tuple[list[str], list[str]] | None:  # fmt: skip
    """The last 4s and name lines the reads of a page show; None when one shows another letter's marks or surely
    prints another of ``dates`` than the letter's: the same taxpayer's other letter (a CP2000 for another year, its
    follow-up) shows their name and last 4 too, and would be filed inside this one. A closer read compares the tax
    year only: a cleanup misread a digit of the notice date on 2 of 3 pages it read a last 4 or name on (seed 75025,
    "APRIL 4" for "APRIL 1"), and another letter of the same year and code is no other taxpayer's."""
    last4s: list[str] = []
    lines: list[str] = []
    for layout in layouts:
        found, block = parse_layout(layout)
        if shows_other_letter(found, letter.found) or any(surely_differs(found, letter.found, name) for name in dates):
            return None
        if "ssn_last4" in found:
            last4s.append(found["ssn_last4"].value)
        if block is not None:
            lines += block.lines
        lines += loose_name_lines(layout)
    return last4s, lines


def _shows_own(letter: Letter, last4s: list[str], lines: list[str]) -> bool:
    """The page shows the letter's own last 4, or its taxpayer's first name and surname on a name line (the matcher
    still checks the name against the case; this only ends the closer reads: "RIMBERLY ADAMS" did not)."""
    own = letter.found.get("ssn_last4")
    if own is not None and own.value in last4s:
        return True
    names = (letter.found.get(name) for name in ("taxpayer_first_name", "taxpayer_last_name"))
    wanted = [name_letters(str(name.value)) for name in names if name is not None]
    return bool(wanted) and any(all(part in name_letters(line) for part in wanted) for line in lines)


def _layouts_read(pages: Pages, index: int) -> list[PageLayout]:
    """The page's text layer, or the bands of it OCR'd so far (the head band is the top band when both were read)."""
    layer = pages.layers.get(index)
    if layer is not None:
        return [layer]
    read = [layout for (page, _), layout in list(pages.bands.items()) if page == index]
    return list({id(layout): layout for layout in read}.values())
