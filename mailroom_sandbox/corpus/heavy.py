"""Heavy notices: what a scanner set to colour and 300 dpi sends, and a notice whose weight no recompression removes.

* ``colour_scan`` is a "searchable PDF" as office scanners make them: each page is a 300 dpi colour photo of the
  paper (tinted, noisy: the noise is what keeps JPEG from shrinking it) with the page's text layer kept on top, so
  it reads like the original. Three pages weigh about 10-13 MB: over Logiqs' 6 MB, readable, and normal.
* ``with_attachment`` keeps the notice as it is and attaches an incompressible file to it (the scanner's raw image,
  say): its weight is not in its images, so recompressing them cannot bring it under the limit.

Both are deterministic for a seed (a seeded ``random.Random``; PIL's own noise cannot be seeded), and fast: no OCR
is needed to read them, and building one takes a second or two.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageChops

PAPER_TINT = (250, 244, 230)  # recycled office paper, as a colour scanner sees it


def colour_scan(notice_pdf: bytes, *, seed: int, dpi: int = 300, quality: int = 97, pages: int = 3,
                noise: int = 12) -> bytes:
    """The first ``pages`` pages of the notice, each over a ``dpi`` colour photo of itself (JPEG ``quality``)."""
    import pymupdf  # imported here, as in corpus.scan: most users of the corpus never build one

    rng = random.Random(seed)
    lut = [max(0, min(255, 128 + round((v - 127.5) * noise / 127.5))) for v in range(256)] * 3
    with pymupdf.open(stream=notice_pdf, filetype="pdf") as original, pymupdf.open() as heavy:
        heavy.insert_pdf(original, to_page=min(pages, original.page_count) - 1)
        for page in heavy:
            pixmap = page.get_pixmap(dpi=dpi)
            photo = Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)
            grain = Image.frombytes("RGB", photo.size, rng.randbytes(3 * photo.width * photo.height)).point(lut)
            photo = ImageChops.multiply(ImageChops.add(photo, grain, scale=1.0, offset=-128),
                                        Image.new("RGB", photo.size, PAPER_TINT))
            buffer = io.BytesIO()
            photo.save(buffer, "JPEG", quality=quality, dpi=(dpi, dpi))
            page.insert_image(page.rect, stream=buffer.getvalue(), overlay=False)  # under the text layer
        heavy.set_metadata({"producer": "Mailroom Scanner 3000 (colour, 300 dpi)"})
        return heavy.tobytes(garbage=3, deflate=True, no_new_id=True)


def with_attachment(notice_pdf: bytes, *, seed: int, size: int = 7 * 1024 * 1024) -> bytes:
    """The notice with ``size`` incompressible bytes attached (an embedded file image recompression cannot touch)."""
    import pymupdf

    with pymupdf.open(stream=notice_pdf, filetype="pdf") as document:
        document.embfile_add("scanner-raw.bin", random.Random(seed).randbytes(size), filename="scanner-raw.bin")
        return document.tobytes(garbage=3, deflate=True, no_new_id=True)
