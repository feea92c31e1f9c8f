"""Field parsers over the text of a notice (text layer or OCR).

Each parser returns a ``Found`` (value + confidence) or None. Labels are searched first (the IRS prints "Notice date",
"Tax year", "Amount due" next to their values); unlabelled patterns are a lower-confidence fallback. Parsers never
return or raise anything that contains a full SSN: ``find_ssn_last4`` reads the number and keeps only the last four.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Generic, TypeVar

from rapidfuzz.distance import Levenshtein

from mailroom.notices.date_repairs import repaired_date_text
from mailroom.notices.model import LetterType
from mailroom.notices.other_dates import is_other_date

T = TypeVar("T")


@dataclass(frozen=True)
class Found(Generic[T]):
    value: T
    confidence: float


MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip

_MONTH_WORD = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# "October 14, 2025", "Oct. 14, 2025", "Oct 14 2025", "14 October 2025" (rare, foreign-address notices)
# (OCR may put a comma after the month: "Jun, 3, 2025")
_DATE_WORDS = re.compile(rf"\b({_MONTH_WORD}),?\s*(\d{{1,2}})\s*[,.]?\s*((?:19|20)\d\d)\b", re.I)
_DATE_WORDS_DMY = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_WORD})\s*,?\s*((?:19|20)\d\d)\b", re.I)
# "10/14/2025", "10-14-2025", "10.14.2025"; 2-digit years are not used on notices and would be ambiguous.
# A hyphen before the month is part of a longer number ("2024-10-14-2025"), unless a label's colon precedes it
# ("Notice Date:-02/02/2026", OCR's reading of a speck).
_DATE_NUMERIC = re.compile(r"(?<![\d/.])(?<!\d-)(\d{1,2})\s?[/.-]\s?(\d{1,2})\s?[/.-]\s?((?:19|20)\d\d)(?![\d/])")


def normalize_text(text: str) -> str:
    """Unify whitespace and the characters OCR and PDF generators vary on, keeping line breaks."""
    text = text.replace("\u00a0", " ").replace("\u2013", "-").replace("\u2014", "-").replace("\u2011", "-")
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\ufb01", "fi").replace("\ufb02", "fl")
    text = re.sub(r"[ \t\f\v]+", " ", text)
    return "\n".join(line.strip() for line in text.splitlines())


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_number(word: str) -> int | None:
    return MONTHS.get(word.lower().rstrip(".")[:3])


def parse_date(text: str) -> date | None:
    """The first date in ``text`` in any of the forms notices use."""
    found = _dates_in(text)
    return found[0][1] if found else None


def _dates_in(text: str) -> list[tuple[int, date]]:
    """Every date in ``text`` as (offset, date), in reading order."""
    return [(start, value) for start, _, value in date_spans(text)]


def date_spans(text: str) -> list[tuple[int, int, date]]:
    """Every date in ``text`` as (start, end, date), in reading order."""
    hits: list[tuple[int, int, date]] = []
    for match in _DATE_WORDS.finditer(text):
        month = _month_number(match.group(1))
        parsed = month and _make_date(int(match.group(3)), month, int(match.group(2)))
        if parsed:
            hits.append((match.start(), match.end(), parsed))
    for match in _DATE_WORDS_DMY.finditer(text):
        month = _month_number(match.group(2))
        parsed = month and _make_date(int(match.group(3)), month, int(match.group(1)))
        if parsed:
            hits.append((match.start(), match.end(), parsed))
    for match in _DATE_NUMERIC.finditer(text):
        parsed = _make_date(int(match.group(3)), int(match.group(1)), int(match.group(2)))
        if parsed:
            hits.append((match.start(), match.end(), parsed))
    return sorted(hits, key=lambda hit: hit[0])


# Characters Tesseract confuses in label words ("AUR contro! number", "N0tice date"): a label letter also matches its
# look-alikes, so one misread character does not hide a labelled value.
_OCR_LOOKALIKES = {"l": "[l1I!|]", "i": "[il1!|]", "o": "[o0]", "s": "[s5]", "b": "[b8]"}
# A label word this long may also have one letter misread as any other, or lost ("Social segurity number", "Contro1
# numbe", "Notiee date"): on dev seeds 4242/5150 (tuned) 3 more AUR numbers, a tax year and a due date read, one
# more true match, and one AUR number misread (unsure). Shorter words ("SSN", "date", "by") stay exact: one letter
# off, they are other words.
_FUZZY_WORD_LENGTH = 6


def _fuzzy_word(word: str) -> str:
    chars = [_OCR_LOOKALIKES.get(char.lower(), re.escape(char)) for char in word]
    if len(word) < _FUZZY_WORD_LENGTH:
        return "".join(chars)
    one_off = ["".join(chars[:i] + [r"[^\s\d]?"] + chars[i + 1 :]) for i in range(len(chars))]
    return "(?:" + "|".join(["".join(chars), *one_off]) + ")"


_LABEL_GAP = r"(?:\s+[.,\-]?\s*|[.,\-]\s*)"


@lru_cache(maxsize=128)
def _label_pattern(labels: tuple[str, ...]) -> re.Pattern[str]:
    # Labels are matched with flexible whitespace (OCR and text layers break lines and double spaces differently).
    # OCR also reads the space between label words as a period, a comma or a hyphen ("Tax.period", "Amount you -owe",
    # "AUR Control, No.").
    alternatives = "|".join(_LABEL_GAP.join(map(_fuzzy_word, label.split())) for label in labels)
    return re.compile(rf"(?:{alternatives})", re.I)


def label_pattern(labels: tuple[str, ...]) -> re.Pattern[str]:
    return _label_pattern(labels)


def after_labels(text: str, labels: tuple[str, ...], window: int) -> list[str]:
    """The text right after each occurrence of any label, up to ``window`` characters."""
    return [text[m.end() : m.end() + window] for m in _label_pattern(labels).finditer(text)]


NOTICE_DATE_LABELS = ("notice date", "date of this notice", "date of this letter", "letter date")
DUE_DATE_LABELS = (
    "response due date", "respond by", "reply by", "response date", "pay by", "payment due date",
    "last day to file a petition with the united states tax court", "last day to petition the tax court",
    "last date to petition tax court", "last day to petition", "last date to petition", "due date",
)  # fmt: skip


REPAIRED_DATE_CONFIDENCE = 0.85


def find_labelled_date(text: str, labels: tuple[str, ...], *, window: int = 60) -> Found[date] | None:
    for label in _label_pattern(labels).finditer(text):
        snippet = text[label.end() : label.end() + window]
        dates = _dates_in(snippet)
        confidence = 0.97
        if not dates or dates[0][0] > 25:  # none beside the label: a later one in the window is another field's
            dates, confidence = _dates_in(repaired_date_text(snippet)), REPAIRED_DATE_CONFIDENCE
        if not dates or dates[0][0] > 25:  # the value sits next to its label, not a sentence later
            continue
        if "\n" in snippet[: dates[0][0]] and not _alone_on_line(text, label):
            # a row of box labels over a row of values: the date below this label may be another column's (the
            # tax period's end); such rows are paired by column (layout.table_pairs, rows.header_row_pairs)
            continue
        return Found(dates[0][1], confidence)
    return None


def _alone_on_line(text: str, label: re.Match[str]) -> bool:
    start = text.rfind("\n", 0, label.start()) + 1
    end = text.find("\n", label.end())
    line = text[start : end if end >= 0 else len(text)]
    return not re.search(r"\w", line[: label.start() - start] + line[label.end() - start :].rstrip(" :.")[:]) 


def find_notice_date(text: str) -> Found[date] | None:
    labelled = find_labelled_date(text, NOTICE_DATE_LABELS)
    if labelled:
        return labelled
    # Letters without a "Notice date" label print their date first in the header; dates that carry another label
    # (respond by, tax period) are not it. A guess: lower confidence than a dated file name.
    header = text[:1500]
    dates = _dates_in(header)
    taken = set()
    for label in _label_pattern(DUE_DATE_LABELS + TAX_YEAR_LABELS).finditer(header):
        following = [offset for offset, _ in dates if 0 <= offset - label.end() <= 25]
        taken.update(following[:1])
    # the deadline of a sentence ("If you don't pay $334.44 by 7/19/2023") is not the notice's date either
    for pattern in (_DEADLINE_SENTENCE, _UNTIL_THEN_ACT):
        taken.update(offset for match in pattern.finditer(header) for offset, _ in dates
                     if 0 <= offset - match.end() <= 2)
    # A date another label or a deadline claims is never the letter's own, wherever else it shows: a box row read by
    # value type repeats ". form by Aug. 27, 2025" without the verb that made it a deadline (dev seed 9191, round 17).
    claimed = {value for offset, value in dates if offset in taken}
    # nor a tax period's end (a box that prints "Tax year ending" over "December 31, 2024", its label lost to OCR),
    # nor a fax's, a stamp's or a sentence's date (other_dates.py)
    return next((Found(value, 0.55) for offset, value in dates
                 if offset not in taken and value not in claimed and (value.month, value.day) != (12, 31)
                 and not is_other_date(header, offset)), None)


# Letters also say when to answer in a sentence: "Send us your response by ...", "If you don't pay $704.77 by ...",
# "Request it by ...", "You have until ... to file a petition". A date after "by"/"until" in a sentence that asks the
# taxpayer to act is the deadline; dates of other sentences (return received, interest computed to) are not.
_ACT = r"(?:respond|reply|response|return|pay|payment|request|send|petition|file|hearing|contact)"
_DEADLINE_SENTENCE = re.compile(rf"\b{_ACT}\w*\b(?:[^.\n]|(?<=\d)\.(?=\d)){{0,70}}?\b(?:by|until)\b\s*:?\s*", re.I)
_UNTIL_THEN_ACT = re.compile(rf"\byou have until\s+", re.I)


def find_response_due_date(text: str) -> Found[date] | None:
    labelled = find_labelled_date(text, DUE_DATE_LABELS, window=80)
    if labelled:
        return labelled
    for pattern in (_DEADLINE_SENTENCE, _UNTIL_THEN_ACT):
        for match in pattern.finditer(text):
            dates = _dates_in(text[match.end() : match.end() + 30])
            if dates and dates[0][0] <= 2:
                return Found(dates[0][1], 0.93)
    return None


_LETTER_CODES = {
    "CP2000": LetterType.CP2000, "CP2501": LetterType.CP2501, "CP3219A": LetterType.CP3219A,
    "CP504": LetterType.CP504, "LT11": LetterType.LT11, "L11": LetterType.LT11,
}  # fmt: skip
# "CP2000", "CP 2000", "CP-2000", "LT11", "Letter 11"; OCR sometimes reads the 0s of CP2000 as O.
_LETTER_CODE = re.compile(r"\b(CP|LT|L)\s?-?\s?([0-9OlI|]{2,4}[A-Z]?)(?![\w|])", re.I)
_CODE_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"})
# The code of a form's own footer, however OCR spelt it ("LTl11 (Rev. 6-2021)", "CP20O0O (Rev."): one edit from a
# known code is that code, unsure (0.85).
_CODE_BEFORE_REVISION = re.compile(r"\b((?:CP|LT)[\w|\]\[]{1,6})\s?[(\[{]?\s?Rev\b", re.I)
_LETTER_LABEL = re.compile(r"\b(?:notice|letter|notice number|form)\s*:?\s*$", re.I)
# A form names itself at its foot: "CP2000 (Rev. 6-2021)", "Letter LT11 (Rev. 01-2022)"; a notice mentioned in the
# text never carries a revision.
_REVISION_AFTER = re.compile(r"^\s?[(\[{]?\s?Rev\b", re.I)


def find_letter_type(text: str) -> Found[LetterType] | None:
    """The notice's code: labelled ("Notice CP2000") beats the most frequent code, which beats nothing."""
    counts: dict[LetterType, int] = {}
    for match in _LETTER_CODE.finditer(text):
        if not any(ch.isdigit() for ch in match.group(2)):
            continue  # a word ("Lil", "LOI"), not a code with a look-alike or two
        code = (match.group(1) + match.group(2).translate(_CODE_DIGIT_LOOKALIKES)).upper()
        letter = _LETTER_CODES.get(code)
        if letter is None:
            continue
        if _LETTER_LABEL.search(text[max(0, match.start() - 20) : match.start()]):
            return Found(letter, 0.98)
        if _REVISION_AFTER.match(text[match.end() : match.end() + 8]):
            return Found(letter, 0.95)
        counts[letter] = counts.get(letter, 0) + 1
    if not counts:
        return _misspelt_form_code(text)
    best = max(counts, key=lambda letter: counts[letter])
    return Found(best, 0.8 if len(counts) == 1 else 0.6)


def _misspelt_form_code(text: str) -> Found[LetterType] | None:
    for match in _CODE_BEFORE_REVISION.finditer(text):
        spelt = match.group(1).upper().translate(_CODE_DIGIT_LOOKALIKES)
        distances = {code: Levenshtein.distance(spelt, code) for code in _LETTER_CODES}
        best = min(distances.values())
        letters = {_LETTER_CODES[code] for code, distance in distances.items() if distance == best}
        if best <= 1 and len(letters) == 1:
            return Found(letters.pop(), 0.85)
    return None


_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")
TAX_YEAR_LABELS = ("tax year ending", "tax period ending", "tax year", "tax period", "tax years", "for tax year",
                   "tax form")


_PERIOD_END = re.compile(r"(?<![\d/])12\s?/\s?31\s?/\s?((?:19|20)\d\d)\b|\bdec[a-z]*\.?\s*31\s*,?\s*((?:19|20)\d\d)\b", re.I)


# The letter names its year in sentences too ("Proposed changes to your 2023 tax return", "your 2022 Form 1040",
# "The total increase in tax for 2022 is", "records for 2022"): when the box's year is unreadable, one year named by
# all such sentences is the tax year (below trusted: it keeps OCR looking for the box on later pages).
_YEAR_SENTENCE = re.compile(
    r"\byour\s+((?:19|20)\d\d)\s+(?:tax\s+return|form\s+10\d\d|return)\b|\btax\s+for\s+((?:19|20)\d\d)\b"
    r"|\brecords\s+for\s+((?:19|20)\d\d)\b", re.I)


def find_tax_year(text: str) -> Found[int] | None:
    found = _labelled_tax_year(text)
    if found:
        return found
    # "Form  Tax period        Amount you owe" over "1040  12/31/2022   $662.51": the period's end in the row below
    for snippet in after_labels(text, ("tax period", "tax year ending"), 90):
        end = _PERIOD_END.search(snippet)
        if end:
            return Found(int(end.group(1) or end.group(2)), 0.9)
    named = {int(next(group for group in match.groups() if group)) for match in _YEAR_SENTENCE.finditer(text)}
    if len(named) == 1:
        return Found(named.pop(), 0.85)
    return None


def _labelled_tax_year(text: str) -> Found[int] | None:
    for snippet in after_labels(text, TAX_YEAR_LABELS, 40):
        snippet = re.sub(r"^\s*(?:ending|ended)?\s*:?", " ", snippet, flags=re.I)
        # "Tax period: December 31, 2023" and "Tax year 2023" both name the year last in the snippet's first date/number
        dates = _dates_in(snippet[:30])
        if dates and dates[0][0] <= 6:
            return Found(dates[0][1].year, 0.95)
        year = _YEAR.search(snippet[:12])
        if year:
            return Found(int(year.group(1)), 0.97)
    return None


_AMOUNT = re.compile(r"-?\$?\s?(\d{1,3}(?:,\d{3})+|\d+)(\.\d{2})?\b")
AMOUNT_LABELS = (
    "amount due immediately", "total amount you owe", "total amount due", "proposed amount due",
    "proposed balance due", "total balance due", "amount you now owe", "amount due", "amount you owe",
    "balance due", "pay this amount",
)  # fmt: skip


def parse_amount(text: str) -> Decimal | None:
    match = _AMOUNT.search(text)
    if not match:
        return None
    try:
        return Decimal(match.group(1).replace(",", "") + (match.group(2) or ""))
    except InvalidOperation:
        return None


_MONEY_AFTER_LABEL = re.compile(r"^[\s:.]*(?:is\s+)?[$S§]\s?([0-9][0-9, .]*[0-9])")
# A stamp's or a speck's debris between the label and a whole amount on its line ("Amount due WED $1,052.27",
# "Total amount you owe a : : $9,897.50", "balance due ; $147.15"): no digit and no word of 4 letters in it (a
# sentence is no debris), the amount dollars and cents as printed. Dev seed 4242 (tuned): 7 of 13 abstained amounts.
_MONEY_PAST_DEBRIS = re.compile(r"^([^\d\n$§]{1,14}?)[$§]\s?(\d{1,3}(?:,\d{3})*\.\d{2})(?![\d,])")
_CENTS = re.compile(r"^(.*?)[ .,](\d{2})$")


def _money(raw: str) -> tuple[Decimal, bool] | None:
    """"1,234.56" -> 1234.56; OCR damage ("25,481 63", "1 9,708.97") repaired and reported as such."""
    raw = raw.strip(" .,")
    canonical_start = re.match(r"(?:\d{1,3}(?:,\d{3})+|\d+)\.\d{2}(?!\d)", raw)
    if canonical_start:  # "1,234.56 10/10/2025": the amount is complete, what follows is something else
        return Decimal(canonical_start.group(0).replace(",", "")), False
    cents = _CENTS.match(raw)
    whole, fraction = (cents.group(1), cents.group(2)) if cents else (raw, "00")
    clean = whole.replace(",", "").replace(" ", "").replace(".", "")
    if not clean.isdigit():
        return None
    canonical = re.fullmatch(r"\d{1,3}(?:,\d{3})*\.\d{2}|\d+\.\d{2}|\d{1,3}(?:,\d{3})*|\d+", raw) is not None
    return Decimal(f"{int(clean)}.{fraction}"), not canonical


def _well_grouped(whole: str) -> bool:
    """After the first group, digit groups split by OCR spaces or commas hold exactly three digits."""
    groups = re.split(r"[ ,]", whole)
    return all(len(group) == 3 for group in groups[1:])


# "Form   Tax period   Amount you owe" over "1040   12/31/2020   $516.10": a table header whose last column is the
# amount; the amount is the last cell of the row below.
_ROW_BELOW_MONEY = re.compile(r"[ \t.:]*\n[^\n]*?[$S§]\s?(\d{1,3}(?:,\d{3})+\.\d{2}|\d+\.\d{2})[ \t.:]*(?:\n|$)")


_COLUMN_HEADS = re.compile(r"^(?:form|tax[\s.\-]+(?:period|year)|period)\b", re.I)


def find_amount_due(text: str) -> Found[Decimal] | None:
    for match in _label_pattern(AMOUNT_LABELS).finditer(text):
        header = text[text.rfind("\n", 0, match.start()) + 1 : match.start()]
        below = _ROW_BELOW_MONEY.match(text, match.end())
        if below and _COLUMN_HEADS.search(header) and "$" not in header:  # a table's header row, not a sentence
            return Found(Decimal(below.group(1).replace(",", "")), 0.95)
    past_debris: Found[Decimal] | None = None
    for snippet in after_labels(text, AMOUNT_LABELS, 40):
        money = _MONEY_AFTER_LABEL.match(snippet.split("\n", 1)[0] if snippet.strip() else snippet)
        if not money:
            money = _MONEY_AFTER_LABEL.match(snippet)  # the value on the next line ("Amount due\n$1,234.56")
        debris = None if money else _MONEY_PAST_DEBRIS.match(snippet)
        if debris and not re.search(r"[A-Za-z]{4}", debris.group(1)) and past_debris is None:
            past_debris = Found(Decimal(debris.group(2).replace(",", "")), 0.9)
        parsed = _money(money.group(1)) if money else None
        if parsed:
            value, repaired = parsed
            if not repaired:
                return Found(value, 0.97)
            # "21 5523.60" (a comma read as " 5") cannot be repaired reliably: a guess another page may overrule
            whole = _CENTS.match(money.group(1).strip(" .,"))
            return Found(value, 0.85 if _well_grouped(whole.group(1) if whole else money.group(1)) else 0.6)
    return past_debris
