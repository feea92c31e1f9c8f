"""table_cells: a notice box drawn as a table of cells, read cell by cell.

A table box prints each label in small type over its value, one ruled cell per field ("Notice | Letter date |
Taxpayer ID number | ..."). On a blurred, speckled or faxed scan the band read often loses the whole row: at 200 dpi
the type is 12-16 px high, and Tesseract read "Employes 1D umber" and nothing of the mask beside it. Dev seeds
(tuned): table boxes lost the SSN in 14 of 143 letters and the control number in 23, against about 5 % for the
other boxes. The rules survive what the type does not: runs of ink across and down (``ruled_lines.py``). So the
grid gives the cells; each cell's upper part is its label, read on its own and enlarged ("taxpayer 10 pusber", which
rapidfuzz puts nearest "taxpayer id number"), and its lower part its value, read in two preparations.

What a cell says is at best unsure. Bold 6-point Courier under blur reads 8 as 6 in most preparations ("--6360" for
8360 in 12 of 18 reads of one letter), so a value is taken only when both preparations give it, at 0.85, and only
for a field still missing. The SSN's cell's readings are only ever guesses: searched with the page's surname, a case
is accepted only when it holds that last 4 and its own names are on the page
(``page_confirmation.confirm_guessed_last4``).

Costs ~0.25 s (about 18 reads of small images), only for a letter still missing a field after every other look.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, NamedTuple

import numpy as np
from PIL import Image, ImageFilter
from rapidfuzz import fuzz, process

from mailroom.notices.ocr import otsu
from mailroom.notices.page_fields import parse_text
from mailroom.notices.parse import Found
from mailroom.notices.rereads import NUMBER_CHARACTERS, LineReader
from mailroom.notices.ruled_lines import find_rules

TABLE_CONFIDENCE = 0.85  # a value read from a table's cell alone: unsure
_ROW_INCHES = (0.15, 0.8)  # a table row's height between its rules: a line of labels and a line of values
_SIDE_INCHES = 0.15  # a cell's side rule is at least this long
_CELL_INCHES = 0.3  # the narrowest cell that holds a label and its value
_RULE_SHARE = 0.6  # of a row's height: a cell's side rule, not a letter's stroke
_VALUE_FROM = 0.45  # of a cell's height: its label sits above, its value below
_INSET = 4  # pixels kept clear of the cell's rules
_MASKED = re.compile(r"^[\dX*]{0,3}-+[\dX*]{0,2}-+(\d{4})$")  # "XXX-XX-0014", "--6366", "00-10-2176"
# (enlargement, blur radius per enlargement before binarising, or None to stay grey): two preparations that err
# differently. On dev seed 4242's lost table letters grey at 3x read labels and dates best, a blurred, binarised 2x
# the masks grey lost ("--8360"); binarised without the blur read nothing of two of the masks
_READS = ((3, None), (2, 0.5))
_TIN, _OTHER = "Social security number", ""
# what a cell's label may read as -> the label the field parsers know; columns no field is read from map to _OTHER so
# a label closer to them is not taken for a field's ("Employee ID number" is no "Taxpayer ID number")
_LABEL_MEANS = {
    "taxpayer id number": _TIN, "social security number": _TIN, "taxpayer identification number": _TIN,
    "date of this notice": "Notice date", "notice date": "Notice date", "letter date": "Notice date",
    "tax year": "Tax year", "aur control no": "AUR control number", "aur control number": "AUR control number",
    "notice": "Notice", "amount due": "Amount due", "amount you owe": "Amount due",
    "response due date": "Response due date", "respond by": "Response due date",
    "tax period": _OTHER, "tax year ending": _OTHER, "spouse ssn": _OTHER, "spouse's social security number": _OTHER,
    "employee id number": _OTHER, "contact telephone number": _OTHER, "person to contact": _OTHER,
    "to contact us": _OTHER, "caller id": _OTHER,
}  # fmt: skip
_LABELS = list(_LABEL_MEANS)
_GUESSES_ONLY = ("ssn_last4", "ssn_last4_guesses")  # the SSN's cell gives readings to search with, never the field
_LABEL_SCORE = 75  # rapidfuzz WRatio: "taxpayer 10 pusber" scores 78 against "taxpayer id number"

Box = tuple[int, int, int, int]


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def table_cells(image: Image.Image, dpi: int) -> list[Box]:
    """The cells of the first table row in ``image`` (a page band, greyscale): a row between two long horizontal rules
    crossed by at least three side rules; none when the band holds no such row."""
    across, down = find_rules(image, dpi, down_inches=_SIDE_INCHES)
    rows = [(start + end) // 2 for start, end in _runs(across.sum(axis=1) > dpi * 2)]  # rules 2 inches long or more
    low, high = (dpi * share for share in _ROW_INCHES)
    for top, bottom in zip(rows, rows[1:]):
        if not low < bottom - top < high:
            continue
        inside = down[top + _INSET : bottom - _INSET]
        sides = [(start + end) // 2 for start, end in _runs(inside.sum(axis=0) > inside.shape[0] * _RULE_SHARE)]
        # side rules closer than a cell's width (a double rule, a rule's two edges) bound no cell
        cells = [(left, top, right, bottom) for left, right in zip(sides, sides[1:])
                 if right - left >= dpi * _CELL_INCHES]
        if len(cells) >= 2:
            return cells
    return []


def _parts(image: Image.Image, cell: Box) -> tuple[Image.Image, Image.Image]:
    """The cell's label (upper part) and value (lower part), cut from the band as the reader read it (a speckled
    page's band is already despeckled). Not despeckled again: a second 3x3 median thinned 6-point strokes to nothing
    ("--6308" for 8360); the blur before binarising does the smoothing."""
    left, top, right, bottom = cell
    split = top + int((bottom - top) * _VALUE_FROM)
    return (image.crop((left + _INSET, top + _INSET, right - _INSET, split + _INSET)),
            image.crop((left + _INSET, split, right - _INSET, bottom - _INSET)))


def _prepared(value: Image.Image, scale: int, blur: float | None) -> Image.Image:
    enlarged = value.resize((value.width * scale, value.height * scale), Image.Resampling.LANCZOS)
    return enlarged if blur is None else otsu(enlarged.filter(ImageFilter.GaussianBlur(blur * scale)))


def _label(texts: list[str]) -> str | None:
    """The label the parsers know that a cell's label read means (``_OTHER`` for a column no field is read from);
    None when it reads as no label."""
    text = " ".join(texts).lower().strip(" .:|'‘’*")
    best = process.extractOne(text, _LABELS, scorer=fuzz.WRatio, score_cutoff=_LABEL_SCORE) if text else None
    return _LABEL_MEANS[best[0]] if best is not None else None


def _masked_last4(texts: list[str]) -> str | None:
    found = _MASKED.match("".join(texts).strip(" .:|")) if texts else None
    return found.group(1) if found and found.group(1) != "0000" else None


class TableRead(NamedTuple):
    lines: list[list[str]]  # per preparation, "label value" lines for the parsers
    last4_readings: list[str]  # what the SSN's cell said its last 4 is, most often read first

    def agreed(self) -> dict[str, Found[Any]]:
        """The fields every preparation's lines give the same value, at most unsure (``TABLE_CONFIDENCE``): one read
        of a damaged cell is a guess ("Mey 21, 2023" beside "May 21, 2025")."""
        reads = [parse_text("\n".join(lines)) for lines in self.lines]
        return {name: Found(found.value, min(found.confidence, TABLE_CONFIDENCE)) for name, found in reads[0].items()
                if name not in _GUESSES_ONLY and all(name in read and read[name].value == found.value
                                                       for read in reads)}  # fmt: skip


def read_table(image: Image.Image, *, dpi: int, read: LineReader) -> TableRead:
    """Each cell of the first table in ``image`` (a page band, greyscale) read on its own: its label, and its value in
    each of ``_READS``'s preparations; empty when ``image`` holds no table."""
    lines: list[list[str]] = [[] for _ in _READS]
    readings: Counter[str] = Counter()
    for cell in table_cells(image, dpi):
        label_part, value = _parts(image, cell)
        if value.width < 8 or value.height < 4:
            continue
        label = _label(read(_prepared(label_part, 3, None), dpi * 3, 7, ""))
        if label is None or label == _OTHER:
            continue
        tin = label == _TIN
        for kept, (scale, blur) in zip(lines, _READS):
            texts = read(_prepared(value, scale, blur), dpi * scale, 7, NUMBER_CHARACTERS if tin else "")
            if tin and (last4 := _masked_last4(texts)) is not None:
                readings[last4] += 1
            kept.append(f"{label} {' '.join(texts)}")
    return TableRead(lines, [reading for reading, _ in readings.most_common()])
