"""OCR of one page: PyMuPDF renders it, Tesseract (Debian ``tesseract-ocr``, through pytesseract) reads it.

Tesseract runs as a child process; pytesseract kills it when ``timeout`` passes, so a pathological page costs at most
the remaining time budget. The English model ships with the Debian package: nothing is downloaded at run time.
"""

from __future__ import annotations

import pymupdf
import pytesseract
from PIL import Image

from mailroom.notices.model import ExtractionError, ExtractionFailure, ExtractionLimits

# --psm 4 ("a single column of text of variable sizes") kept the label/value pairs of notice headers on one line in
# our measurements; --psm 3 (automatic) split the right-hand header box into a separate block more often.
TESSERACT_CONFIG = "--oem 1 --psm 4"


def render_page(page: pymupdf.Page, limits: ExtractionLimits) -> Image.Image:
    """The page as a grayscale image, at the configured dpi or lower if the page is absurdly large."""
    dpi = limits.ocr_dpi
    width_in, height_in = page.rect.width / 72, page.rect.height / 72
    while dpi > 72 and width_in * height_in * dpi * dpi > limits.max_page_pixels:
        dpi = int(dpi * 0.8)
    pixmap = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
    return Image.frombytes("L", (pixmap.width, pixmap.height), pixmap.samples)


def ocr_page(page: pymupdf.Page, limits: ExtractionLimits, *, timeout_seconds: float) -> str:
    if timeout_seconds <= 0:
        raise ExtractionError(ExtractionFailure.TIMEOUT, f"time budget of {limits.time_budget_seconds:.0f} s spent before OCR")
    image = render_page(page, limits)
    try:
        return pytesseract.image_to_string(image, lang="eng", config=TESSERACT_CONFIG, timeout=timeout_seconds)
    except RuntimeError as exc:
        # pytesseract signals its own timeout with RuntimeError("Tesseract process timeout")
        if "timeout" in str(exc).lower():
            raise ExtractionError(
                ExtractionFailure.TIMEOUT,
                f"OCR of page {page.number + 1} exceeded the {limits.time_budget_seconds:.0f} s time budget",
            ) from None
        raise
