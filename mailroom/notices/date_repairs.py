"""date_repairs: the OCR damage a printed date beside its label is repaired from (month name, year), split from
parse.py. Used only beside a date label, and a date read from the repaired text is unsure
(``parse.REPAIRED_DATE_CONFIDENCE``)."""

from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein

# A month's name with one letter misread or lost where its first three letters are ("QCTOBER 13, 2025", "0CTOBER"):
# repaired only beside a label, and then unsure. Names of 5 letters or more: one letter off JUNE is JULY.
_MONTH_NAMES = ("JANUARY", "FEBRUARY", "MARCH", "APRIL", "AUGUST", "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER")


def _months_repaired(snippet: str) -> str:
    def month(word: re.Match[str]) -> str:
        upper = word.group(0).upper()
        near = [name for name in _MONTH_NAMES if Levenshtein.distance(upper, name, score_cutoff=1) <= 1]
        return near[0] if len(near) == 1 else word.group(0)

    return re.sub(r"\b[A-Za-z0-9]{4,10}\b(?=[.,]?\s*\d{1,2}\b)", month, snippet)


# A year whose 0 OCR read as 6, 8 or 9 ("11/25/2624"): repaired only beside a label, and then unsure.
_YEAR_LOOKALIKE = re.compile(r"(?<=[/.\-, ])2[689](\d\d)\b")
# A year with a speck read as one more digit ("April 24, 20924", dev seed 3131): repaired when exactly one of the
# years left by dropping a digit is a plausible notice year.
_YEAR_WITH_SPECK = re.compile(r"(?<=[/.\-, ])(2\d{4})\b")
_PLAUSIBLE_YEARS = range(2010, 2040)


def _speck_years_repaired(snippet: str) -> str:
    def year(match: re.Match[str]) -> str:
        digits = match.group(1)
        years = {digits[:i] + digits[i + 1 :] for i in range(len(digits))}
        plausible = [y for y in years if int(y) in _PLAUSIBLE_YEARS]
        return plausible[0] if len(plausible) == 1 else digits

    return _YEAR_WITH_SPECK.sub(year, snippet)


# A speck or a stamp's edge read as a symbol between the month and the day ("JUL « 23, 2025", dev seed 9191).
_SPECK_AFTER_MONTH = re.compile(r"\b([A-Za-z]{3,9}\.?)\s*[^\w\s,.]{1,2}\s*(?=\d{1,2}\b)")


def repaired_date_text(snippet: str) -> str:
    """``snippet`` (the text after a date label) with a misread year and month name set right where only one
    reading fits, and a speck between month and day dropped."""
    repaired = _SPECK_AFTER_MONTH.sub(r"\1 ", snippet)
    return _months_repaired(_speck_years_repaired(_YEAR_LOOKALIKE.sub(r"20\1", repaired)))
