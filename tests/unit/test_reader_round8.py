"""Reader round 8: grey speckle, and values OCR garbles in ways round 7 did not read (docs/extraction.md, "Round 8")."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pymupdf
from PIL import Image, ImageFilter
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

from mailroom.notices import ExtractionLimits
from mailroom.notices.aur import find_aur_control_number
from mailroom.notices.ocr import prepare
from mailroom.notices.pages import Pages
from mailroom_sandbox.papers.damage import _speckle


def _dusty_inner_page(path: Path) -> Path:
    """An inner page in a letter font, scanned at 300 dpi, a little blurred, with the sandbox's speckle (dust and
    sensor noise): rendered at the reader's 200 dpi, each one-pixel speck is averaged into a grey dot (160-200)."""
    source = path.with_suffix(".source.pdf")
    canvas = Canvas(str(source), pagesize=letter)
    canvas.setFont("Courier", 10)
    canvas.drawString(60, 700, "The income and payment information we have on file doesn't match.")
    canvas.drawString(60, 30, "CP2501 (Rev. 01-2022)")
    canvas.drawString(450, 34, "Page 3 of 4")
    canvas.showPage()
    canvas.save()
    with pymupdf.open(source) as original, pymupdf.open() as out:
        pixels = original[0].get_pixmap(dpi=300, colorspace=pymupdf.csGRAY)
        image = Image.frombytes("L", (pixels.width, pixels.height), pixels.samples).filter(ImageFilter.BoxBlur(0.9))
        image = _speckle(image, 0.008, np.random.default_rng(1))
        stream = io.BytesIO()
        image.save(stream, format="PNG")
        out.new_page(width=original[0].rect.width, height=original[0].rect.height).insert_image(
            original[0].rect, stream=stream.getvalue()
        )
        out.save(path)
    return path


def test_grey_speckle_is_cleaned_before_ocr_so_an_inner_pages_label_is_read(tmp_path):
    """Dev seed 4242: three inner pages whose footers a person reads at a glance ("CP2501 (Rev. 01-2022) Page 3 of
    4") came back as "ipa see PS gH AaTe": their speckle was grey at 200 dpi, lighter than the dark line the count
    used, so no 3x3 median ran; the pages were held in doubt and their letters went to review. Without the grey
    levels in the count this page reads no label."""
    with pymupdf.open(_dusty_inner_page(tmp_path / "inner.pdf")) as document:
        assert prepare(document[0], ExtractionLimits()).speckled
        assert Pages(document, ExtractionLimits(), time.monotonic() + 60).label(0) == (3, 4)


def test_an_aur_number_whose_last_one_reads_as_a_bracket_is_repaired():
    # dev seed 4242, SMITH-ABERNATHY: "AUR control number 618445644] | Internal Revenue Service"
    found = find_aur_control_number("AUR control number 618445644] | Internal Revenue Service")
    assert (found.value, found.confidence) == ("6184456441", 0.85)
