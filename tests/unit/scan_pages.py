"""A page drawn from a few strings, scanned: rendered, damaged as the test asks, and saved as an image-only PDF."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pymupdf
from PIL import Image
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas


def scanned_strings(path: Path, strings: list[tuple[float, float, str]], *, font: str, dpi: int, mode: str,
                    damage: Callable[[Image.Image], Image.Image], image_format: str) -> Path:  # fmt: skip
    """``strings`` are (x, y, text) in points from the page's bottom left; ``mode`` "L" or "RGB"."""
    source = path.with_suffix(".source.pdf")
    canvas = Canvas(str(source), pagesize=letter)
    canvas.setFont(font, 10)
    for x, y, text in strings:
        canvas.drawString(x, y, text)
    canvas.showPage()
    canvas.save()
    with pymupdf.open(source) as original, pymupdf.open() as out:
        colourspace = pymupdf.csRGB if mode == "RGB" else pymupdf.csGRAY
        pixels = original[0].get_pixmap(dpi=dpi, colorspace=colourspace)
        image = damage(Image.frombytes(mode, (pixels.width, pixels.height), pixels.samples))
        stream = io.BytesIO()
        image.save(stream, format=image_format, **({"quality": 85} if image_format == "JPEG" else {}))
        page = out.new_page(width=original[0].rect.width, height=original[0].rect.height)
        page.insert_image(original[0].rect, stream=stream.getvalue())
        out.save(path)
    return path
