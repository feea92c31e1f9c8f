"""Turn a text-layer notice into what a mailroom scanner produces: an image-only PDF, slightly skewed, blurred
and noisy, with no text layer at all, so the extractor has to OCR it.

Two scanner settings, both common in offices: grey-level JPEG (200-240 dpi) and black-and-white 1-bit
(200-300 dpi, lossless). Page sizes stay realistic (gray ~0.3-0.6 MB/page, bw ~40 KB/page), so no scanned notice
comes near the 6 MB Logiqs upload limit by accident. PyMuPDF rasterises the pages; PIL adds the damage. Noise comes
from a seeded ``random.Random`` (PIL's own noise generator cannot be seeded), so the same seed gives byte-identical
scans.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageChops, ImageFilter

from mailroom_sandbox.corpus.models import ScanParams

DUST_LEVEL = 3  # noise values this low (about 1 pixel in 10,000) become dark specks: dust on the glass


def scan_params(rng: random.Random) -> ScanParams:
    """Damage that OCR still reads with high accuracy: an ordinary office scanner, not a fax of a fax."""
    mode = rng.choice(("gray", "bw"))
    return ScanParams(
        mode=mode,
        dpi=rng.choice((200, 240)) if mode == "gray" else rng.choice((200, 240, 300)),
        skew_degrees=round(rng.uniform(-1.5, 1.5), 2),
        blur_radius=round(rng.uniform(0.3, 0.9), 2),
        noise=round(rng.uniform(4, 12), 1),
        jpeg_quality=rng.choice((55, 65, 75)),
        threshold=rng.choice((150, 160, 170)),
    )


def _noise_layer(size: tuple[int, int], sigma: float, rng: random.Random) -> Image.Image:
    """Grey-level noise centred on 128 (triangular, the sum of two uniforms, std ~ sigma) plus rare dark specks."""
    count = size[0] * size[1]
    first = Image.frombytes("L", size, rng.randbytes(count))
    second = Image.frombytes("L", size, rng.randbytes(count))
    combined = ImageChops.add(first, ImageChops.invert(second), scale=2.0)  # (a + 255 - b) / 2, centred on 127.5
    scale = sigma / 52.0  # the triangular variable above has a standard deviation of about 52 grey levels
    lut = [0 if v < DUST_LEVEL else max(0, min(255, round(128 + (v - 127.5) * scale))) for v in range(256)]
    return combined.point(lut)


def _damage_page(image: Image.Image, params: ScanParams, rng: random.Random) -> Image.Image:
    image = image.rotate(params.skew_degrees, resample=Image.Resampling.BILINEAR, fillcolor=255)
    image = ImageChops.add(image, _noise_layer(image.size, params.noise, rng), scale=1.0, offset=-128)
    image = image.filter(ImageFilter.GaussianBlur(params.blur_radius))  # optics blur the sensor's noise too
    if params.mode == "bw":
        return image.point(lambda v: 255 if v > params.threshold else 0, mode="1")
    return image


def _encode(image: Image.Image, params: ScanParams) -> bytes:
    buffer = io.BytesIO()
    if params.mode == "bw":
        image.save(buffer, "PNG", dpi=(params.dpi, params.dpi))
    else:
        image.save(buffer, "JPEG", quality=params.jpeg_quality, dpi=(params.dpi, params.dpi))
    return buffer.getvalue()


def scan_pdf(source: Path, target: Path, params: ScanParams, *, seed: int) -> int:
    """Write an image-only copy of ``source`` to ``target``; return its page count."""
    import pymupdf  # imported here: it costs ~2 s at import, and most users of the corpus never scan

    rng = random.Random(seed)
    with pymupdf.open(source) as original, pymupdf.open() as scanned:
        for page in original:
            pixmap = page.get_pixmap(dpi=params.dpi, colorspace=pymupdf.csGRAY)
            image = Image.frombytes("L", (pixmap.width, pixmap.height), pixmap.samples)
            new_page = scanned.new_page(width=page.rect.width, height=page.rect.height)
            new_page.insert_image(new_page.rect, stream=_encode(_damage_page(image, params, rng), params))
        scanned.set_metadata({"producer": "Mailroom Scanner 3000", "creator": "Mailroom Scanner 3000"})
        scanned.save(target, garbage=3, deflate=True, no_new_id=True)
        return scanned.page_count
