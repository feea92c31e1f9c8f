"""pages: one document's pages as the reader sees them: text layer once, OCR band by band, each at most once.

Split from extract.py (which cuts a file into letters and reads their fields). A scanned page is OCR'd in bands
(``BANDS``) and a band only when the reader asks for it; which way up a page is, is settled by its first band read
(or by its label, read turned at its top). Labels ("Page 2 of 3") are read here too. The text read lives only in
these objects, for the length of one extraction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pymupdf
from PIL import Image

from mailroom.notices import tesseract
from mailroom.notices.layout import PageLayout, text_layer_layout
from mailroom.notices.letter_marks import Label, page_label
from mailroom.notices.model import ExtractionError, ExtractionFailure, ExtractionLimits, FieldSource
from mailroom.notices.ocr import (PreparedPage, faint_ink_darkened, median3, ocr_image, otsu, prepare, read_line,
                                  shows_upright, without_dark_edges)
from mailroom.notices.parse import normalize_text
from mailroom.notices.text_layer import is_usable

# Bands of a scanned page, as shares of its height; they overlap so a line on a border is read whole once. (A first
# band of 0-0.45 with the rest read only when a field was missing measured slower and worse on dev seed 5150: the
# deadline and amount sit at 0.37-0.56, and half the first pages then needed a second read; docs "Round 6".)
BANDS = {"top": (0.0, 0.56), "middle": (0.52, 0.92), "footer": (0.90, 1.0), "head": (0.0, 0.40)}
# "head" is the last page's read (extract.py): a later page repeats name, SSN, year and dates in its header, a response
# form in its upper part; the top band's lowest 0.16 of the page was letter text.


class Pages:
    """Reads of one document's pages: text layer once, OCR band by band, each at most once, within the budget."""

    def __init__(self, document: pymupdf.Document, limits: ExtractionLimits, deadline: float) -> None:
        self.document, self.limits, self.deadline = document, limits, deadline
        self.queued_before = tesseract.queue_wait_seconds()  # waits for an OCR engine do not spend the budget
        self.layers: dict[int, PageLayout | None] = {}
        self.bands: dict[tuple[int, str], PageLayout] = {}
        self.images: dict[int, PreparedPage] = {}
        self.ocr_pages: set[int] = set()
        self.upright: set[int] = set()  # pages whose turn a top or middle band already settled
        self.flipped: set[int] = set()  # pages whose label showed, turned, at their top: rendered turned
        self.closer_labels: dict[int, Label | None] = {}  # footers read again, closer (each at most once)
        self.cleaned: dict[tuple[int, str, object], tuple[PreparedPage, PageLayout | None]] = {}  # second looks, once
        self.any_text = False

    def remaining(self) -> float:
        left = self.deadline + (tesseract.queue_wait_seconds() - self.queued_before) - time.monotonic()
        if left <= 0:
            raise ExtractionError(
                ExtractionFailure.TIMEOUT, f"time budget of {self.limits.time_budget_seconds:.1f} s spent"
            )
        return left

    def text_layer(self, index: int) -> PageLayout | None:
        if index not in self.layers:
            self.remaining()
            layout = text_layer_layout(self.document[index])
            self.layers[index] = layout if is_usable(" ".join(w.text for ln in layout.lines for w in ln.words)) else None
            self.any_text = self.any_text or self.layers[index] is not None
        return self.layers[index]

    def scanned(self, index: int) -> bool:
        return self.text_layer(index) is None

    def source(self, index: int) -> FieldSource:
        return FieldSource.OCR if self.scanned(index) else FieldSource.TEXT_LAYER

    def band(self, index: int, name: str) -> PageLayout:
        """One band of a page: cut from the text layer, or OCR'd (the first band read of a page sets its turn)."""
        layer = self.text_layer(index)
        top, bottom = BANDS[name]
        if layer is not None:
            lines = [line for line in layer.lines if top * layer.height <= line.y0 < bottom * layer.height]
            return PageLayout(lines=lines, width=layer.width, height=layer.height)
        if name == "head" and (index, "top") in self.bands:  # the top band holds the head
            self.bands[(index, name)] = self.bands[(index, "top")]
        if (index, name) not in self.bands:
            # The cap counts pages whose body was OCR'd: a footer strip (the page label) is a tenth of a page, and
            # without it page 9 of a 9-page file went unread and put its letter in doubt (seed 4242, 2 letters).
            if name != "footer" and len(self.ocr_pages) >= self.limits.ocr_max_pages and index not in self.ocr_pages:
                return PageLayout(lines=[], width=1, height=1)
            if name == "footer" and index not in self.images:  # only the label is wanted (so far): render its strip
                prepared = prepare(self.document[index], self.limits, strip=BANDS[name])
                crop = prepared.band(0.0, 1.0)
            else:
                if index not in self.images:
                    rendered = prepare(self.document[index], self.limits)
                    self.images[index] = rendered.turned() if index in self.flipped else rendered
                prepared = self.images[index]
                crop = band_of(prepared, name)
            # A page is turned once: the first top or middle band read judges it (a second 180-degree read of every
            # sparse band of an upright page cost ~40 % of the middle bands' CPU on the development seed).
            settle = name != "footer" and index not in self.upright
            layout, turned = ocr_image(crop, prepared.dpi, self.limits, self.remaining(), allow_turn=settle)
            if settle and (turned or shows_upright(layout)):  # a band of no English says nothing about the turn
                self.upright.add(index)
            self.remaining()  # a band that ran into the deadline ends the extraction here
            if turned:  # the page is upside down: every band is read from the turned image, this one again
                # (what was read, turned, is the other end of the page: the top band's read is the page's lower
                # half, kept as its middle band; before, it was kept as the top, and the box was never read)
                prepared = self.images[index] = prepared.turned()
                self.bands = {key: value for key, value in self.bands.items() if key[0] != index}
                if name == "top":
                    self.bands[(index, "middle")] = layout
                layout, _ = ocr_image(band_of(prepared, name), prepared.dpi, self.limits, self.remaining(),
                                      allow_turn=False)  # fmt: skip
                self.remaining()
            self.bands[(index, name)] = layout
            if name != "footer":
                self.ocr_pages.add(index)
            self.any_text = self.any_text or bool(layout.lines)
        return self.bands[(index, name)]

    def band_cleaned(self, index: int, name: str,
                     clean: Callable[[Image.Image, int], tuple[Image.Image, int]]) -> PageLayout | None:  # fmt: skip
        """A band of a scanned page already read, read again as ``clean`` (image, dpi) -> (image, dpi) prepared it
        (``second_looks.py``); None when there is no such band. Kept apart from the band's own read: it is a second
        look, not a better one. Made once: the second looks for a missing field, the stamp's lift and the closer reads
        of a page in doubt may each ask for the same one (dev seeds 4242 and 5150: 31 of 584 asked for twice)."""
        if (index, name) not in self.bands or index not in self.images or not self.scanned(index):
            return None
        prepared = self.images[index]
        key = (index, name, clean)
        if key not in self.cleaned or self.cleaned[key][0] is not prepared:  # a page turned since is read anew
            band = band_of(prepared, name)
            image, dpi = clean(band, prepared.dpi)
            # same image: nothing to take out, the same read again would give the same words
            layout = None if image is band else ocr_image(image, dpi, self.limits, self.remaining(),
                                                          allow_turn=False)[0]  # fmt: skip
            self.cleaned[key] = (prepared, layout)
            self.remaining()
        return self.cleaned[key][1]

    def label(self, index: int) -> Label | None:
        """The footer's label, else a "Page 2 of 3" in the header (where IRS notices print it on later pages; only
        with its total there, so body text such as "see page 3" is not taken for one). An upside-down page (a sheet
        fed the wrong way, or turned sideways) shows its label at the top: on development seed 4242, 7 of the 16
        inner pages held as "no readable page label" were such pages."""
        footer = _footer_label(self.band(index, "footer"))
        if footer is not None:
            return footer
        upside_down = self._label_upside_down(index)
        if upside_down is not None:
            return upside_down
        header = page_label(normalize_text(self.band(index, "top").text))
        if (index, "footer") not in self.bands:  # reading the top turned the page: its footer is the other end
            footer = page_label(normalize_text(self.band(index, "footer").text))
            if footer is not None:
                return footer
        if header is not None and header[1] is not None:
            return header
        return self._turned_label(index)

    def _label_upside_down(self, index: int) -> Label | None:
        """A page fed upside down shows its label at its top, turned: before the page's top band is read for a label,
        that strip is read turned (~0.05 s against ~0.7 s for the band; dev seed 5150: 9 of the 25 top bands read
        for a label the footer did not give were upside-down pages). A label there settles the page's turn."""
        if not self.scanned(index) or index in self.upright or (index, "top") in self.bands:
            return None
        top, bottom = BANDS["footer"]
        strip = prepare(self.document[index], self.limits, strip=(1.0 - bottom, 1.0 - top)).turned()
        found = self._label_as_turned_foot(index, strip.band(0.0, 1.0), strip.dpi)
        if found is not None:
            self.flipped.add(index)
            self.images.pop(index, None)
        return found

    def label_read_closer(self, index: int) -> Label | None:
        """The footer read again, enlarged 2x and binarised: speckle and fading leave a label a person reads and the
        band read garbles ("pa see PS gH AaTe" for "Page 3 of 4"). Weaker than ``label``: one such read took a CP504's
        "Page t" (1) for "Page 3" (dev seed 5150), so it only vouches for a page already judged to start no letter and
        show no other letter's marks (extract._judge_unvouched), never splits letters. A footer that read gives no
        label (or one the file cannot hold) is read again other ways (below), up to four reads (0.72 s a read on
        average in a trace of 60 scans of seed 121393, round 26); at most once a page, only for such pages."""
        if not self.scanned(index) or index not in self.images:
            return None
        if index not in self.closer_labels:
            strip, dpi = band_of(self.images[index], "footer"), self.images[index].dpi
            enlarged = otsu(strip.resize((strip.width * 2, strip.height * 2), Image.Resampling.LANCZOS))
            label = self._read_label(enlarged, dpi * 2)
            if label is None:
                # The strip as scanned, binarised first, then the 3x3 median: what speckle and JPEG blocks leave after
                # binarising goes too (round 8: dev seeds 4242/5150, 4 more of 21 such pages read, none wrong where
                # it could vouch)
                raw = self.images[index].band(*BANDS["footer"], clean=False)
                label = self._read_label(median3(otsu(raw)), dpi)
            if label is None and (edgeless := without_dark_edges(strip)) is not strip:
                label = self._read_label(edgeless, dpi)  # a scanner lid's dark edge hid a faded label (round 12)
            if label is None and (darkened := faint_ink_darkened(strip)) is not strip:
                label = self._read_label(median3(darkened), dpi)  # faint print under dust (round 26)
            self.closer_labels[index] = label
        return self.closer_labels[index]

    def _read_label(self, image: Image.Image, dpi: int) -> Label | None:
        """The label a closer read gives, if this file could hold such a page: a place past the file's last page or
        past its own total is a misread ("Page 40" for "Page 4 of 4", spent seed 75025), and the next way of
        reading the footer is tried instead of stopping at it."""
        words = read_line(image, dpi, 6, "", self.remaining())
        self.remaining()
        label = page_label(normalize_text(" ".join(words)))
        if label is None or label[0] > self.document.page_count or (label[1] is not None and label[0] > label[1]):
            return None
        return label

    def turned_over(self, index: int) -> bool:
        """An unlabelled page that starts no letter, yet turned 180 degrees shows a label: it is upside down (Tesseract
        reads upside-down text as confident nonsense, so its first read looked upright) and must be read again."""
        return self.scanned(index) and self.label(index) is None and self._turned_label(index, force=True) is not None

    def _turned_label(self, index: int, *, force: bool = False) -> Label | None:
        """The label of a page whose top band was too sparse to show it is upside down (an inner page's lower half is
        mostly blank): the footer strip of the page turned 180 degrees. A label there settles the page's turn."""
        if not self.scanned(index) or (index in self.upright and not force) or index not in self.images:
            return None
        turned = self.images[index].turned()
        found = self._label_as_turned_foot(index, band_of(turned, "footer"), turned.dpi)
        if found is not None:
            self.images[index] = turned
        return found

    def _label_as_turned_foot(self, index: int, strip: Any, dpi: int) -> Label | None:
        """The label in a strip read as the foot of the page turned 180 degrees; found, it settles the page as turned:
        every band read so far was of the other end, and this read is its footer."""
        layout, _ = ocr_image(strip, dpi, self.limits, self.remaining(), allow_turn=False)
        self.remaining()
        found = page_label(normalize_text(layout.text))
        if found is not None:
            self.bands = {key: value for key, value in self.bands.items() if key[0] != index}
            self.bands[(index, "footer")] = layout
            self.upright.add(index)
        return found


def _footer_label(footer: PageLayout) -> Label | None:
    """The footer's label; failing that, a label that is a chunk of the footer on its own. A bare "2 of 2" must end
    its line, and OCR may read a speck far beside it as a digit ("2 of 2   4", spent seed 27183, tuned: the
    letter was split at its response page); a chunk is set apart by a gap of over two word heights, so a digit
    printed or read beside the label ("3 of 4 5") still gives none."""
    label = page_label(normalize_text(footer.text))
    if label is not None:
        return label
    chunks = [chunk for line in footer.lines for chunk in line.chunks]
    return next((found for chunk in chunks if (found := page_label(normalize_text(chunk.text))) is not None), None)


def band_of(prepared: PreparedPage, name: str) -> Any:
    return prepared.band(*BANDS[name])
