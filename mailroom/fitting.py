"""Fit a notice PDF under the Logiqs upload limit by recompressing its images, or say why it cannot be fitted.

A colour scan at 300 dpi easily weighs 10 MB, and Logiqs takes at most 6 MB per document. Refusing such a notice
would leave it FAILED in its input folder for ever (every run tries it again), so before the upload the images of an
oversize PDF are downsampled and re-encoded as JPEG (PyMuPDF's ``Document.rewrite_images``), one rung of a ladder
at a time, always from the original bytes, until the copy fits. Text, vector content and page count are kept.
150 dpi is where the ladder starts: a letter stays comfortably readable there (fax is 200 x 100 dpi); it stops at
96 dpi, below which small print suffers. A PDF whose weight is not in its images (an embedded attachment, thousands
of vector pages) cannot be fitted this way: the caller sets it aside with the reason this module gives.

The copy is a pure function of the original bytes and the PyMuPDF version (``no_new_id``, no timestamps), so a
notice fitted again after a crash uploads the very same bytes; its SHA-256 is what the ledger records.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import pymupdf
from pydantic import BaseModel

from mailroom.logiqs import MAX_DOCUMENT_BYTES
from mailroom.notices.text_layer import release_caches

logger = logging.getLogger(__name__)

MB = 1024 * 1024
# (target dpi, JPEG quality): tried in order until the copy fits
LADDER: tuple[tuple[int, int], ...] = ((150, 70), (120, 60), (96, 50))


class Fitting(BaseModel):
    """What will be uploaded: ``path`` (the original when it already fits) or, when nothing fits, ``failure``."""

    path: Path | None = None
    sha256: str | None = None
    original_bytes: int
    final_bytes: int | None = None
    recompressed: bool = False
    dpi: int | None = None  # the rung that made it fit
    failure: str | None = None  # report-safe: sizes and the limit only

    @property
    def fits(self) -> bool:
        return self.path is not None


def fit_document(source: Path, dest: Path, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> Fitting:
    """``source`` itself when it is within ``max_bytes``; else a recompressed copy written to ``dest``.

    Never raises for the document's sake: a PDF that cannot be fitted (or read) comes back with ``failure``."""
    source, dest = Path(source), Path(dest)
    size = source.stat().st_size
    if size <= max_bytes:
        return Fitting(path=source, sha256=_sha256_file(source), original_bytes=size, final_bytes=size)
    data = source.read_bytes()
    smallest: int | None = None
    for dpi, quality in LADDER:
        try:
            copy = _recompressed(data, dpi, quality)
        except (RuntimeError, ValueError) as exc:  # PyMuPDF's errors; the text of the PDF never reaches the message
            logger.warning("recompressing a document failed at %d dpi: %s", dpi, type(exc).__name__)
            return _failure(size, max_bytes, f"it could not be recompressed ({type(exc).__name__})")
        smallest = len(copy) if smallest is None else min(smallest, len(copy))
        logger.info("recompressed %.1f MB to %.1f MB at %d dpi, JPEG quality %d", size / MB, len(copy) / MB, dpi,
                    quality)
        if len(copy) <= max_bytes:
            _write_atomically(dest, copy)
            return Fitting(path=dest, sha256=hashlib.sha256(copy).hexdigest(), original_bytes=size,
                           final_bytes=len(copy), recompressed=True, dpi=dpi)
    last_dpi = LADDER[-1][0]
    return _failure(size, max_bytes, f"even with its images recompressed to {last_dpi} dpi it is "
                    f"{(smallest or size) / MB:.1f} MB (the weight is not in its images)")


def _recompressed(data: bytes, dpi: int, quality: int) -> bytes:
    with pymupdf.open(stream=data, filetype="pdf") as document:
        pages = document.page_count
        # Only images above the target resolution are touched; black-and-white (CCITT/JBIG2) ones are already small
        # and would only get worse as JPEG.
        document.rewrite_images(dpi_threshold=dpi + dpi // 10, dpi_target=dpi, quality=quality, bitonal=False)
        copy = document.tobytes(garbage=4, deflate=True, no_new_id=True)
    with pymupdf.open(stream=copy, filetype="pdf") as check:
        if check.page_count != pages:
            raise ValueError("page count changed")
    release_caches()  # a 10 MB scan's decoded images would otherwise stay in MuPDF's store
    return copy


def _failure(size: int, max_bytes: int, why: str) -> Fitting:
    return Fitting(original_bytes=size, failure=f"document is {size / MB:.1f} MB, over the {max_bytes / MB:g} MB "
                   f"Logiqs upload limit, and {why}")


def _write_atomically(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the notice: owner only
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(partial, dest)


def _sha256_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
