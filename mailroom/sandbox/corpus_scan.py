"""Turn a text-layer notice into what a mailroom scanner produces: an image-only PDF, slightly skewed, blurred
and noisy, with no text layer at all, so the extractor has to OCR it.

PyMuPDF rasterises the pages; PIL adds the damage. Noise comes from a seeded ``random.Random`` (PIL's own noise
generator cannot be seeded), so the same seed gives byte-identical scans.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageChops, ImageFilter

from mailroom.sandbox.corpus_models import ScanParams


def scan_params(rng: random.Random) -> ScanParams:
    """Damage that OCR still reads with high accuracy: this is an ordinary office scanner, not a fax of a fax."""
    return ScanParams(
        dpi=rng.choice((200, 240, 300)),
        skew_degrees=round(rng.uniform(-1.5, 1.5), 2),
        blur_radius=round(rng.uniform(0.3, 0.9), 2),
        noise=round(rng.uniform(6, 18), 1),
        jpeg_quality=rng.choice((60, 70, 80)),
    )


def _noise_layer(size: tuple[int, int], sigma: float, rng: random.Random) -> Image.Image:
    """Grey-level noise centred on 128 (approximately normal: the sum of two uniforms), plus rare dark specks."""
    count = size[0] * size[1]
    first = Image.frombytes("L", size, rng.randbytes(count))
    second = Image.frombytes("L", size, rng.randbytes(count))
    # triangular distribution on [-255, 255] scaled so its standard deviation is about sigma
    scale = sigma / 104.0
    combined = ImageChops.add(first, ImageChops.invert(second), scale=2.0)  # (a + 255 - b) / 2, centred on 127.5
    speck = 3  # combined values this low occur ~1 in 10,000 pixels: dust on the glass
    lut = [0 if v < speck else max(0, min(255, round(128 + (v - 127.5) * 2 * scale))) for v in range(256)]
    return combined.point(lut)


def _damage_page(image: Image.Image, params: ScanParams, rng: random.Random) -> Image.Image:
    image = image.rotate(params.skew_degrees, resample=Image.Resampling.BILINEAR, fillcolor=255)
    image = image.filter(ImageFilter.GaussianBlur(params.blur_radius))
    noise = _noise_layer(image.size, params.noise, rng)
    return ImageChops.add(image, noise, scale=1.0, offset=-128)


def scan_pdf(source: Path, target: Path, params: ScanParams, *, seed: int) -> int:
    """Write an image-only copy of ``source`` to ``target``; return its page count."""
    import pymupdf  # imported here: it costs ~2 s at import, and most users of the corpus never scan

    rng = random.Random(seed)
    with pymupdf.open(source) as original, pymupdf.open() as scanned:
        for page in original:
            pixmap = page.get_pixmap(dpi=params.dpi, colorspace=pymupdf.csGRAY)
            image = Image.frombytes("L", (pixmap.width, pixmap.height), pixmap.samples)
            damaged = _damage_page(image, params, rng)
            buffer = io.BytesIO()
            damaged.save(buffer, "JPEG", quality=params.jpeg_quality, dpi=(params.dpi, params.dpi))
            new_page = scanned.new_page(width=page.rect.width, height=page.rect.height)
            new_page.insert_image(new_page.rect, stream=buffer.getvalue())
        scanned.set_metadata({"producer": "Mailroom Scanner 3000", "creator": "Mailroom Scanner 3000"})
        scanned.save(target, garbage=3, deflate=True, no_new_id=True)
        return scanned.page_count
