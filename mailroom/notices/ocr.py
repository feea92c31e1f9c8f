"""OCR of one page: PyMuPDF renders it, light preprocessing, Tesseract (in memory, ``tesseract.py``) reads it.

What is done to a page, each step kept because it measured better on the development seeds (docs/extraction.md):
- render in grayscale at ``ocr_dpi`` (200): a 300-dpi scan is averaged down, which also melts fax speckle; a colour
  scan is made grey from each pixel's brightest channel, so a red or blue stamp or pen fades out (colour dropout);
- a landscape page is a sideways page: it is turned upright; an upside-down page is found by its first read (text,
  but hardly a common English word in it) and read again turned 180 degrees, so an upright page pays nothing for
  the check;
- speckle: a 1-bit (fax) page is rendered at 1.5x, smoothed and averaged down; a greyscale page that shows
  salt-and-pepper speckle (isolated dark pixels at full resolution) gets a 3x3 median.
Tesseract binarises (Otsu) and tolerates the ±3 degree skew of a scanner feed itself; our own deskew and
binarisation did not pay for their time (measured, see the docs).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
import pymupdf
from PIL import Image, ImageChops, ImageFilter

from mailroom.notices import tesseract
from mailroom.notices.layout import PageLayout, Word, build_layout
from mailroom.notices.model import ExtractionError, ExtractionFailure, ExtractionLimits

# (darkness, isolated pixels of at least that darkness per pixel) above which a page gets the 3x3 median. Speckle
# comes dark or grey: grey dots (160-200) are below the 128 line, yet Tesseract's own binarisation turns them into ink
# (dev seed 4242: three footers a person reads at a glance came back as "ipa see PS gH AaTe"). On its pages without
# speckle at most 4.0 (128), 1.8 (160), 1.5 (200) per 10,000 pixels were isolated; on speckled pages the median was
# 12, 36, 54 (tuned).
_SPECKLE_LEVELS = ((128, 1.8e-4), (160, 2.5e-4), (200, 2.5e-4))
# Words any English letter about taxes is made of. Tesseract reads upside-down text as words too, often at
# confidences of 40-80 ("ayy" for "the", "pue" for "and", "noA" for "you"), so confidence could not tell a blurred
# upright page from a turned one (dev seed 5150: 9 of 32 lost true matches were pages kept upside down); these
# words can: a turned page almost never spells one.
_COMMON_WORDS = frozenset(
    "the and you your for our are this that with not have has will was from can any all may tax taxes notice amount "
    "due date return income irs internal revenue service department treasury payment pay number year social "
    "security control contact call page total response respond changes information reported form please send "
    "what about more how need other credit balance interest penalty".split()
)
_UPRIGHT_WORDS = 3  # this many common words in a band: it is upright
_JUDGED_WORDS = 8  # fewer words of 3+ letters than this: the band is too sparse to say anything about its turn


def render_page(page: pymupdf.Page, limits: ExtractionLimits, dpi: int | None = None,
                strip: tuple[float, float] | None = None) -> tuple[Image.Image, int]:  # fmt: skip
    """The page (or a horizontal strip of it, as shares of its height) as a grayscale image and its dpi, lowered if
    the page is absurdly large (memory bound)."""
    square_inches = max(page.rect.width / 72 * page.rect.height / 72, 1e-6)
    wanted = min(dpi or limits.ocr_dpi, limits.ocr_max_dpi)
    dpi = max(1, min(wanted, int(math.sqrt(limits.max_page_pixels / square_inches))))
    rect = page.rect
    clip = None if strip is None else pymupdf.Rect(rect.x0, rect.y0 + strip[0] * rect.height, rect.x1,
                                                   rect.y0 + strip[1] * rect.height)  # fmt: skip
    try:
        colour = _coloured(page)
        pixmap = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csRGB if colour else pymupdf.csGRAY, alpha=False,
                                 clip=clip)  # fmt: skip
    except Exception as exc:  # MuPDF's own error types: the page's content cannot be drawn
        described = f"{type(exc).__name__} {exc}".lower()
        if isinstance(exc, MemoryError) or "memory" in described or "malloc" in described:
            # under the isolated worker's RLIMIT_AS MuPDF reports FzErrorSystem("malloc ... failed")
            message = f"rendering page {page.number + 1} needs more memory than allowed"
            raise ExtractionError(ExtractionFailure.TOO_LARGE, message) from None
        message = f"page {page.number + 1} cannot be rendered for OCR ({type(exc).__name__})"
        raise ExtractionError(ExtractionFailure.CORRUPT, message) from None
    if colour:
        return _without_coloured_ink(Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)), dpi
    return Image.frombytes("L", (pixmap.width, pixmap.height), pixmap.samples), dpi


def _coloured(page: pymupdf.Page) -> bool:
    """The page holds a colour image (a colour scan: someone's stamp or pen is on it)."""
    try:
        return any(int(info.get("colorspace") or 1) >= 3 for info in page.get_image_info())
    except Exception:  # an unreadable image list: read the page in grey
        return False


def _without_coloured_ink(image: Image.Image) -> Image.Image:
    """Grey from each pixel's brightest channel: black print is dark in every channel, a red or blue stamp or pen
    is bright in its own, so it fades to a light grey that binarising drops (scanners call this colour dropout).
    PIL's per-pixel maximum of the three bands gives the same pixels as numpy's ``max(axis=2)``: 0.005 s against
    0.09 s a 200-dpi page (round 31; 9 of dev seed 4242's first 100 scans have a coloured stamp or pen)."""
    red, green, blue = image.split()
    return ImageChops.lighter(ImageChops.lighter(red, green), blue)


def _edge_depth(profile: np.ndarray, limit: float, cap: int) -> int:
    """How many rows (or columns) from the edge ``profile`` starts with stay darker than ``limit``."""
    lighter = np.flatnonzero(profile[:cap] >= limit)
    return int(lighter[0]) if lighter.size else cap


def without_dark_edges(image: Image.Image) -> Image.Image:
    """The image with the dark edges a scanner's lid leaves along a side set to paper. Tesseract binarises the whole
    band at one level; a black edge pulls that level down, and the faint print of a faded page falls on the paper
    side of it (dev seed 3131: footers reading ":" or "|" read "Page 2 of 4" without the edge). An edge is the run of
    rows or columns, from the image's side inwards, whose median is well below the paper's; at most an eighth of the
    image from each side, so a page's dark photograph or table is never taken for one.

    For a footer read closer only (pages.py): done to every page before its first read, it changed what OCR made of
    marginal print both ways, and lost true matches (round 12: dev seed 3131 +4, 5150 -6)."""
    pixels = np.asarray(image)
    sample = pixels[::4, ::4]
    limit = float(np.median(sample)) - 40
    rows, columns = np.median(pixels[:, ::4], axis=1), np.median(pixels[::4, :], axis=0)
    height, width = pixels.shape
    top, bottom = _edge_depth(rows, limit, height // 8), _edge_depth(rows[::-1], limit, height // 8)
    left, right = _edge_depth(columns, limit, width // 8), _edge_depth(columns[::-1], limit, width // 8)
    if not top + bottom + left + right:
        return image
    cleaned = pixels.copy()
    cleaned[:top], cleaned[height - bottom :], cleaned[:, :left], cleaned[:, width - right :] = 255, 255, 255, 255
    return Image.fromarray(cleaned)


# Print whose darker fifth is darker than this is not faded: of the first pages' top bands of three seeds (80 scans
# each), 34 of 46 faded ones measure 120 or lighter, 14 of 194 others (blurred light print; median 36), tuned.
# Fewer marks than this are dust, not print.
_DARK_INK = 120
_FAINT_INK_MIN_PIXELS = 200


def faint_ink_darkened(image: Image.Image) -> Image.Image:
    """A faded band's print at full contrast: its faint ink (the darker fifth of what is not paper, a scanner lid's
    dark edge left out) set to black, the paper's own grey to white, the levels between spread over the range; the
    image itself when it holds no print, or when its print is dark already.

    Faded print under speckle (a faded page scanned at 150 dpi with dust on the glass): the dark dots and a lid's
    dark edge are what Tesseract's binarisation splits off, the faint print (grey 175-200 on paper at 245) falls on
    the paper's side, and every read of such a footer gave nothing: "Page 3" a person reads at a glance (spent
    held-out seed 121393, LOPEZ). Of the true matches lost on fourteen seeds, 38 of 95 letters on faded, speckled 150-dpi
    scans (24 of them held in doubt by a footer no read gave); 7 of 338 on clean 150-dpi scans. Used for closer
    reads only (``pages.label_read_closer``, ``second_looks``): done to every faded speckled band before its first
    read, it won no true match and read fewer surnames and last 4s (round 26, docs/extraction.md)."""
    pixels = np.asarray(without_dark_edges(image))
    paper = float(np.median(pixels))
    marks = pixels[pixels < paper - 25]
    if marks.size < _FAINT_INK_MIN_PIXELS:
        return image
    ink = float(np.percentile(marks, 20))
    if ink < _DARK_INK:
        return image
    stretched = (pixels.astype(np.float32) - ink) * (255.0 / max(paper - ink, 1.0))
    return Image.fromarray(np.clip(stretched, 0, 255).astype(np.uint8))


def _isolated_share(dark: np.ndarray) -> float:
    """The share of pixels that are dark and none of whose 8 neighbours is."""
    padded = np.pad(dark, 1)
    height, width = dark.shape
    neighbours = np.zeros(dark.shape, dtype=np.uint8)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy != 1 or dx != 1:
                neighbours += padded[dy : dy + height, dx : dx + width]
    return int(np.count_nonzero(dark & (neighbours == 0))) / max(dark.size, 1)


def _speckled(image: Image.Image) -> bool:
    """Salt-and-pepper noise: dark (or grey) pixels none of whose 8 neighbours is as dark, at the page's own
    resolution.

    A printed stroke is never one pixel alone, so text, blur and JPEG blocks count (almost) nothing (the levels and
    what was measured: ``_SPECKLE_LEVELS``). The earlier count (on a half-size thumbnail, where thin strokes fall
    apart into dots) called 12 of 13 greyscale pages speckled, and the 3x3 median it triggered was the most expensive
    step of preparing a page (~0.19 s).
    """
    pixels = np.asarray(image)
    return any(_isolated_share(pixels < level) > share for level, share in _SPECKLE_LEVELS)


def _read(image: Image.Image, dpi: int, psm: int, timeout: float, *, whitelist: str = "",
          budget: float | None = None) -> list[tesseract.Word]:  # fmt: skip
    try:
        return tesseract.recognize_words(image.tobytes(), image.width, image.height, dpi=dpi, psm=psm,
                                         timeout_seconds=timeout, whitelist=whitelist)  # fmt: skip
    except TimeoutError:
        spent = "the time budget" if budget is None else f"the {budget:.1f} s time budget"
        raise ExtractionError(ExtractionFailure.TIMEOUT, f"OCR exceeded {spent}") from None


# Compare-exchanges that leave the median of 9 values in position 4 (Paeth's network, 19 exchanges).
_MEDIAN_OF_9 = ((1, 2), (4, 5), (7, 8), (0, 1), (3, 4), (6, 7), (1, 2), (4, 5), (7, 8), (0, 3), (5, 8), (4, 7),
                (3, 6), (1, 4), (2, 5), (4, 7), (4, 2), (6, 4), (4, 2))  # fmt: skip


def median3(image: Image.Image) -> Image.Image:
    """The 3x3 median of a greyscale image, edges repeated: pixel for pixel what PIL's ``MedianFilter(3)`` gives,
    as 19 vectorised min/max passes (~7x faster on a page band: 9 ms against 68 ms; tests/unit/test_reader_round9.py
    compares the two). It ran on every band of a speckled page and was the costliest step outside Tesseract."""
    padded = np.pad(np.asarray(image), 1, mode="edge")
    height, width = image.height, image.width
    values = [padded[dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3)]
    for low, high in _MEDIAN_OF_9:
        values[low], values[high] = np.minimum(values[low], values[high]), np.maximum(values[low], values[high])
    return Image.fromarray(values[4])


def otsu_level(counts: np.ndarray) -> int | None:
    """The grey level that best splits a histogram (counts per level) into two tones; None for one tone only."""
    levels = np.arange(counts.size)
    below = np.cumsum(counts)
    above = below[-1] - below
    mass = np.cumsum(counts * levels)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mass / below - (mass[-1] - mass) / above) ** 2 * below * above
    between = np.nan_to_num(between[:-1], nan=-1.0)
    return int(np.argmax(between)) if between.size and between.max() > 0 else None


def otsu(image: Image.Image) -> Image.Image:
    """Black and white at the threshold that best splits the region's two tones (ink and paper)."""
    pixels = np.asarray(image)
    threshold = otsu_level(np.bincount(pixels.ravel(), minlength=256).astype(float))
    if threshold is None:  # one tone only (a blank region): nothing to split
        return image
    return Image.fromarray(((pixels > threshold) * 255).astype(np.uint8))


def read_line(image: Image.Image, dpi: int, psm: int, whitelist: str, timeout: float) -> list[str]:
    """The words of a small region read on its own (an SSN's value, ``rereads.py``; a page's foot read closer,
    ``pages.py``), limited to ``whitelist``'s characters when it names any."""
    return [word.text for word in _read(image, dpi, psm, timeout, whitelist=whitelist)]


def read_words(image: Image.Image, dpi: int, psm: int, whitelist: str, timeout: float) -> list[tesseract.Word]:
    """As ``read_line``, with each word's confidence and box (a name line read on its own, ``lost_name_line.py``)."""
    return _read(image, dpi, psm, timeout, whitelist=whitelist)


def _common_words(words: list[tesseract.Word] | list[Word]) -> int:
    return sum("".join(ch for ch in w.text if ch.isalpha()).lower() in _COMMON_WORDS for w in words)


def shows_upright(layout: PageLayout) -> bool:
    """The band spells enough common words to settle its page's turn. Garbage with letters is no evidence: a
    page's upside-down foot (its label and scan line) is 8 "words" of 3+ letters and not one word of English."""
    return _common_words([word for line in layout.lines for word in line.words]) >= _UPRIGHT_WORDS


def _enough_to_judge(texts: list[str]) -> bool:
    """A band with this many words of 3+ letters says whether its page is upright; a sparser one (a scan line, a
    page label, numbers) says nothing, upright or turned."""
    return sum(sum(ch.isalpha() for ch in text) >= 3 for text in texts) >= _JUDGED_WORDS


def _maybe_turned(words: list[tesseract.Word]) -> bool:
    """Enough letters to judge, too few common words among them: the band may be upside down."""
    return _enough_to_judge([w.text for w in words]) and _common_words(words) < _UPRIGHT_WORDS


def ocr_image(image: Image.Image, dpi: int, limits: ExtractionLimits, deadline_seconds: float, *,
              allow_turn: bool = True) -> tuple[PageLayout, bool]:  # fmt: skip
    """Words of a page image as lines, and whether it had to be turned 180 degrees (its first read was poor)."""
    started, queued = time.monotonic(), tesseract.queue_wait_seconds()
    words = _read(image, dpi, limits.ocr_page_segmentation, deadline_seconds, budget=limits.time_budget_seconds)
    turned = False
    if allow_turn and _maybe_turned(words):
        worked = time.monotonic() - started - (tesseract.queue_wait_seconds() - queued)
        again = _read(image.rotate(180), dpi, limits.ocr_page_segmentation, deadline_seconds - worked,
                      budget=limits.time_budget_seconds)
        if _common_words(again) > max(_common_words(words), _UPRIGHT_WORDS - 1):
            image, words, turned = image.rotate(180), again, True
    grouped: dict[tuple[int, int, int], list[Word]] = {}
    for w in words:
        grouped.setdefault(w.line, []).append(Word(w.text, w.conf, w.left, w.top, w.right, w.bottom))
    return build_layout(list(grouped.values()), image.width, image.height), turned


def _bilevel(page: pymupdf.Page) -> bool:
    """The page is a 1-bit image (a fax, or a scanner's black-and-white mode)."""
    try:
        return any(image[4] == 1 for image in page.get_images(full=True))
    except Exception:  # an unreadable image list: treat as greyscale
        return False


@dataclass(frozen=True)
class PreparedPage:
    """A page rendered and upright as far as its shape tells. Speckle is cleaned band by band as bands are cut: most
    pages are read only in part (an inner page's footer strip for its label), and the 3x3 median of a whole page was
    the costliest step of preparing it (~0.13 s of ~0.18 s on a speckled page)."""

    image: Image.Image
    dpi: int
    speckled: bool
    upside_down: bool = False  # the image was turned 180 degrees from the page as rendered

    def band(self, top: float, bottom: float, *, clean: bool = True) -> Image.Image:
        """The strip between two shares of the page's height, cleaned of speckle unless ``clean`` is False."""
        strip = self.image.crop((0, int(top * self.image.height), self.image.width, int(bottom * self.image.height)))
        return median3(strip) if self.speckled and clean else strip

    def turned(self) -> PreparedPage:
        return replace(self, image=self.image.rotate(180), upside_down=not self.upside_down)


def sideways(page: pymupdf.Page) -> bool:
    """Letters are portrait: a landscape page is a sheet scanned turned sideways."""
    return page.rect.width > page.rect.height * 1.1


def prepare(page: pymupdf.Page, limits: ExtractionLimits, strip: tuple[float, float] | None = None) -> PreparedPage:
    """Rendered, upright for a sideways page, with speckle noted; with ``strip`` (shares of an upright page's height)
    only that strip is rendered: an inner page is often read only for the label at its foot, and rendering the whole
    page for it cost ~0.04 s (a fax page ~0.18 s) against ~0.004 s for the strip.

    A 1-bit page (fax) is rendered finer, smoothed and averaged down: its thin strokes survive and isolated specks
    fade to grey, which Tesseract's own binarisation drops. A greyscale page with salt-and-pepper speckle gets a 3x3
    median instead, band by band (on 1-bit Courier the median erased whole strokes: measured, docs/extraction.md).
    """
    if strip is not None and sideways(page):
        whole = prepare(page, limits)
        return replace(whole, image=whole.band(*strip), speckled=False)
    speckled = False
    if limits.ocr_despeckle and _bilevel(page):
        fine, fine_dpi = render_page(page, limits, dpi=min(int(limits.ocr_dpi * 1.5), limits.ocr_max_dpi), strip=strip)
        image = fine.filter(ImageFilter.GaussianBlur(0.8 * fine_dpi / 300))
        dpi = min(limits.ocr_dpi, fine_dpi)
        image = image.resize((fine.width * dpi // fine_dpi, fine.height * dpi // fine_dpi), Image.Resampling.BOX)
    else:
        image, dpi = render_page(page, limits, strip=strip)
        speckled = limits.ocr_despeckle and _speckled(image)
    if sideways(page):
        image = image.rotate(90, expand=True)
    return PreparedPage(image, dpi, speckled)


def ocr_page(page: pymupdf.Page, limits: ExtractionLimits, *, timeout_seconds: float) -> PageLayout:
    """The whole page read by OCR (benchmarks and tests; the reader reads pages band by band)."""
    if timeout_seconds <= 0:
        raise ExtractionError(
            ExtractionFailure.TIMEOUT, f"time budget of {limits.time_budget_seconds:.1f} s spent before OCR"
        )
    prepared = prepare(page, limits)
    return ocr_image(prepared.band(0.0, 1.0), prepared.dpi, limits, timeout_seconds)[0]
