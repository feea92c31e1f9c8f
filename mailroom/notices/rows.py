"""A notice box that prints its labels in one row and the values in the row below, read from text by value type.

``PageLayout.table_pairs`` pairs labels and values by their left edges. On a scan that often fails: OCR merges two
columns into one chunk, a stamp or a pen stroke shifts a word, a label loses its first letters ("ial Security
number"). The order of the columns survives all of that, and each value has a type: a date, a bare year, a masked
or full SSN, an AUR control number. So for a row holding at least two box labels, the row below is scanned for typed
values, and the k-th label of a type is paired with the k-th value of that type, only when both rows hold the same
number of them (one label and one value of a type, or as many dates as date labels). What comes out are plain
"label value" lines the field parsers read as any labelled value.
"""

from __future__ import annotations

import re

from mailroom.notices.aur import AUR_DAMAGED, AUR_LABELS, repaired_aur
from mailroom.notices.parse import DUE_DATE_LABELS, NOTICE_DATE_LABELS, date_spans, label_pattern

# (kind, canonical label written out, labels that mean it); the longest labels first so "tax year ending" is not read
# as "tax year", nor "AUR control number" as "control number".
_KINDS = (
    ("period", "Tax year ending", ("tax year ending", "tax period ending", "tax period")),
    ("notice", "Notice date", NOTICE_DATE_LABELS),
    ("due", "Response due date", tuple(label for label in DUE_DATE_LABELS if len(label) < 25)),
    ("tin", "Social security number", ("social security number", "taxpayer id number", "taxpayer identification number",
                                       "security number", "ssn")),
    ("aur", "AUR control number", (*AUR_LABELS, "aur control")),  # "AUR Control 6": OCR lost "number"
    ("year", "Tax year", ("tax year",)),
)  # fmt: skip
_CANONICAL = {kind: canonical for kind, canonical, _ in _KINDS}
_LABELS = sorted(((label, kind) for kind, _, labels in _KINDS for label in labels), key=lambda item: -len(item[0]))
_ANY_LABEL = label_pattern(tuple(label for label, _ in _LABELS))
_LABEL_PATTERNS = [(label_pattern((label,)), kind) for label, kind in _LABELS]

_YEAR = re.compile(r"(?<![\w/,.\-])((?:19|20)\d\d)(?![\w/\-])")
_AUR = re.compile(r"(?<![\w-])(\d{5}-\d{4}|\d{10}|\d[A-Za-z]\d{7})(?![\w-])")
# a full number may carry a digit OCR added to its middle group ("927-082-1819"; ssn.py judges it as damaged)
_TIN = re.compile(r"(?<!\S)((?:\d{3}-\d{2,3}-\d{4})|[^\s\d]*[Xx*#×KkHN][^\s\d]*[-~=_.]?[^\s\d]{0,6}[-~=_.]?\d{4}"
                  r"|[^\s\d]{2,3}[-~=_.]\S{2}-\d{4})(?![\w-])")
_PERIOD_END = re.compile(r"^(?:12/31/|dec)", re.I)


def _label_kinds(header: str) -> list[str]:
    kinds = []
    for match in _ANY_LABEL.finditer(header):
        found = next((kind for pattern, kind in _LABEL_PATTERNS if pattern.fullmatch(match.group(0))), None)
        if found is not None:
            kinds.append(found)
    return kinds


def _typed_values(row: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {"date": [], "year": [], "tin": [], "aur": []}
    dates = date_spans(row)
    taken: list[tuple[int, int]] = []
    for start, end, _ in dates:
        values["date"].append(row[start:end])
        taken.append((start, end))
    # a control number OCR damaged ("SASO38651") is one too: find_aur_control_number repairs it from the pair
    for pattern, kind in ((_AUR, "aur"), (AUR_DAMAGED, "aur"), (_TIN, "tin"), (_YEAR, "year")):
        for match in pattern.finditer(row):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            if pattern is AUR_DAMAGED and repaired_aur(match.group(1)) is None:
                continue
            values[kind].append(match.group(1))
            taken.append(match.span())
    return values


def header_row_pairs(text: str) -> list[str]:
    """"label value" lines for the box rows of ``text`` whose values the labels' row does not carry itself."""
    lines = text.splitlines()
    pairs: list[str] = []
    for header, row in zip(lines, lines[1:]):
        kinds = _label_kinds(header)
        # A row whose only label OCR kept is the SSN's ("Leuer date . Taxpayer ID number Peron Us cantact", seed
        # 44917, round 13) pairs it too, not a spouse's: one such value below is the taxpayer's number.
        alone = kinds in (["aur"], ["tin"]) and "spouse" not in header.lower()
        if (len(kinds) < 2 and not alone) or header.rstrip().endswith("."):
            continue  # a sentence naming two labels ("Write your taxpayer identification number and the tax year on
            # your payment.") is no box row: the payer table's EIN below it was read as the SSN (first corpus, round 3)
            # A row whose only label OCR kept is the AUR number's ("Tex Year | Pate of this notice | Seciat security
            # rune Control No") still pairs it: the number's shape is its own, and only one such value may sit below.
        values = _typed_values(row)
        date_kinds = [kind for kind in kinds if kind in ("period", "notice", "due")]
        if date_kinds and len(date_kinds) == len(values["date"]):
            pairs += [f"{_CANONICAL[kind]} {value}" for kind, value in zip(date_kinds, values["date"])]
        elif date_kinds.count("notice") == 1:  # "Tax year" over a bare year beside the notice date: one real date
            plain = [value for value in values["date"] if not _PERIOD_END.match(value)]
            if len(plain) == 1 and "due" not in date_kinds:
                pairs.append(f"Notice date {plain[0]}")
        if kinds == ["aur"] and values["aur"] and "-" in values["aur"][0]:
            continue  # alone, a 5-4 number below may be the next line's ZIP+4 ("Fresno, CA 93888-0025", dev seed 5150)
        for kind in ("tin", "aur", "year"):
            if kinds.count(kind) == 1 and len(values[kind]) == 1:
                # a bare year may be the tail of a date OCR broke ("May 5," over "2025"): only when every label of
                # the row found its value is the year the tax year's
                if kind == "year" and sum(map(len, values.values())) != len(kinds):
                    continue
                pairs.append(f"{_CANONICAL[kind]} {values[kind][0]}")
    return pairs
