"""Second looks: a band that should have shown what a case is found by (the SSN's last 4, the surname) or a field the
letter's type prints (the date, the control number), read again another way, for a letter still without it after
every other read.

OCR errs differently on the same print prepared differently: a rule run into the name, speckle a 3x3 median melts,
thin print a larger image keeps apart. Preparing every band one of these ways before its first read lost more than it
won (round 12: rules removed everywhere, 4242 -7 and 3131 +2 true matches; dark edges removed everywhere, 3131 +4 and
5150 -6): the reader was tuned on reads as they are. As second looks, only for such letters, and filling only fields
still missing, each read found values the first one had lost. Dev seeds, tuned (true matches; filed without review):

| second look, added in this order | 4242 | 5150 | 3131 |
|---|---|---|---|
| ruled lines removed (``ruled_lines.py``, round 12) | +0 | +1 | +0 |
| 3x3 median, then binarised (round 13) | +0; +2 | +2; +5 | +0; +1 |
| enlarged 1.5x, then binarised (round 13) | +1; +1 | +0; +0 | +0; +1 |
| the darkest ink only, with round 14's wider trigger | +0; +2 | +1; +5 | +0; +2 |

Round 14 also looks again at a letter missing a field its type prints (the notice date, the control number, the
amount), not only the SSN or the surname; for those fields only at its first page, which prints the box. Dev seeds,
tuned, field values gained (abstained or wrong -> correct) and turned wrong but unsure (abstained -> wrong, unsure),
both changes together: 4242 +18 and 4; 5150 +20 and 7; 3131 +13 and 11; none went confidently wrong. One value right
before went wrong, unsure: a surname the file name gave, replaced by a stamp-damaged read (5150; the case is absent).

Round 26 adds a fifth, last: a faded band's print at full contrast (``ocr.faint_ink_darkened``), only for a band
whose print is faint (else no read). On fourteen seeds, tuned: +3 true matches (3131, 46368, 65537), none lost; more
values correct on all eleven fields (+40 in all; 42 fewer abstentions), none confidently wrong (unsure wrong: +2
first names, +2 surnames, +1 last 4, +4 control numbers; 5 fewer letter types, 2 fewer notice dates).

Each costs one OCR of the band (~0.5-1 s), only for letters missing one of those fields: a quarter of the scanned
files of the dev seeds (50-56 of 200; 26 before round 14), not the median file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from PIL import Image

from mailroom.notices.layout import PageLayout
from mailroom.notices.ocr import faint_ink_darkened, median3, otsu, otsu_level
from mailroom.notices.pages import Pages
from mailroom.notices.ruled_lines import without_rules

Prepared = tuple[Image.Image, int]  # a band's image and its dpi


def _without_rules(image: Image.Image, dpi: int) -> Prepared:
    return without_rules(image, dpi), dpi


def _median_binarised(image: Image.Image, dpi: int) -> Prepared:
    return otsu(median3(image)), dpi


def _enlarged_binarised(image: Image.Image, dpi: int) -> Prepared:
    return otsu(image.resize((image.width * 3 // 2, image.height * 3 // 2), Image.Resampling.LANCZOS)), dpi * 3 // 2


_LIGHT_INK_SHARE = 0.1  # of the ink: less than this of a lighter tone is the edges of print, not a stamp
_INK_TONES_APART = 30  # grey levels between the two inks' split and the paper's


def _ink_levels(image: Image.Image) -> tuple[np.ndarray, int, int] | None:
    """The band's pixels, the grey level splitting its two inks and the one splitting ink from paper; None for a
    band of one ink (a fax's black and white, a clean scan)."""
    pixels = np.asarray(image)
    counts = np.bincount(pixels.ravel(), minlength=256).astype(float)
    paper = otsu_level(counts)
    split = None if paper is None else otsu_level(counts[: paper + 1])
    if paper is None or split is None or paper - split < _INK_TONES_APART:
        return None
    if counts[split + 1 : paper + 1].sum() < _LIGHT_INK_SHARE * counts[: paper + 1].sum():
        return None
    return pixels, split, paper


def dark_ink_only(image: Image.Image, dpi: int) -> Prepared:
    """Only the darkest ink, black on white: a stamp or pen in lighter ink than the letter's toner goes.

    The band's paper is split from its ink, then the ink in two: a clerk's grey or red "RECEIVED" stamp is lighter
    than print even where it crosses it (the print stays the darker), so the print is kept whole and the stamp's
    letters, which OCR reads into the date and the control number they cross, are gone. A band of one ink comes back
    as it was: nothing to read again."""
    levels = _ink_levels(image)
    if levels is None:
        return image, dpi
    pixels, split, _ = levels
    return Image.fromarray(((pixels > split) * 255).astype(np.uint8)), dpi


def stamp_lifted(image: Image.Image, dpi: int) -> Prepared:
    """Print under a stamp kept, the stamp on bare paper mostly gone: binarised halfway between the two inks'
    split and the paper.

    A stamp's ink over print is darker than the same ink on bare paper (the toner shows through it), and where the
    print is faded or blurred the cut ``dark_ink_only`` makes also takes the print the stamp crosses: the SSN in a
    box a "RECEIVED" stamp lies on. Halfway up to the paper keeps it. What else this read gives is the stamp's
    letters run into the text (names, dates), so it is looked at for the last 4 alone, and for a nameless page's
    name lines as CRM evidence only (closer_looks.py)."""
    levels = _ink_levels(image)
    if levels is None:
        return image, dpi
    pixels, split, paper = levels
    return Image.fromarray(((pixels > (split + paper) // 2) * 255).astype(np.uint8)), dpi


def _faint_ink_darkened(image: Image.Image, dpi: int) -> Prepared:
    """A faded band's print at full contrast (``ocr.faint_ink_darkened``), speckle melted after; a band whose print
    is dark comes back as it was."""
    darkened = faint_ink_darkened(image)
    return (image, dpi) if darkened is image else (median3(darkened), dpi)


Cleanup = Callable[[Image.Image, int], Prepared]
CLEANUPS: tuple[Cleanup, ...] = (_without_rules, _median_binarised, _enlarged_binarised, dark_ink_only,
                                 _faint_ink_darkened)


def second_looks(pages: Pages, first: int, last: int, wanted: Callable[[], bool],
                 cleanups: tuple[Cleanup, ...] | None = None) -> Iterator[PageLayout]:
    """Each top band (a later page's head band) of pages ``first``..``last`` already read, read again each way in
    ``cleanups`` (by default ``CLEANUPS``) in turn, while ``wanted()`` says something is still missing."""
    for clean in CLEANUPS if cleanups is None else cleanups:
        for index, band in [key for key in pages.bands if key[1] in ("top", "head")]:
            if not wanted():
                return
            if not first <= index <= last or (band == "head" and (index, "top") in pages.bands):
                continue
            layout = pages.band_cleaned(index, band, clean)
            if layout is not None:
                yield layout
