"""other_dates: dates a scanned letter shows that are not the letter's own, for the unlabelled notice-date guess.

A letter without a readable "Notice date" label is dated by the first date of its header (parse.find_notice_date).
On paper that arrived by fax or through a mail room, other dates stand there first: the fax machine's header line
("FEB 15 2026 15:18 FROM ... P.23"), a fax cover's "Date: 01/17/2026 Time: 17:04", a RECEIVED stamp over the text
("RECEIVED" / "MAY 09 2024"), and sentences of the letter that date something else ("We received your 2023 return
on 4/4/2024", "Interest is computed to Dec. 27, 2023"). Each is later than the notice (a stamp, a fax) or much earlier
(a return), so taken for the notice date it moves the derived response deadline, a legal date.
"""

from __future__ import annotations

import re

# A clock time on the line: a fax header or a cover sheet's transmission time; a letter dates itself without one.
_CLOCK_TIME = re.compile(r"(?<![\d$.,])\d{1,2}:\d{2}(?![\d,])|\bTime\b", re.I)
# A mail room's stamp, however OCR broke the word ("RECE | VED", "RECEIVEO"); its date sits beside it or below it.
_RECEIVED_STAMP = re.compile(r"\bRECE\W{0,3}[I1l|!]?\W{0,3}VE[DO0]\b", re.I)
# A sentence's preposition right before the date: the date of an event the letter talks about, not its own date.
_SENTENCE_BEFORE = re.compile(r"\b(?:on|to|through|since|after|before|until)\s*:?\s*$", re.I)


def is_other_date(text: str, offset: int) -> bool:
    """Whether the date starting at ``offset`` of ``text`` is a fax's, a stamp's or a sentence's, not the letter's."""
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    previous_end = max(line_start - 1, 0)  # the newline ending the line above (none on the first line)
    previous_line = text[text.rfind("\n", 0, previous_end) + 1 : previous_end]
    return bool(_CLOCK_TIME.search(line) or _RECEIVED_STAMP.search(line) or _RECEIVED_STAMP.search(previous_line)
                or _SENTENCE_BEFORE.search(text[max(line_start, offset - 12) : offset]))  # fmt: skip
