"""letter_marks: what tells which letter a page belongs to: its page label and the identifying marks it shows.

Split from extract.py (which reads pages and cuts a file into letters). A page filed with a letter must be known to
be the letter's: a missed letter start once filed another taxpayer's page, with their full SSN, on the wrong case
(held-out seed 90210). These are the pure judgements that guard uses; docs/extraction.md "Pages in doubt".
"""

from __future__ import annotations

import re
from typing import Any

from mailroom.notices.page_fields import TRUSTED_CONFIDENCE
from mailroom.notices.parse import Found
from mailroom.notices.ssn import differ_by_a_misread_zero

# "2 of 3" ends its footer line, but OCR may leave debris after it ("2 of 3 :", "2 of 2 '", "3 of 4 -", a speck
# read as a letter: "3 of 3 a").
_PAGE_LABEL = re.compile(r"(?:\bPage\s*(\d{1,2})(?:\s*of\s*(\d{1,2}))?(?!\d)|(?:^|\s)(\d{1,2})\s+of\s+(\d{1,2})"
                         r"(?=(?:\s+(?:[^\w\s]{1,3}|[^\W\d]))*\s*$))", re.I | re.M)  # fmt: skip
LETTERHEAD = re.compile(r"department\s+of\s+the\s+treasury|internal\s+revenue\s+serv", re.I)

Label = tuple[int, int | None]


def page_label(text: str) -> Label | None:
    """(page number, total or None) from a footer such as "Page 2 of 4", "2 of 4" or "Page 2"."""
    # OCR's "lof 1" / "I of 4" / "Tof2" for "1 of ..."
    text = re.sub(r"(?<![\w])[lI|!T](?=\s*[.,]?\s*of(?:\b|\d))", "1", text)
    text = re.sub(r"\b(Page\s*)[lI|!](?![\w|!])", r"\g<1>1", text)  # "Page |" for "Page 1"
    # OCR's "of" as "0f"/"Of", glued to the numbers or to a speck: "2 0f 4", "40f 4" (4 of 4), "4of4", "1.of 4", "2o0f5"
    text = re.sub(r"(\d)\s*[.,-]?\s*[o0O]{1,2}f\s*(?=\d)", r"\1 of ", text)  # and "2-0f 2"
    for match in _PAGE_LABEL.finditer(text):
        number, total = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        if number and 0 < int(number) <= 40:
            return int(number), int(total) if total else None
    return None


def starts_letter(found: dict[str, Found[Any]], text: str) -> bool:
    labelled = sum(name in found and found[name].confidence >= 0.9
                   for name in ("letter_type", "notice_date", "ssn_last4", "tax_year"))  # fmt: skip
    return labelled >= 2 or (labelled >= 1 and bool(LETTERHEAD.search(text)))


def repeats_marks(found: dict[str, Found[Any]], letter: dict[str, Found[Any]]) -> bool:
    """The page repeats one of the letter's identifying marks, as IRS inner pages and response forms do: its SSN
    last 4 (a masked header, the response form's scan line) or its AUR control number. Not its letter code with its
    notice date: the IRS mails CP2000s in batches dated alike, so a clerk's batch scan can hold several taxpayers'
    letters with the same code and date, and a page vouched for by them could be another taxpayer's (a wrong-case
    filing). Judge ``shows_other_letter`` first."""

    def same(name: str) -> bool:
        seen, own = found.get(name), letter.get(name)
        return seen is not None and own is not None and seen.value == own.value

    return same("ssn_last4") or same("aur_control_number")


def shows_other_letter(found: dict[str, Found[Any]], letter: dict[str, Found[Any]]) -> bool:
    """The page confidently shows another SSN last 4, AUR control number or letter type than the letter's. A last 4
    a 0 look-alike away from the letter's unsure one is the same number read two ways (dev seed 5150: page 1's mask
    read "XxX-Xxx-5393", unsure, pages 2 and 3 and the scan line 5303: the letter was cut after page 1)."""
    for name in ("ssn_last4", "letter_type", "aur_control_number"):
        if surely_differs(found, letter, name):
            own = letter[name]
            misread = (name == "ssn_last4" and own.confidence < TRUSTED_CONFIDENCE
                       and differ_by_a_misread_zero(found[name].value, own.value))  # fmt: skip
            if not misread:
                return True
    return False


def surely_differs(found: dict[str, Found[Any]], letter: dict[str, Found[Any]], name: str) -> bool:
    """The page confidently shows another value of ``name`` than the letter has."""
    seen, own = found.get(name), letter.get(name)
    return seen is not None and own is not None and seen.confidence >= TRUSTED_CONFIDENCE and seen.value != own.value


# What shows a page is (part of) an IRS letter: any taxpayer id, letter code or AUR number, however unsure (a fax
# cover prints none), and a date, tax year or amount only next to its label (a cover's own date read as an
# unlabelled notice date held back 12 of 102 true matches on a development seed).
_LETTER_IDS = ("ssn_last4", "letter_type", "aur_control_number")
_LABELLED_MARKS = ("notice_date", "tax_year", "amount_due")


def letter_marks(found: dict[str, Found[Any]]) -> bool:
    return any(name in found for name in _LETTER_IDS) or any(
        name in found and found[name].confidence >= TRUSTED_CONFIDENCE for name in _LABELLED_MARKS)


def one_letter_by_labels(labels: list[Label | None]) -> bool:
    """Every page of the file is labelled in sequence as one letter of that many pages ("1 of 2", "2 of 2"; a page
    may omit the total). A file where no page reads as a letter's first page is then still one letter."""
    count = len(labels)
    return (all(_in_sequence(label, number, count) for number, label in enumerate(labels, start=1))
            and any(label is not None and label[1] == count for label in labels))  # fmt: skip


def one_letter_by_first_label(labels: list[Label | None], first_page: dict[str, Found[Any]]) -> bool:
    """Page 1 is labelled "1 of N" for a file of N pages and shows an IRS letter's marks, and no later page is
    labelled out of that sequence: the letter says it holds every page, even where damage hid the other labels (dev
    seed 5150: a box too damaged to start a letter, page 2's footer under speckle). A fax cover's "Page 1 of 5"
    shows no such marks."""
    count = len(labels)
    return (labels[0] == (1, count) and letter_marks(first_page)
            and all(label is None or _in_sequence(label, number, count)
                    for number, label in enumerate(labels[1:], start=2)))  # fmt: skip


def one_letter_in_sequence(labels: list[Label | None], first_page: dict[str, Found[Any]]) -> bool:
    """Every page is labelled with its own place in one letter ("Page 1", "Page 2", ...; totals, where read, the
    file's length) and page 1 shows an IRS letter's marks: a second letter would start again at page 1."""
    count = len(labels)
    return letter_marks(first_page) and all(_in_sequence(label, number, count)
                                            for number, label in enumerate(labels, start=1))  # fmt: skip


def _in_sequence(label: Label | None, number: int, count: int) -> bool:
    """The label names page ``number`` of a letter of ``count`` pages (or of no stated total)."""
    return label is not None and label[0] == number and label[1] in (None, count)
