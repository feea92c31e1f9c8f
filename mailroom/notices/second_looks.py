"""Second looks: a band that should have shown what a case is found by (the SSN's last 4, the surname), read again
another way, for a letter still without it after every other read.

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

Each costs one OCR of the band (~0.5-1 s), only for letters missing the SSN or the surname (about one in ten scanned
letters on the dev seeds), never for the median file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from PIL import Image

from mailroom.notices.layout import PageLayout
from mailroom.notices.ocr import median3, otsu
from mailroom.notices.pages import Pages
from mailroom.notices.ruled_lines import without_rules

Prepared = tuple[Image.Image, int]  # a band's image and its dpi


def _without_rules(image: Image.Image, dpi: int) -> Prepared:
    return without_rules(image, dpi), dpi


def _median_binarised(image: Image.Image, dpi: int) -> Prepared:
    return otsu(median3(image)), dpi


def _enlarged_binarised(image: Image.Image, dpi: int) -> Prepared:
    return otsu(image.resize((image.width * 3 // 2, image.height * 3 // 2), Image.Resampling.LANCZOS)), dpi * 3 // 2


CLEANUPS: tuple[Callable[[Image.Image, int], Prepared], ...] = (_without_rules, _median_binarised, _enlarged_binarised)


def second_looks(pages: Pages, first: int, last: int, wanted: Callable[[], bool]) -> Iterator[PageLayout]:
    """Each top band (a later page's head band) of pages ``first``..``last`` already read, read again each way in
    ``CLEANUPS`` in turn, while ``wanted()`` says something is still missing."""
    for clean in CLEANUPS:
        for index, band in [key for key in pages.bands if key[1] in ("top", "head")]:
            if not wanted():
                return
            if not first <= index <= last or (band == "head" and (index, "top") in pages.bands):
                continue
            layout = pages.band_cleaned(index, band, clean)
            if layout is not None:
                yield layout
