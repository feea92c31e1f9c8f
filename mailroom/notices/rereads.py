"""rereads: a closer look at the one value a case is found by, when the band read of its page could not read it.

A band is read at 200 dpi as one block of text: a masked SSN in a bold font under JPEG blocks, a 2-degree skew or
speckle comes back as "KKK BOBS" for "***-**-5088", while the label beside it reads fine. Where the label is, the
value is: its words' boxes (whatever OCR made of them) are cut from the page image, enlarged and read again as one
line, limited to the characters a masked or full number is made of. One such read is still a guess; the value is
taken only when two of three different reads of the region agree on the last four. The three were chosen among 32
(enlargement, straightening, binarising, segmentation mode, character list) on the 16 development letters (seed 5150)
whose SSN was unread or misread: alone the best read was right on 4 and wrong on 0-4, two agreeing of these three
right on 4 and wrong on none (tuned; in the whole run the SSN went from 12 letters abstained to 8, docs/extraction.md
"Round 6"). Even then it is unsure (0.85): the name beside it must confirm the case.

In a table (a header row of labels over a row of values) the value is under its label, not beside it: where the
label's row holds other columns' labels and the next row starts a value under it, that cell is read the same way
(round 15, ``_cell_below``).

Where the three reads beside a label do not agree, the region's right half is read the same three ways and the votes
pooled: a bold asterisk mask's raised stars throw Tesseract's line off, and its digits alone read right (round 28).

Reads that do not agree are still readings ("*8824177" from one read, nothing from the others): never the notice's
last 4, they become guesses the matcher searches the CRM with (page_confirmation.confirm_guessed_last4), as the band
read's garbled last 4 does (round 13).

Costs ~0.05 s, only for letters whose SSN was not read, never for the median file.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

from PIL import Image

from mailroom.notices.layout import PageLayout, TextLine, Word
from mailroom.notices.ocr import median3, otsu
from mailroom.notices.parse import Found

REREAD_CONFIDENCE = 0.85
_TIN_LABEL = re.compile(r"security\s+number|\bssn\b|identification\s+number|\btaxpayer\s+id\b", re.I)
_LABEL_END = {"number", "ssn", "id", "no", "tin"}
NUMBER_CHARACTERS = "0123456789X*-"  # what a masked or full SSN is made of
_LAST4 = re.compile(r"(?<!\d)(\d{4})\W*$")
_LAST_DIGITS = re.compile(r"(\d{4,})\W*$")
# (enlargement, straightened by the label's slope, psm): three reads that err differently (docs: "Round 6")
_READS = ((3, False, 13), (3, True, 7), (3, True, 13))

# reads one prepared image with a whitelist: (image, dpi, psm, whitelist) -> words' texts
LineReader = Callable[[Image.Image, int, int, str], list[str]]


def _slope(words: list[Word]) -> float:
    """The baseline's slope (dy/dx) through the words' bottoms: a skewed scan's lines climb or fall."""
    if len(words) < 2:
        return 0.0
    xs = [(w.x0 + w.x1) / 2 for w in words]
    ys = [w.y1 for w in words]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / spread if spread else 0.0


def _is_word(word: Word) -> bool:
    """A confidently read word in lower case: printed text, where a mask OCR mangled reads as capitals and symbols
    at low confidence ("KKK BOBS" at 3 and 9)."""
    return word.conf >= 60 and len(word.text) >= 3 and word.text.isalpha() and any(ch.islower() for ch in word.text)


def _label_end(line: TextLine) -> int | None:
    """The index of the TIN label's last word in the line ("number" of "Social security number"), or None when the
    line holds no label (a spouse's number is not the taxpayer's)."""
    words = line.words
    text = " ".join(w.text for w in words)
    if not _TIN_LABEL.search(text) or "spouse" in text.lower():
        return None
    ends = [i for i, w in enumerate(words) if w.text.lower().rstrip(":.|") in _LABEL_END]  # "number|": a cell's rule
    if not ends:
        return None
    end = ends[0]
    while end + 1 in ends:  # "ID number", "SSN no."
        end += 1
    return end


def _value_region(line: TextLine, end: int, width: float) -> tuple[tuple[float, float, float, float] | None, float]:
    """The box right of the line's TIN label (its last word ``words[end]``) where its value is printed (None when
    words follow it: a box's next column, "Taxpayer ID number   Person to contact"), and the label's slope."""
    words = line.words
    label = words[end]
    height = label.y1 - label.y0
    slope = _slope([w for w in words[: end + 1] if w.x0 >= label.x0 - 0.5 * width])
    values = words[end + 1 :]
    if any(_is_word(w) for w in values[:2]):
        return None, slope
    if values and values[0].x0 - label.x1 < 0.3 * width:
        x0, x1 = values[0].x0 - 0.5 * height, min(values[-1].x1 + 0.5 * height, values[0].x0 + 0.25 * width)
        y0, y1 = min(w.y0 for w in values) - 0.35 * height, max(w.y1 for w in values) + 0.35 * height
    else:  # OCR saw nothing there (a stamp's edge, a faded value): the line's continuation
        x0, x1 = label.x1 + 2, min(width, label.x1 + 0.3 * width)
        middle = label.y1 + slope * ((x0 + x1) / 2 - (label.x0 + label.x1) / 2)
        y0, y1 = middle - 1.3 * height, middle + 0.3 * height
    return (x0, max(0.0, y0), x1, y1), slope


class CloserRead(NamedTuple):
    last4: Found[str] | None  # two of three reads agree
    readings: list[str]  # each read's last 4, most often read first (guesses only)


def _readings(text: str) -> list[str]:
    """What one read may say the last 4 is: its final run of digits' last 4; a run of five may also be a last 4 with a
    speck or the box's edge read after it ("-58151")."""
    run = _LAST_DIGITS.search(text)
    if run is None:
        return []
    digits = run.group(1)
    return [digits[-4:]] + ([digits[:4]] if len(digits) == 5 else [])


def _cell_below(line: TextLine, end: int, below: TextLine | None) -> tuple[float, float, float, float] | None:
    """A table's cell under the TIN label of its header row ("Social security number | AUR control number" over
    "***-**-2891   5P6660144"): the next line's words that start under the label. Dev seed 4242 (tuned): 8 of the 11
    SSNs abstained were in such tables, the value read as "wees BOT" beside a label read whole."""
    words = line.words
    if below is None:
        return None
    # the label's tallest word: "number" alone (no capital, no descender) measured 9 px at 200 dpi, too short a unit
    # to bridge the gap between "Taxpayer" and "ID" in a monospace font
    height = max(w.y1 - w.y0 for w in words[max(0, end - 2) : end + 1])
    start = end
    while (start > 0 and words[start - 1].text.strip("‘’'\".,:;|").isalpha()
           and words[start].x0 - words[start - 1].x1 < 1.5 * height):  # fmt: skip
        start -= 1  # "Social security number": the label's first word, where its column starts
    if not any(map(_is_word, words[:start] + words[end + 1 :])):
        return None  # no other column's label beside it: a box of label and value, not a table's header row
    under = [w for w in below.words if words[start].x0 - height <= w.x0 <= words[end].x1]
    if not under or min(w.y0 for w in below.words) - words[end].y1 > 2.5 * height or any(map(_is_word, under)):
        return None  # no row under the label, or one of words ("To contact us   Phone 1-800-829-3903"): no table
    y0, y1 = min(w.y0 for w in under) - 0.35 * height, max(w.y1 for w in under) + 0.35 * height
    # the words' own extent: blank cell width to their right left Tesseract reading the mask alone ("*X")
    return min(w.x0 for w in under) - 0.5 * height, y0, max(w.x1 for w in under) + 0.5 * height, y1


def _read_region(image: Image.Image, box: tuple[float, float, float, float], slope: float, *, dpi: int,
                 speckled: bool, read: LineReader, halves: bool = False) -> tuple[Counter[str], Counter[str]]:
    """Three reads of one region: the last 4 each read ends with (votes) and what each may say it is (readings);
    with ``halves``, where no two agree, three more of the region's right half."""
    votes: Counter[str] = Counter()
    readings: Counter[str] = Counter()
    x0, y0, x1, y1 = box
    crop = image.crop((int(x0), int(max(0.0, y0)), int(x1), int(y1)))
    if crop.width < 4 or crop.height < 4:
        return votes, readings
    if speckled:
        crop = median3(crop)
    for scale, straighten, psm in _READS:
        enlarged = crop.resize((crop.width * scale, crop.height * scale), Image.Resampling.LANCZOS)
        if straighten and slope:
            enlarged = enlarged.rotate(math.degrees(math.atan(slope)), Image.Resampling.BICUBIC, fillcolor=255)
        text = " ".join(read(otsu(enlarged), dpi * scale, psm, NUMBER_CHARACTERS))
        found = _LAST4.search(text)
        if found and found.group(1) != "0000":
            votes[found.group(1)] += 1
        readings.update(reading for reading in _readings(text) if reading != "0000")
    if halves and (not votes or votes.most_common(1)[0][1] < 2):
        # the mask's asterisks, raised above the digits, can throw Tesseract's line off: a bold "***-**-6594" read
        # "54", "54", "594", while its right half alone read "6594" every way (seed 196418, Doc489). Not a table's
        # cell: its 6-point digits, halved, read "9517" for "8517" and "0909" for "8989" (seeds 3131, 121393)
        more, also = _read_region(image, ((x0 + x1) / 2, y0, x1, y1), slope, dpi=dpi, speckled=speckled, read=read)
        votes, readings = votes + more, readings + also
    return votes, readings


def reread_ssn_last4(image: Image.Image, layout: PageLayout, *, dpi: int, speckled: bool,
                     read: LineReader) -> CloserRead:  # fmt: skip
    """The last four of the TIN printed beside a label of ``layout`` (a band cut from ``image`` at its top, so the
    boxes are the image's pixels), or under it in a table, when two of three enlarged reads agree (beside a label,
    two of six with its right half's), and what each read made of it."""
    for number, line in enumerate(layout.lines):
        end = _label_end(line)
        if end is None:
            continue
        beside, slope = _value_region(line, end, layout.width)
        votes, readings = Counter[str](), Counter[str]()
        if beside is not None:
            votes, readings = _read_region(image, beside, slope, dpi=dpi, speckled=speckled, read=read,
                                           halves=True)  # fmt: skip
        if not votes or votes.most_common(1)[0][1] < 2:
            below = layout.lines[number + 1] if number + 1 < len(layout.lines) else None
            if (cell := _cell_below(line, end, below)) is not None:
                under, more = _read_region(image, cell, slope, dpi=dpi, speckled=speckled, read=read)
                votes, readings = (under, more + readings) if under else (votes, readings + more)
        last4, count = votes.most_common(1)[0] if votes else ("", 0)
        agreed = Found(last4, REREAD_CONFIDENCE) if count >= 2 else None
        # the first labelled line is the value's; a later one would be another number
        return CloserRead(agreed, [reading for reading, _ in readings.most_common()])
    return CloserRead(None, [])
