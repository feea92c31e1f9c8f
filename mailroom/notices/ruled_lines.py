"""Ruled lines out of a page band: a form's rules, a table's grid, a stamp's frame.

Used for a second look only (``extract._read_without_rules``): a band read with its rules in, then again without.

Tesseract reads a rule that touches a line of print as part of it: on a skewed response form the rule under "Amount
due" runs into the name below and the whole line comes back as debris ("LRROE A were rise aeTeG" for "MARK MILLER",
dev seed 5150); a table's grid lines come back as "|" and "]" glued to its labels and values. Print is never a long
straight run of ink: a letter's stroke is at most a heading's height, and the gaps between letters break a line of
type. So a run of dark pixels longer than a third of an inch, across or down the band, is a rule, and its pixels are
set to paper. A rule skewed by a few degrees steps from one pixel row to the next: the runs are looked for in the
band thickened by two rows (columns for the vertical rules), so a 3-degree rule still shows as one long run. Only
thin ink counts: a column through a bold, blurred word meets a letter's whole height of ink, a rule's only its own
few pixels, so words whose letters blur together are no run, and a letter a rule touches keeps its ink.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

RULE_INCHES = 0.35  # a straight run of ink this long is a rule, not print
_THICKEST_INCHES = 0.03  # a rule, blurred, is at most this thick ...
_REACH_INCHES = 0.04  # ... within this much paper above and below
_INK = 200  # darker than this is ink: a thin rule's anti-aliased steps are light grey


def _in_long_runs(mask: np.ndarray, length: int) -> np.ndarray:
    """The pixels of ``mask`` that lie in a run of at least ``length`` set pixels along its rows."""
    height, width = mask.shape
    if width < length:
        return np.zeros_like(mask)
    counts = np.zeros((height, width + 1), dtype=np.int32)
    np.cumsum(mask, axis=1, out=counts[:, 1:])
    starts = (counts[:, length:] - counts[:, :-length]) == length  # a full run starts here
    started = np.zeros((height, starts.shape[1] + 1), dtype=np.int32)
    np.cumsum(starts, axis=1, out=started[:, 1:])
    columns = np.arange(width)
    last_start = np.minimum(columns, width - length) + 1
    first_start = np.maximum(0, columns - length + 1)
    return (started[:, last_start] - started[:, first_start]) > 0


def _thin(ink: np.ndarray, reach: int, most: int) -> np.ndarray:
    """Ink with at most ``most`` ink pixels within ``reach`` rows above and below it: a rule's cross-section, where a
    column through a letter, however blurred or bold, meets its whole height of ink."""
    counts = np.zeros((ink.shape[0] + 1, ink.shape[1]), dtype=np.int32)
    np.cumsum(ink, axis=0, out=counts[1:])
    rows = np.arange(ink.shape[0])
    low, high = np.maximum(0, rows - reach), np.minimum(ink.shape[0], rows + reach + 1)
    return ink & ((counts[high] - counts[low]) <= most)


def _rules_along_rows(ink: np.ndarray, length: int, reach: int, most: int) -> np.ndarray:
    thin = _thin(ink, reach, most)
    thick = thin.copy()
    thick[1:] |= thin[:-1]
    thick[:-1] |= thin[1:]
    thick[2:] |= thin[:-2]
    rules = _in_long_runs(thick, length)
    for _ in range(2):  # out to the rule's light-grey edges, which binarising would keep as a faint line
        rules[1:] |= rules[:-1]
        rules[:-1] |= rules[1:]
    return rules & (thin | ~ink)  # a letter the rule touches keeps its ink


def find_rules(image: Image.Image, dpi: int, *, down_inches: float = RULE_INCHES) -> tuple[np.ndarray, np.ndarray]:
    """The pixels of ``image`` (greyscale) on its horizontal rules and on its vertical ones (at least ``down_inches``
    long: a table cell's side is only as tall as its row)."""
    ink = np.asarray(image) < _INK
    reach, most = max(2, round(dpi * _REACH_INCHES)), max(2, round(dpi * _THICKEST_INCHES))
    across = _rules_along_rows(ink, max(8, int(dpi * RULE_INCHES)), reach, most)
    down = _rules_along_rows(ink.T, max(8, int(dpi * down_inches)), reach, most).T
    return across, down


def without_rules(image: Image.Image, dpi: int) -> Image.Image:
    """``image`` (greyscale) with its horizontal and vertical rules set to paper."""
    pixels = np.asarray(image)
    across, down = find_rules(image, dpi)
    rules = across | down
    if not rules.any():
        return image
    cleaned = pixels.copy()
    cleaned[rules] = 255
    return Image.fromarray(cleaned)
