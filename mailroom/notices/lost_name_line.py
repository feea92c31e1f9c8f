"""lost_name_line: the taxpayer's name line OCR dropped above a joint block's second line, read on its own.

A two-line joint block ("ANDREW WANG" over "SUSAN J WANG") in faded or blurred print can lose its first line whole:
Tesseract's page layout never makes a line of it, so no cleaning of the band's words can bring it back, and the
spouse on the second line becomes the taxpayer. The matcher then compares the spouse with the case's taxpayer and
finds "a different first name" (dev seeds 4242 and 5150, tuned: 4 letters lost so, the first line plain to a person
in each).

When the block read has one name line and blank paper (or only OCR debris) fills the line's height above it, that
strip is read on its own, enlarged and binarised, as one line. A name read there becomes the block's first line: the
taxpayer, with the line below as the spouse. Unsure (the CRM must find the case's own name among the page's lines,
``page_confirmation.py``). Nothing is added when the strip reads as no person's name (blank paper reads as nothing).
One small OCR (~0.05 s), only for letters whose block has one name line and nothing above it.
"""

from __future__ import annotations

import re

from PIL import Image

from mailroom.notices.address import BlockNames, parse_name_lines, unreadable, clean_name_line
from mailroom.notices.layout import Chunk, Word
from mailroom.notices.letter import Letter
from mailroom.notices.model import FieldSource
from mailroom.notices.names import is_not_a_name
from mailroom.notices.ocr import otsu, read_words
from mailroom.notices.pages import Pages
from mailroom.notices.parse import Found

FOUND_LINE_CONFIDENCE = 0.75  # a line OCR's layout missed, read alone: the CRM confirms the case
_NAME_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ '-&."


def _name_chunk(pages: Pages, letter: Letter, line: str) -> tuple[int, Chunk, list[Chunk]] | None:
    """The page, chunk and the page's chunks of the block's name line, from the letter's bands already read."""
    for (page, band), layout in pages.bands.items():
        if band != "top" or not letter.first <= page <= letter.last or page not in pages.images:
            continue
        chunks = layout.chunks()
        for chunk in chunks:
            if clean_name_line(chunk)[0] == line:
                return page, chunk, chunks
    return None


def _above(chunk: Chunk, chunks: list[Chunk]) -> tuple[int, int, int, int] | Chunk | None:
    """What is one line high above ``chunk``, over the width of the block's lines aligned with it: a readable chunk
    there (a line OCR read but the block did not take: its box reaches into the line below), else the strip's box when
    only blank paper or debris is there; None when the line above is something else."""
    height = chunk.y1 - chunk.y0
    block = [c for c in chunks if abs(c.x0 - chunk.x0) < 1.5 * height and chunk.y0 <= c.y0 < chunk.y1 + 4 * height]
    below = [c.y0 - chunk.y0 for c in block if c.y0 > chunk.y0 + 0.5 * height]
    pitch = min(below) if below else 1.25 * height  # the block's own line spacing: the lost line sits one above
    top, bottom = chunk.y0 - pitch - 0.3 * height, min(chunk.y1 - pitch + 0.3 * height, chunk.y0 - 0.05 * height)
    left, right = chunk.x0 - 0.5 * height, max(c.words[-1].x1 for c in block) + 0.5 * height
    readable = [other for other in chunks if other is not chunk and other.y0 < bottom and other.y1 > top
                and other.x0 < right and other.words[-1].x1 > left and not unreadable(other)]  # fmt: skip
    if readable:
        return readable[0] if len(readable) == 1 and abs(readable[0].x0 - chunk.x0) < 1.5 * height else None
    return int(max(0.0, left)), int(max(0.0, top)), int(right), int(bottom)


def _read_strip(pages: Pages, page: int, box: tuple[int, int, int, int]) -> Chunk | None:
    prepared = pages.images[page]
    crop = prepared.image.crop(box)
    enlarged = otsu(crop.resize((crop.width * 2, crop.height * 2), Image.Resampling.LANCZOS))
    words = read_words(enlarged, prepared.dpi * 2, 7, _NAME_CHARACTERS, pages.remaining())
    pages.remaining()
    boxes = [Word(w.text, w.conf, w.left, w.top, w.left + w.width, w.top + w.height) for w in words]
    return Chunk(boxes) if boxes else None


def _surname_parts(surname: str) -> set[str]:
    return set(re.split(r"[- ]", surname)) - {""}


def find_lost_first_line(pages: Pages, letter: Letter) -> None:
    """The letter's block, one name line read, given the line above it when that is a joint block's first line."""
    block = letter.block
    if block is None or block.names is None or block.names.spouse is not None or len(block.lines) != 1:
        return
    if "&" in block.lines[0] or "spouse_last_name" in letter.found or not pages.scanned(letter.first):
        return
    located = _name_chunk(pages, letter, block.lines[0])
    if located is None:
        return
    page, chunk, chunks = located
    above = _above(chunk, chunks)
    read = _read_strip(pages, page, above) if isinstance(above, tuple) else above
    if read is None:
        return
    line, _, _ = clean_name_line(read)
    if len(line.split()) < 2 or "&" in line or is_not_a_name(line):
        return
    names = parse_name_lines([line, block.lines[0]])
    if names is None or names.spouse is None:
        return
    if not _surname_parts(names.taxpayer.last) & _surname_parts(names.spouse.last):
        return  # debris read as words ("CARD BH IRODER URS CUS"): a joint block's two people share a surname's part
    letter.block = BlockNames(names=names, min_conf=0.0, cleaned=True, lines=(line, block.lines[0]))
    known = letter.found.get("taxpayer_last_name")
    confidence = min(FOUND_LINE_CONFIDENCE, known.confidence) if known else FOUND_LINE_CONFIDENCE
    for role, person in (("taxpayer", names.taxpayer), ("spouse", names.spouse)):
        letter.put(f"{role}_first_name", Found(person.first, confidence), FieldSource.OCR)
        letter.put(f"{role}_last_name", Found(person.last, confidence), FieldSource.OCR)
