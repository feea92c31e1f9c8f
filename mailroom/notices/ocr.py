"""OCR of one page: PyMuPDF renders it, Tesseract (Debian ``tesseract-ocr``, through pytesseract) reads it.

Tesseract runs as a child process; pytesseract kills it when ``timeout`` passes, so a pathological page costs at most
the remaining time budget. The English model ships with the Debian package: nothing is downloaded at run time.
"""

from __future__ import annotations

import math
import os

import pymupdf
import pytesseract
from PIL import Image

from mailroom.errors import ConfigurationError
from mailroom.notices.model import ExtractionError, ExtractionFailure, ExtractionLimits

# Tesseract uses OpenMP threads by default; on a shared 2-core runner that oversubscribes the CPU and was slower in
# our measurements than one thread per page (parallelism belongs to the pipeline's task runner instead).
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def tesseract_config(limits: ExtractionLimits) -> str:
    return f"--oem 1 --psm {limits.ocr_page_segmentation}"


def _native_dpi(page: pymupdf.Page) -> int:
    """The resolution of the largest image on the page, as if it covered the page (a scanner's output); 0 if none."""
    try:
        widths = [image[2] for image in page.get_images(full=True)]
    except Exception:  # an unreadable image list just means "no native resolution"
        return 0
    return int(max(widths, default=0) / max(page.rect.width / 72, 1e-6))


def render_page(page: pymupdf.Page, limits: ExtractionLimits) -> Image.Image:
    """The page as a grayscale image, at the configured dpi or lower if the page is absurdly large."""
    square_inches = max(page.rect.width / 72 * page.rect.height / 72, 1e-6)
    # A scan is OCR'd at its own resolution when that is finer than ocr_dpi: resampling a 300-dpi black-and-white
    # scan down to 200 dpi cost letters in measurements ("BARAWJAS" for BARAJAS, "GALLAGHER I" for "II").
    wanted = min(max(limits.ocr_dpi, _native_dpi(page)), limits.ocr_max_dpi)
    # memory bound: never more than max_page_pixels bytes of grayscale, however large the page claims to be
    dpi = max(1, min(wanted, int(math.sqrt(limits.max_page_pixels / square_inches))))
    try:
        pixmap = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
    except Exception as exc:  # MuPDF's own error types: the page's content cannot be drawn
        described = f"{type(exc).__name__} {exc}".lower()
        if isinstance(exc, MemoryError) or "memory" in described or "malloc" in described:
            # under the isolated worker's RLIMIT_AS MuPDF reports FzErrorSystem("malloc ... failed")
            message = f"rendering page {page.number + 1} needs more memory than allowed"
            raise ExtractionError(ExtractionFailure.TOO_LARGE, message) from None
        message = f"page {page.number + 1} cannot be rendered for OCR ({type(exc).__name__})"
        raise ExtractionError(ExtractionFailure.CORRUPT, message) from None
    return Image.frombytes("L", (pixmap.width, pixmap.height), pixmap.samples)


def ocr_page(page: pymupdf.Page, limits: ExtractionLimits, *, timeout_seconds: float) -> str:
    if timeout_seconds <= 0:
        raise ExtractionError(
            ExtractionFailure.TIMEOUT, f"time budget of {limits.time_budget_seconds:.1f} s spent before OCR"
        )
    image = render_page(page, limits)
    try:
        return pytesseract.image_to_string(image, lang="eng", config=tesseract_config(limits), timeout=timeout_seconds)
    except pytesseract.TesseractNotFoundError:
        # the machine, not the file, is at fault: every scanned notice would fail the same way until it is installed
        raise ConfigurationError(
            "Tesseract OCR is not installed (Debian package tesseract-ocr; see scripts/install.sh)",
            service="extraction", operation="ocr",
        ) from None
    except RuntimeError as exc:
        # pytesseract signals its own timeout with RuntimeError("Tesseract process timeout")
        if "timeout" in str(exc).lower():
            raise ExtractionError(
                ExtractionFailure.TIMEOUT,
                f"OCR of page {page.number + 1} exceeded the {limits.time_budget_seconds:.1f} s time budget",
            ) from None
        raise
