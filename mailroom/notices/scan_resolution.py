"""A second look at a page's top band at the scan's own resolution, with a lighter ink (a clerk's stamp) taken out
before the page is averaged down to the OCR resolution.

A grey "RECEIVED" stamp over the address block: on a 300-dpi scan the letter's thin Courier print is black (grey
0-16) and the stamp's ink grey (96-112), two inks a cut between them parts cleanly. Rendered at the reader's 200
dpi, each stroke is averaged with the paper beside it and turns as grey as the stamp, so the cut ``second_looks``
makes at 200 dpi (the darkest ink only) takes the print with the stamp: "HOTANE HH VAM RULEN-LEAULIRG" for
"NIAMH H VAN BUREN-BEAULIEU" (dev seed 5150). Here the cut is made first, at the scan's resolution, and the
black-and-white band is then averaged down to the OCR resolution (round 27).

Only for a page scanned finer than it is read (a 150- or 200-dpi scan has no finer detail to cut at), and only for
a letter still missing what a case is found by after every other look; the values it gives fill fields still
missing, as a second look's do.
"""

from __future__ import annotations

import pymupdf
from PIL import Image

from mailroom.notices.layout import PageLayout
from mailroom.notices.ocr import PreparedPage, ocr_image, render_page, sideways
from mailroom.notices.pages import Pages, band_of
from mailroom.notices.second_looks import dark_ink_only

_FINER_BY = 1.2  # a scan this much finer than the read's resolution has detail the averaging loses


def scan_dpi(page: pymupdf.Page) -> int | None:
    """The resolution the page's largest image was scanned at (its pixels over the area it covers, so a sideways
    placement does not matter), or None for a page with no image."""
    try:
        images = [(int(info["width"]) * int(info["height"]), pymupdf.Rect(info["bbox"]))
                  for info in page.get_image_info()]  # fmt: skip
    except Exception:  # an unreadable image list: no scan resolution to use
        return None
    pixels, box = max(images, key=lambda image: image[0], default=(0, pymupdf.Rect()))
    square_inches = abs(box.width / 72 * box.height / 72)
    return round((pixels / square_inches) ** 0.5) if pixels and square_inches > 0 else None


def dark_ink_at_scan_resolution(pages: Pages, index: int) -> PageLayout | None:
    """The top band of page ``index`` read again with its lighter ink cut away at the scan's resolution; None
    where the page was not read, is no finer scan, or shows one ink only."""
    prepared = pages.images.get(index)
    if prepared is None or not pages.scanned(index):
        return None
    page = pages.document[index]
    native = scan_dpi(page)
    if native is None or native < prepared.dpi * _FINER_BY:
        return None
    image, dpi = render_page(page, pages.limits, dpi=native)
    if dpi < prepared.dpi * _FINER_BY:  # bounded by the page-size limits: no finer than the read
        return None
    if sideways(page):
        image = image.rotate(90, expand=True)
    if prepared.upside_down:
        image = image.rotate(180)
    band = band_of(PreparedPage(image, dpi, prepared.speckled), "top")  # cut and despeckled as the reader's bands
    cut, _ = dark_ink_only(band, dpi)
    if cut is band:
        return None  # one ink: nothing to take out
    smaller = cut.resize((cut.width * prepared.dpi // dpi, cut.height * prepared.dpi // dpi), Image.Resampling.BOX)
    layout, _ = ocr_image(smaller, prepared.dpi, pages.limits, pages.remaining(), allow_turn=False)
    pages.remaining()
    return layout
