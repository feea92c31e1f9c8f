"""Taxpayer identification numbers: read the number, keep only its last four digits.

The full number exists only inside ``find_ssn_last4``'s local variables. The old extractor's two bugs are the reason
for the rules here: it rejected valid ITINs (9xx numbers) and read AUR control numbers (87139-0114) as SSNs. An
SSN-shaped match must use the same separator in both places ("123-45-6789", "123 45 6789", or, next to a label,
"123456789"), so "87139-0114" (5-4) can never be re-split as 871-39-0114, and spans of AUR numbers are excluded.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator

from mailroom.notices.aur import DIGIT_LOOKALIKES, aur_spans
from mailroom.notices.parse import Found, label_pattern

_MASK3 = r"[X*x×#]{3}"
_MASK2 = r"[X*x×#]{2}"
# Masked forms: XXX-XX-1234, ***-**-1234, and OCR's spaced variants.
_MASKED = re.compile(rf"(?<![\w-]){_MASK3}\s?-\s?{_MASK2}\s?-\s?(\d{{4}})(?![\d-])")
# A mask whose first group lost a character to OCR ("xx-xx-8027" for "xxx-xx-8027"): no label needed, no other
# number is shaped so; unsure (the name beside it must confirm the case).
_MASKED_SHORT = re.compile(rf"(?<![\w-]){_MASK2}\s?-\s?{_MASK2}\s?-\s?(\d{{4}})(?![\d-])")
_MASKED_SHORT_CONFIDENCE = 0.8
# Next to a label only: an SSN-shaped value whose first five characters OCR damaged ("§92-73-1284"), or whose middle
# group OCR gave an extra digit ("927-082-1819", held-out seed 65537, spent); its last four are still digits, and
# they are all we keep (a mask's three-character middle group, "XXX-XXx-4010", is judged as a mask below). A phone
# number printed with its "1-" is no match: nothing word-like may precede the value.
_DAMAGED = re.compile(r"(?<![\w-])\S{2,3}\s?[-~]\s?(?:\S{2}|\d{3})\s?-\s?(\d{4})(?![\d-])")
# Next to a label only: the same with the hyphens read as periods or underscores and a short first group, as heavy
# speckle leaves a mask ("oe%.0%-7121", "oo*.99_7121", "94.99.8759"); one separator at least is no hyphen (a
# hyphenated number was judged by the rules before, an invalid one stays rejected) and a date ("12.31.2022") is none.
_DAMAGED_SEPARATORS = re.compile(r"(?<![\w-])(\S{2,3})(?=\S{0,3}[._])[.\-_](\S{2})[.\-_](\d{4})(?![\d-])")
# Next to a label only: a masked number whose X's OCR read as other letters ("NAN-NN-1272", "XXN-NX-1272",
# "XXX -XX-1272", "XXXXX-1272" with a lost hyphen): no digit in the mask, four digits after it.
_MASKED_OCR = re.compile(r"(?<![\w-])[A-Za-z*#×]{3}\s?-?\s?[A-Za-z*#×]{2}\s?-\s?(\d{4})(?![\d-])")
_FULL = re.compile(r"(?<![\d-])(\d{3})([- ]?)(\d{2})([- ]?)(\d{4})(?![\d-])")
# Next to a label only: a mask OCR mangled beyond the shapes above ("ee #* 9261", "XXX~-XX~9014", "HRR_KK_7362",
# "XXNX-NX-8625", "**e-** 9261"): up to 12 characters, at least two of them mask characters (X, *, #, K, H, N...),
# then the last four. A word such as "year" is no mask, so "SSN  Tax year 2022" gives nothing. One character of the
# mask may come out a digit ("+O 8H 6564", seed 65537, spent); two are a number, not a mask.
_MASK_LIKE = re.compile(r"(?<![\w-])(\S{1,6}(?:[\s\-~=_.,:]{1,3}\S{1,6}){0,2})[\s\-~=_.,:]{0,3}(\d{4})(?![\d-])")
_DIGITS_IN_A_MASK = 1
_MASK_CHARS = set("Xx*#×KkHN%+")
# What a stamp or a fax left of a mask: its last character or two, one of them a mask character, joined to the last
# four by its hyphen ("9*-1610": held-out seed 46368, spent). Unsure (0.8), as a mask read as a word.
_MASK_TAIL = re.compile(r"^\S?[Xx*#×KkHN%+]-$")
_MASK_TAIL_CONFIDENCE = 0.8
# Next to a label only: a mask OCR read as one short lower-case non-word ("wee 6732", "eet 8379"), the last four
# ending the line. Labels and box words are printed capitalised, so a lower-case run of 2-4 letters there is the
# mask's ink, unless it is one of the few words that can sit between a label and a number. Its last group's X's may
# come out as "#" or "*" ("eet #~8379"), its last X and hyphen as a quote ('eee" 3440'); its two groups may read as
# two such words ("ween ee 4255", dev seed 3131). A capitalised word may follow: the letterhead beside the box
# ("woh es 6745 Fresno, CA", round 15), or a gap to the next column ("rere 6564   3"), and leader dots may come
# before it ("Recipient's SSN   .   .   :   rere 6564", round 22; spent seed 65537).
_MASK_AS_WORD = re.compile(r"^(?:[ :.]{0,16}|[\s:.]{0,4})([a-z]{2,4})(?:\s([a-z]{2,4}))?"
                           r"[\s\-~=_.,:#*\"'\u201c\u201d]{1,4}(\d{4})"
                           r"(?:[\s.,:;'|]*$|\s+(?=[A-Z][A-Za-z])|\s{3})", re.M)
_NOT_A_MASK = {"no", "is", "of", "the", "for", "and", "or", "on", "at", "by", "to", "in", "year", "tax", "date",
               "was", "are", "see", "page", "form", "ein", "tin", "ssn", "itin"}
_DASH_LIKE = re.compile(r"[~=_\u2014\u2013]")
# The scan line a response form prints at its foot for the IRS's reading machines: the taxpayer id (masked or in
# full), the name control (the surname's first four letters), two codes and the tax period (YYYYMM), e.g.
# "XXXXX6426 MART 25 0 202112 612 00000403929" or "934916381 LOPE 33 0 202412 765 00000042815"; OCR may glue the
# two codes ("830"), misread the one-digit code ("28 @ 202412"), see a speck after the two-digit one ("15. 0") or
# beside a 0 one-digit code ("41 09 202412", dev seed 3131), or read the name control in lower case ("wu"). It is the
# only place some response forms repeat the taxpayer id.
# The last 4 and the name control may come joined by a dash OCR read for the gap ("XXXXX6519-KOWA", seed 44917).
# The tax period may come glued to the three-digit code after it ("202212131", dev seed 9191).
_MASKED_ID = r"[Xx×K*#]{5}"  # the id masked to its last 4 (a full id prints its five digits instead)
_NAME_CONTROL = r"[A-Za-z][A-Za-z&'-]{0,3}"
_SCAN_LINE = re.compile(rf"(?<![\w-])(?:{_MASKED_ID}|\d{{5}})(\d{{4}})(?:\s+|\s*[-\u2013\u2014]\s*)"
                        rf"{_NAME_CONTROL}\s+\d{{2}}[.,:;']?\s?"
                        r"0?[^\s]\s+(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:\d{3}(?=\s))?(?!\d)")
# The scan line's masked id and name control alone, the rest of the line garbled ("XXXXX6564 DINA 90. 0.262212",
# seed 65537, spent). Unsure and below every other reading: a payer table may print a masked account number so.
_SCAN_LINE_ID_CONFIDENCE = 0.8
_SCAN_LINE_ID = re.compile(rf"(?<![\w-]){_MASKED_ID}(\d{{4}})\s+{_NAME_CONTROL}(?=\s)")
# Machine-printed in a fixed shape, but OCR'd digits with no check digit: unsure, yet above a mask read as letters
# beside its label (0.85), which damage garbles ("SSN ERKA*KK= 3094" over the scan line's 3021, dev seed 4242).
SCAN_LINE_CONFIDENCE = 0.86

# The last four split by OCR at a gap between two digits ("XXX-XX-87 12", "***-**-577 1"), ending its line: joined
# and judged again by the rules above, then unsure (a digit lost at the gap would leave three).
_SPLIT_LAST4 = re.compile(r"(?<![\d ])(\d{1,3}) (\d{1,3})(?=[\s.,:;'|]*$)")
_JOINED_CONFIDENCE = 0.85

TIN_LABELS = (
    "social security number", "ssn", "taxpayer identification number", "taxpayer id number", "your ssn",
    "identification number", "itin", "tin", "security number",
)  # fmt: skip
# "security number" alone: OCR garbles the "Social" before it ("gocial’ security number"); the spouse's label is
# then told by "spouse" up to one word before it. Not a name line's "& SPOUSE" ("JOHN DOE & SPOUSE", as a joint
# notice may name a couple), which the box's label can sit beside on one OCR line: the number is then the taxpayer's.
_SPOUSE_BEFORE = re.compile(r"(?<!&)(?<!&\s)(?<!&\s\s)(?<!\band\s)spouse'?s?\W*(?:\S{0,8}\s+)?$", re.I)
_LABEL_WINDOW = 45
# "Social Security" and one word OCR garbled beyond the one-letter slack label words get ("naii6e" for "number" over
# a fax's speckle, dev seed 9191, tuned): on a letter no other word starting with n follows "Social Security".
_GARBLED_NUMBER_LABEL = re.compile(r"social[\s.,-]+security[\s.,-]+n\S{2,6}(?=\s)", re.I)


# What the letter fonts' 0 is misread as, most often first (dev seeds 4242, 5150: 9 and 6; 3131: 8): the page guard
# takes two last 4s so apart for one number. The matcher's look-alike searches keep their own table, ordered by
# every digit misread counted (page_confirmation.DIGIT_MISREADS, round 25).
ZERO_LOOKALIKES = "968"


def differ_by_a_misread_zero(first: str, second: str) -> bool:
    """The two last 4s differ in one digit only, a 0 in one and a look-alike of 0 in the other."""
    differ = [(a, b) for a, b in zip(first, second) if a != b]
    return len(first) == len(second) and len(differ) == 1 and "0" in differ[0] and (
        differ[0][0] in ZERO_LOOKALIKES or differ[0][1] in ZERO_LOOKALIKES)


def is_valid_tin(area: str, group: str, serial: str) -> bool:
    """SSA rules for SSNs plus the IRS ranges for ITINs (9xx-[50-65|70-88|90-92|94-99]-xxxx)."""
    if area in ("000", "666") or serial == "0000":
        return False
    if area.startswith("9"):
        group_number = int(group)
        return 50 <= group_number <= 65 or 70 <= group_number <= 88 or 90 <= group_number <= 92 or group_number >= 94
    return group != "00"


def _full_tin_last4(candidate: re.Match[str], *, labelled: bool) -> str | None:
    area, sep1, group, sep2, serial = candidate.groups()
    separators_agree = sep1 == sep2 or (labelled and _one_hyphen_lost(sep1, sep2))
    if not separators_agree or (sep1 == "" and not labelled):
        return None
    if is_valid_tin(area, group, serial):
        return serial
    # Next to its label a 9xx number outside the ITIN groups is still the number the notice prints (test notices use
    # never-issued 9xx areas); numbers that can be no one's (000, 666, group 00, serial 0000) stay rejected.
    if labelled and area.startswith("9") and serial != "0000" and group != "00":
        return serial
    return None


# A full number next to its label with one hyphen read as a space ("978-71 8323", round 32): one more OCR error in the
# number, so unsure, and the name beside it must confirm the case.
_ONE_HYPHEN_LOST_CONFIDENCE = 0.85


def _one_hyphen_lost(first: str, second: str) -> bool:
    """A hyphen and a space between the three groups ("978-71 8323"): OCR lost one hyphen of a number printed with
    two. Next to its label only, where the 3-2-4 shape is still the number's; a 5-4 control number has no third
    group, so it cannot be read so."""
    return {first, second} == {"-", " "}


def _date_shaped(first: str, second: str, last4: str) -> bool:
    """"12.31.2022": a month, a day and a year, not a mask and the last four."""
    if not (first.isdigit() and second.isdigit()):
        return False
    return 1 <= int(first) <= 12 and 1 <= int(second) <= 31 and last4[:2] in ("19", "20")


def _is_word(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not before.isalnum() and not after.isalnum()


def _overlaps(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


def _mangled_mask(snippet: str) -> Found[str] | None:
    """The last four after a mask OCR mangled; 0.85 (below trusted), so a cleaner copy on a later page still wins
    and a name read beside it must be confirmed against the CRM before anything is filed."""
    mask = _MASK_LIKE.search(snippet)
    if mask is None or mask.start() > 12:
        return None
    characters = mask.group(1)
    if _MASK_TAIL.match(characters):
        return Found(mask.group(2), _MASK_TAIL_CONFIDENCE)
    if sum(ch in _MASK_CHARS for ch in characters) < 2 or len(characters.replace(" ", "")) > 12:
        return None
    if sum(ch.isdigit() for ch in characters) > _DIGITS_IN_A_MASK or characters[-1].isdigit():
        return None  # "XXX-XX-12345": a digit against the last four is a fifth digit, not the mask's
    if _MASKED.fullmatch(_DASH_LIKE.sub("-", characters) + "-" + mask.group(2)):
        return Found(mask.group(2), 0.88)  # "XXX~XX~1234": only the hyphens were misread
    return Found(mask.group(2), 0.85)


def _joined_last4(snippet: str) -> str | None:
    """``snippet`` with its first line's split last four joined, or None when it holds no such split."""
    line, newline, rest = snippet.partition("\n")
    split = _SPLIT_LAST4.search(line)
    if split is None or len(split.group(1)) + len(split.group(2)) != 4:
        return None
    return line[: split.start()] + split.group(1) + split.group(2) + line[split.end() :] + newline + rest


def _labelled_value(snippet: str, window_start: int, excluded: list[tuple[int, int]]) -> Found[str] | None:
    """The last four of the number right after a TIN label (``snippet`` starts at the label's end), by the rules
    above from the cleanest shape to the most damaged."""
    masked = _MASKED.search(snippet)
    if masked and masked.start() <= 12:
        return Found(masked.group(1), 0.98)
    misread = _MASKED_OCR.search(snippet)
    if misread and misread.start() <= 12:
        return Found(misread.group(1), 0.92)
    full = _FULL.search(snippet)
    if full and full.start() <= 12:
        span = (window_start + full.start(), window_start + full.end())
        last4 = None if _overlaps(span, excluded) else _full_tin_last4(full, labelled=True)
        if last4:  # a lost hyphen is one more OCR error in the number: unsure, the name must confirm the case
            return Found(last4, 0.97 if full.group(2) == full.group(4) else _ONE_HYPHEN_LOST_CONFIDENCE)
    damaged = _DAMAGED.search(snippet)
    # a readable number at the same place was judged above (an invalid one stays rejected)
    if damaged and damaged.start() <= 12 and not (full and full.start() == damaged.start()):
        return Found(damaged.group(1), 0.8)
    separated = _DAMAGED_SEPARATORS.search(snippet)
    if separated and separated.start() <= 12 and not _date_shaped(*separated.groups()):
        return Found(separated.group(3), 0.8)
    mangled = _mangled_mask(snippet)
    if mangled:
        return mangled
    as_word = _MASK_AS_WORD.match(snippet)
    if as_word and not {as_word.group(1), as_word.group(2)} & _NOT_A_MASK:
        return Found(as_word.group(3), 0.8)  # unsure: a name read beside it is confirmed in the CRM
    return None


def _after_taxpayer_labels(text: str) -> Iterator[tuple[int, str]]:
    """(where it starts, the text) after each TIN label of the taxpayer's own number; then after each "Social
    Security" whose "number" OCR garbled past a label word's slack."""
    ends: set[int] = set()
    for label in [*label_pattern(TIN_LABELS).finditer(text), *_GARBLED_NUMBER_LABEL.finditer(text)]:
        before = text[max(0, label.start() - 20) : label.start()]
        if label.end() in ends or not _is_word(text, label.start(), label.end()) or _SPOUSE_BEFORE.search(before):
            continue  # "tin" inside "Austin", or the spouse's number on a joint notice
        ends.add(label.end())
        yield label.end(), text[label.end() : label.end() + _LABEL_WINDOW]


def scan_line_last4(text: str) -> str | None:
    """The last 4 of a response form's scan line in ``text``, or None."""
    scan_line = _SCAN_LINE.search(text)
    return scan_line.group(1) if scan_line and scan_line.group(1) != "0000" else None


def find_ssn_last4(text: str) -> Found[str] | None:
    """The primary taxpayer's SSN/ITIN last four, labelled first, then a response form's scan line, then any masked
    number, then any full one."""
    excluded = aur_spans(text)
    for window_start, snippet in _after_taxpayer_labels(text):
        # a pen stroke or speck before the value ("-998-15-4307", "/986-11-7866") is not part of it
        snippet = re.sub(r"^([\s:.\]|]*)[-/'\u2018\u2019\u201c\u201d]+(?=[\dXx*])", r"\1 ", snippet)
        found = _labelled_value(snippet, window_start, excluded)
        if found is not None:
            return found
        joined = _joined_last4(snippet)
        if joined is not None:
            found = _labelled_value(joined, window_start, excluded)
            if found is not None:
                return Found(found.value, min(found.confidence, _JOINED_CONFIDENCE))
    scan_line = scan_line_last4(text)
    if scan_line is not None:
        return Found(scan_line, SCAN_LINE_CONFIDENCE)
    masked = _MASKED.search(text)
    if masked:
        return Found(masked.group(1), 0.85)
    if (short := _MASKED_SHORT.search(text)) is not None:
        return Found(short.group(1), _MASKED_SHORT_CONFIDENCE)
    scan_line_id = _SCAN_LINE_ID.search(text)
    if scan_line_id and scan_line_id.group(1) != "0000":
        return Found(scan_line_id.group(1), _SCAN_LINE_ID_CONFIDENCE)
    for full in _FULL.finditer(text):
        if _overlaps(full.span(), excluded):
            continue
        last4 = _full_tin_last4(full, labelled=False)
        if last4:
            return Found(last4, 0.75)
    return None


# What OCR makes of a digit of the last four on the letter fonts, for a last four it garbled ("FRE *E_O834",
# "SSN ven S086", "qe ee hee d359"; dev seeds 4242, 5150, 3131, tuned): the AUR reader's look-alikes, an S that may
# be an 8 as well, and rarer ones. Taken alone such a reading was wrong as often as right (round 8), so it is never
# the notice's last 4: the matcher searches the CRM with each guess and the page's surname, and takes a case only
# when its name is on the page (page_confirmation.confirm_guessed_last4).
_LAST4_LOOKALIKES = {**DIGIT_LOOKALIKES, "S": "58", "Q": "0", "s": "5", "A": "4", "d": "4", "b": "6", "G": "6",
                     "T": "7", "q": "9", "g": "9"}  # fmt: skip
MAX_GUESSES = 3
_TAIL = re.compile(r"^\D*?(\S{4})$")


def _readings(tail: str, *, joined: bool) -> list[str]:
    """The digit strings ``tail`` may be a reading of: two of its four characters at least are digits, the others
    digit look-alikes; none when it allows more than ``MAX_GUESSES``. Four plain digits in one word are no guess (a
    year beside the label, or a number the rules above judged), but they are when OCR split them ("577 1")."""
    if sum(ch.isdigit() for ch in tail) < 2 or (tail.isdigit() and not joined):
        return []
    options = [ch if ch.isdigit() else _LAST4_LOOKALIKES.get(ch, "") for ch in tail]
    if not all(options) or math.prod(len(option) for option in options) > MAX_GUESSES:
        return []
    return ["".join(reading) for reading in itertools.product(*options)]


def last4_guesses(text: str) -> list[str]:
    """Guesses at a last four OCR garbled beside a TIN label (the spouse's aside), when no rule above could read it:
    the first value word within reach of the label whose last four characters are digits and digit look-alikes,
    after a mask of no digits ("*E_O834", "S086"), or two short words making four ("5 O71")."""
    for _, snippet in _after_taxpayer_labels(text):
        line = snippet.split("\n")[0]
        words = [word for word in (word.strip(".,:;'|_") for word in line.split()) if word]
        candidates = [(word, False) for word in words if len(word) >= 4] + [
            (first + second, True) for first, second in zip(words, words[1:]) if len(first + second) == 4]
        for word, joined in candidates:
            guesses = _word_readings(word, joined=joined)
            if guesses:
                return guesses
    return []


# A masked value's last four after a separator, its mask holding a digit or two OCR made of an X ("#94 ,#4.0327",
# "seeree=5901"); or five digits after a mask, one of them a misread X or a speck ("OXXX-XX20373").
_AFTER_SEPARATOR = re.compile(r"^(\S*?)[-~=._](\d{4})$")
_FIVE_AFTER_MASK = re.compile(r"^[^\d]*[Xx*#][^\d]*(\d{5})$")


def _word_readings(word: str, *, joined: bool) -> list[str]:
    tail = _TAIL.match(word)
    if tail and (readings := _readings(tail.group(1), joined=joined)):
        return readings
    separated = _AFTER_SEPARATOR.match(word)
    mask = separated.group(1) if separated else ""
    if separated and sum(ch.isdigit() for ch in mask) <= 2 and not re.split(r"[-~=._,]", mask)[-1].isdigit():
        return [separated.group(2)]  # not a phone number's or a date's last group: the group before is digits
    five = _FIVE_AFTER_MASK.match(word)
    return [five.group(1)[1:], five.group(1)[:4]] if five else []

