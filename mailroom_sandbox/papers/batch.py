"""One file of the corpus: its letters, an optional cover sheet, and how it becomes a PDF (typed or scanned).

A scanned file is drawn as text pages first (cover + letters), then every page is rasterised at the scan's
resolution, damaged and stored as an image: the scanned PDF has no text layer at all, like a copier's output.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import pymupdf
from PIL import Image, ImageDraw, ImageFont

from mailroom_sandbox.papers.damage import ScanPlan, damage_page, encode_page, skew_angle
from mailroom_sandbox.papers.letters import LetterPlan
from mailroom_sandbox.papers.render import PAGE_H, PAGE_W, render_letter

FIXED_PDF_DATE = "D:20250101000000Z"  # metadata dates are fixed so that a seed gives the same files
SENDERS = ("DESERT BOOKKEEPING LLC", "UPS STORE #4411", "FRONT DESK", "H & R TAX SERVICE 1123", "CLIENT")
SCANNERS = ("RICOH MP C3004", "Canon iR-ADV C5535", "HP LaserJet M528", "Brother MFC-L8900CDW", "Xerox VersaLink")
PRODUCERS = ("IRS Notice Print System", "Print Server 4.2", "pdfFactory", "Adobe PDF Library 15.0")


@dataclass(frozen=True)
class CoverPlan:
    kind: str  # fax | scan_sheet
    when: datetime
    sender: str
    re_name: str | None  # the client's name as the sender wrote it on the cover, if they did
    total_pages: int
    batch_number: int


@dataclass(frozen=True)
class FilePlan:
    file_id: str
    kind: str  # typed | scanned
    file_name: str
    letters: tuple[LetterPlan, ...]
    cover: CoverPlan | None
    scan: ScanPlan | None
    producer: str

    @property
    def cover_pages(self) -> int:
        return 1 if self.cover else 0

    @property
    def page_count(self) -> int:
        return self.cover_pages + sum(letter.page_count for letter in self.letters)

    def page_ranges(self) -> list[tuple[int, int]]:
        ranges, first = [], self.cover_pages + 1
        for letter in self.letters:
            ranges.append((first, first + letter.page_count - 1))
            first += letter.page_count
        return ranges


def plan_cover(rng: random.Random, letters: tuple[LetterPlan, ...], total_pages: int) -> CoverPlan:
    first = letters[0]
    when = datetime.combine(first.notice_date + timedelta(days=rng.randrange(4, 20)), datetime.min.time())
    when += timedelta(hours=rng.randrange(8, 18), minutes=rng.randrange(60), seconds=rng.randrange(60))
    re_name = None
    if rng.random() < 0.5:
        person = first.taxpayer
        re_name = rng.choice((f"{person.last}, {person.first}", f"{person.first.title()} {person.last.title()}",
                              person.last))
    return CoverPlan(kind=rng.choice(("fax", "scan_sheet")), when=when, sender=rng.choice(SENDERS),
                     re_name=re_name, total_pages=total_pages, batch_number=rng.randrange(1, 9999))


def _cover_page(doc: pymupdf.Document, cover: CoverPlan) -> None:
    page = doc.new_page(width=PAGE_W, height=PAGE_H)
    y = 90.0

    def line(text: str, size: float = 12, bold: bool = False, gap: float = 1.6) -> None:
        nonlocal y
        page.insert_text((72, y), text, fontname="tibo" if bold else "tiro", fontsize=size)
        y += size * gap

    if cover.kind == "fax":
        line("FAX", 40, True, 1.4)
        line(f"Date: {cover.when:%m/%d/%Y}      Time: {cover.when:%H:%M}")
        line("To: Intake - Tax Resolution Dept        Fax: (555) 010-2231")
        line(f"From: {cover.sender}        Phone: (555) 010-{cover.batch_number:04d}")
        line(f"Pages (including cover): {cover.total_pages}")
        line("Re: IRS letter" + (f" - {cover.re_name}" if cover.re_name else ""))
        line("Comments: Please see the attached notice we received. Call us with any questions.")
        y += 40
        line("CONFIDENTIALITY NOTICE: This fax may contain confidential taxpayer information. If you received it",
             9)
        line("in error, please notify the sender and destroy all copies.", 9)
    else:
        line("SCAN SEPARATOR SHEET", 24, True)
        line(f"Scanned by: front desk ({SCANNERS[cover.batch_number % len(SCANNERS)]})")
        line(f"Date: {cover.when:%Y-%m-%d %H:%M:%S}")
        line(f"Batch: {cover.batch_number:04d}    Documents: 1    Pages: {cover.total_pages}")
        line("Destination: Drive / IRS Notices / Incoming")
        if cover.re_name:
            line(f"Client: {cover.re_name}")
        page.draw_rect(pymupdf.Rect(72, 400, 540, 700), color=(0, 0, 0), width=2)
        page.insert_text((200, 560), "DO NOT REMOVE", fontname="tibo", fontsize=28)


def text_document(plan: FilePlan) -> pymupdf.Document:
    doc = pymupdf.open()
    if plan.cover:
        _cover_page(doc, plan.cover)
    for letter in plan.letters:
        render_letter(doc, letter)
    doc.subset_fonts()  # embed only the glyphs used: a TrueType font in full is ~300 KB per file
    doc.set_metadata({"producer": plan.producer, "creator": plan.producer, "creationDate": FIXED_PDF_DATE,
                      "modDate": FIXED_PDF_DATE, "title": "", "author": ""})
    return doc


def _fax_header(image: Image.Image, plan: FilePlan, page: int, dpi: int) -> Image.Image:
    """The transmission line a fax machine prints across the top of every page it sends."""
    when = plan.cover.when if plan.cover else datetime.combine(plan.letters[0].notice_date, datetime.min.time())
    if plan.cover is None and plan.scan is not None:
        when += timedelta(days=3 + plan.scan.seed % 9, minutes=480 + plan.scan.seed % 600)
    text = f"{when:%b-%d-%Y %H:%M}  FROM: 555 010 2231   TO: 5550102231   P. {page}/{plan.page_count}"
    image = image.copy()
    ImageDraw.Draw(image).text((int(0.4 * dpi), int(0.12 * dpi)), text.upper(),
                               font=ImageFont.load_default(size=int(dpi / 9)), fill=0)
    return image


def _rasterise(page: pymupdf.Page, dpi: int, angle: float) -> Image.Image:
    """The page as a sheet on the glass: rendered at ``dpi``, turned by ``angle`` degrees, cropped to the sheet."""
    zoom = dpi / 72.0
    pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom).prerotate(angle), colorspace=pymupdf.csGRAY, alpha=False)
    image = Image.frombuffer("L", (pix.width, pix.height), pix.samples, "raw", "L", 0, 1)
    width, height = round(page.rect.width * zoom), round(page.rect.height * zoom)
    left, top = (image.width - width) // 2, (image.height - height) // 2
    return image.crop((left, top, left + width, top + height)) if angle else image.copy()


def _anchors(page: pymupdf.Page, plan: FilePlan, number: int) -> dict[str, tuple[float, float, float, float]]:
    """Where the taxpayer's name line and the notice box are drawn on this page, so that a stamp "over the
    address" or an underlined name lands where the text really is in every layout."""
    anchors: dict[str, tuple[float, float, float, float]] = {}
    for letter, (first, last) in zip(plan.letters, plan.page_ranges()):
        if first <= number <= last:
            hits = page.search_for(letter.name_lines()[0])
            if hits:
                x0, y0, x1, y1 = hits[0]
                anchors["name_line"] = (x0, y0, x1, y1)
                anchors["address"] = (x0, y0 - 12, x1 + 30, y1 + 36)  # the block, partly over the text
            hits = page.search_for(letter.letter_type)
            if hits:
                x0, y0, x1, y1 = hits[0]
                anchors["box"] = (x0 - 20, y0, x1 + 20, y1 + 60)
    return anchors


def scanned_document(plan: FilePlan) -> pymupdf.Document:
    if plan.scan is None:
        raise ValueError(f"{plan.file_id} is planned as scanned without a scan plan")
    source = text_document(plan)
    out = pymupdf.open()
    dpi = plan.scan.dpi
    for index, page in enumerate(source, start=1):
        image = _rasterise(page, dpi, skew_angle(plan.scan, index))
        if "fax_threshold" in plan.scan.kinds:
            image = _fax_header(image, plan, index, dpi)
        image = damage_page(image, plan.scan, index, _anchors(page, plan, index))
        data, _ = encode_page(image, plan.scan, index)
        width_pt, height_pt = image.width * 72.0 / dpi, image.height * 72.0 / dpi
        target = out.new_page(width=width_pt, height=height_pt)
        target.insert_image(target.rect, stream=data)
    out.set_metadata({"producer": SCANNERS[plan.scan.seed % len(SCANNERS)], "creator": "Scan to PDF",
                      "creationDate": FIXED_PDF_DATE, "modDate": FIXED_PDF_DATE, "title": "", "author": ""})
    return out


def build_pdf(plan: FilePlan) -> bytes:
    doc = text_document(plan) if plan.kind == "typed" else scanned_document(plan)
    try:
        return doc.tobytes(garbage=3, deflate=True, no_new_id=True)
    finally:
        doc.close()

