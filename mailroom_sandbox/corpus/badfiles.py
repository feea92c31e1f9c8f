"""Files a mailroom really receives that cannot be read: an empty upload, a PDF cut off mid-transfer, a
password-protected PDF, a phone photo saved as ``.pdf``, and a 300-page "notice" (a whole case file scanned in).

Each maker checks its own result with pypdf, so a future pypdf that repairs more cannot silently turn a bad file
into a good one: generation fails loudly instead.
"""

from __future__ import annotations

import io
import logging
import random
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from mailroom_sandbox.corpus.models import BadFileReason

OVERSIZE_PAGES = 300
# (reason, Drive name template); {last} is the taxpayer's last name in capitals, {mdy} the notice date
BAD_FILE_NAMES: tuple[tuple[BadFileReason, str], ...] = (
    (BadFileReason.EMPTY, "scan_{ymd}_{seq:04d}.pdf"),
    (BadFileReason.CORRUPT, "CP2000 DTD {mdy}_{last} - {seq:04d}.pdf"),
    (BadFileReason.ENCRYPTED, "CP2000 {last} - password protected.pdf"),
    (BadFileReason.NOT_PDF, "IMG_{seq:04d}.pdf"),
    (BadFileReason.TOO_MANY_PAGES, "CP2000 {last} with full case file.pdf"),
)


class BadFileNotBadError(RuntimeError):
    """pypdf read a file that was meant to be unreadable."""


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs a warning for every defect it works around; here the defects are the point."""
    logger = logging.getLogger("pypdf")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


def pypdf_can_read(data: bytes) -> bool:
    try:
        with _quiet_pypdf():
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                return False
            for page in reader.pages:
                page.extract_text()
            return len(reader.pages) > 0
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError):
        return False


def truncate(valid_pdf: bytes) -> bytes:
    """Cut the PDF where an interrupted transfer would: early enough that no page survives."""
    for fraction in (0.45, 0.3, 0.2, 0.1):
        data = valid_pdf[: int(len(valid_pdf) * fraction)]
        if not pypdf_can_read(data):
            return data
    raise BadFileNotBadError("pypdf recovered every truncation of the notice")


def encrypt(valid_pdf: bytes, rng: random.Random) -> bytes:
    """AES-256 with a user password nobody knows: pypdf reports ``is_encrypted`` and cannot read the text."""
    writer = PdfWriter(clone_from=io.BytesIO(valid_pdf))
    writer.encrypt(user_password=rng.randbytes(12).hex(), owner_password=rng.randbytes(12).hex(), algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def phone_photo(rng: random.Random) -> bytes:
    """A JPEG (a photo of a letter on a desk) that someone saved with a .pdf extension."""
    image = Image.new("RGB", (900, 1200), (rng.randrange(90, 140), rng.randrange(60, 90), 40))
    draw = ImageDraw.Draw(image)
    draw.rectangle((120, 100, 800, 1100), fill=(235, 235, 228))
    for y in range(180, 1050, 26):
        draw.line((170, y, rng.randrange(450, 760), y), fill=(60, 60, 60), width=3)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=75)
    return buffer.getvalue()


def write_bad_file(reason: BadFileReason, target: Path, *, valid_pdf: bytes, rng: random.Random) -> None:
    """Write the bad file for ``reason``; ``valid_pdf`` is a rendered notice (already 300 pages for oversize)."""
    if reason is BadFileReason.EMPTY:
        data = b""
    elif reason is BadFileReason.CORRUPT:
        data = truncate(valid_pdf)
    elif reason is BadFileReason.ENCRYPTED:
        data = encrypt(valid_pdf, rng)
    elif reason is BadFileReason.NOT_PDF:
        data = phone_photo(rng)
    else:
        data = valid_pdf
        if len(PdfReader(io.BytesIO(data)).pages) < OVERSIZE_PAGES:
            raise BadFileNotBadError("the oversize notice has fewer pages than promised")
    if reason is not BadFileReason.TOO_MANY_PAGES and pypdf_can_read(data):
        raise BadFileNotBadError(f"the {reason.value} file is readable")
    target.write_bytes(data)
