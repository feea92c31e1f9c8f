"""Open a PDF safely and read its text layer with PyMuPDF.

Every way a file can be unreadable maps to one ``ExtractionFailure`` before any page is parsed, so a bad file costs
milliseconds and never reaches the OCR engine. PyMuPDF was chosen over pypdf and pdfplumber by measurement (see
docs/extraction.md and benchmarks/extraction.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pymupdf

from mailroom.notices.model import ExtractionError, ExtractionFailure, ExtractionLimits

# A page whose text layer has fewer letters/digits than this is treated as scanned (headers of scanner software
# sometimes add a few characters of invisible text).
MIN_USABLE_CHARS = 40
_PDF_MAGIC = b"%PDF-"
_EOF_MARKER = b"%%EOF"

pymupdf.TOOLS.mupdf_display_errors(False)  # MuPDF prints repair warnings to stderr; we report failures ourselves
pymupdf.TOOLS.mupdf_display_warnings(False)


def read_checked_bytes(path: Path, limits: ExtractionLimits) -> bytes:
    """The file's bytes, or the specific reason it is not a PDF we will read."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExtractionError(ExtractionFailure.CORRUPT, f"file cannot be read ({type(exc).__name__})") from None
    if size == 0:
        raise ExtractionError(ExtractionFailure.EMPTY, "file is empty (0 bytes)")
    if size > limits.max_bytes:
        raise ExtractionError(
            ExtractionFailure.TOO_LARGE, f"file is {size} bytes, over the {limits.max_bytes}-byte limit"
        )
    data = path.read_bytes()
    if _PDF_MAGIC not in data[:1024]:
        raise ExtractionError(ExtractionFailure.NOT_PDF, "file does not start with a PDF header")
    if _EOF_MARKER not in data[-2048:]:
        # MuPDF would silently "repair" a truncated file and hand us a partial document; we refuse it instead.
        raise ExtractionError(ExtractionFailure.CORRUPT, "PDF is truncated (no %%EOF trailer)")
    return data


def release_caches() -> None:
    """Empty MuPDF's process-wide store once a document is closed. The store keeps decoded images and fonts of closed
    documents up to 256 MB, so a long run's flow grew by ~5 MB per scanned file until it was full (measured: 16 scans
    read 3 times, 315 -> 414 -> 483 MB; with this after each file, 201 MB flat)."""
    pymupdf.TOOLS.store_shrink(100)


def open_document(data: bytes, limits: ExtractionLimits) -> pymupdf.Document:
    try:
        document = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # MuPDF raises its own FzError* types and RuntimeError; all mean "cannot parse"
        raise ExtractionError(ExtractionFailure.CORRUPT, f"PDF cannot be parsed ({type(exc).__name__})") from None
    if document.needs_pass or document.is_encrypted:
        document.close()
        raise ExtractionError(ExtractionFailure.ENCRYPTED, "PDF is password-protected")
    if document.page_count == 0:
        document.close()
        raise ExtractionError(ExtractionFailure.CORRUPT, "PDF has no pages")
    if document.page_count > limits.max_pages:
        count = document.page_count
        document.close()
        raise ExtractionError(
            ExtractionFailure.TOO_MANY_PAGES, f"PDF has {count} pages, over the {limits.max_pages}-page limit"
        )
    return document


def page_text(page: pymupdf.Page) -> str:
    try:
        return page.get_text("text", sort=True)
    except Exception as exc:
        message = f"page {page.number + 1} cannot be read ({type(exc).__name__})"
        raise ExtractionError(ExtractionFailure.CORRUPT, message) from None


def is_usable(text: str) -> bool:
    return len(re.findall(r"[A-Za-z0-9]", text)) >= MIN_USABLE_CHARS


def write_page_range(source: Path, first_page: int, last_page: int, destination: Path) -> Path:
    """Pages ``first_page``..``last_page`` (1-based, inclusive) of ``source`` as their own PDF: one letter of a file
    that holds several, filed as its own document. ``destination`` sits in the caller's private directory."""
    with pymupdf.open(source) as document, pymupdf.open() as letter:
        letter.insert_pdf(document, from_page=first_page - 1, to_page=last_page - 1)
        letter.save(destination, garbage=3, deflate=True)
    destination.chmod(0o600)
    return destination
