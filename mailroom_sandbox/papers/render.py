"""Draw a letter's pages with PyMuPDF (a real text layer), in the plan's layout and font.

No reportlab here, and no Helvetica: Courier and Times are the PDF base-14 fonts, the monospace letter font is a
TrueType embedded from the machine (see layout.mono_ttf_path). Pages are US Letter, 612 x 792 points.
"""

from __future__ import annotations

import random

import pymupdf

from mailroom_sandbox.papers.layout import ADDRESS_POSITIONS, Layout, mono_ttf_path
from mailroom_sandbox.papers.letters import LetterPlan
from mailroom_sandbox.papers.wording import Block, LetterContent, compose

PAGE_W, PAGE_H = 612.0, 792.0
LEFT, RIGHT = 54.0, 558.0
BODY_BOTTOM = 742.0
BLACK = (0, 0, 0)


class Pen:
    """Writes and measures text on one page in the layout's regular and bold faces."""

    def __init__(self, page: pymupdf.Page, layout: Layout) -> None:
        self.page = page
        self.size = layout.font_size
        regular, bold = _faces(layout.font)
        self.names: dict[bool, str] = {}
        self.fonts: dict[bool, pymupdf.Font] = {}
        for is_bold, face in ((False, regular), (True, bold)):
            if face.endswith(".ttf"):
                alias = "mono" + ("B" if is_bold else "R")
                page.insert_font(fontname=alias, fontfile=face)
                self.names[is_bold], self.fonts[is_bold] = alias, _font(face)
            else:
                self.names[is_bold], self.fonts[is_bold] = face, _font(face)

    def width(self, text: str, bold: bool = False, size: float | None = None) -> float:
        advances = _advances(self.names[bold], self.fonts[bold])
        total = 0.0
        for ch in text:
            if ch not in advances:
                advances[ch] = self.fonts[bold].glyph_advance(ord(ch))
            total += advances[ch]
        return total * (size or self.size)

    def text(self, x: float, y: float, text: str, bold: bool = False, size: float | None = None,
             color: tuple[float, float, float] = BLACK) -> None:
        self.page.insert_text((x, y), text, fontname=self.names[bold], fontsize=size or self.size, color=color)

    def right(self, x_right: float, y: float, text: str, bold: bool = False, size: float | None = None) -> None:
        self.text(x_right - self.width(text, bold, size), y, text, bold, size)

    def wrap(self, text: str, width: float, bold: bool = False, size: float | None = None) -> list[str]:
        lines: list[str] = []
        current = ""
        for word in text.split():
            candidate = f"{current} {word}".strip()
            if current and self.width(candidate, bold, size) > width:
                lines.append(current)
                current = word
            else:
                current = candidate
        return lines + ([current] if current else [])

    @property
    def leading(self) -> float:
        return self.size * 1.3


_ADVANCES: dict[str, dict[str, float]] = {}
_FONTS: dict[str, pymupdf.Font] = {}


def _advances(name: str, font: pymupdf.Font) -> dict[str, float]:
    # PyMuPDF measures text a character at a time through several layers; a per-font cache is 10x faster.
    return _ADVANCES.setdefault(name + str(font.name), {})


def _font(face: str) -> pymupdf.Font:
    if face not in _FONTS:
        _FONTS[face] = pymupdf.Font(fontfile=face) if face.endswith(".ttf") else pymupdf.Font(face)
    return _FONTS[face]


def _faces(font: str) -> tuple[str, str]:
    if font == "mono_ttf":
        path = mono_ttf_path()
        if path is None:
            raise RuntimeError("mono_ttf layout planned on a machine without DejaVu Sans Mono")
        bold = path.with_name("DejaVuSansMono-Bold.ttf")
        return str(path), str(bold if bold.is_file() else path)
    if font == "times":
        return "tiro", "tibo"
    if font == "times_courier":
        return "cour", "tibo"
    return "cour", "cobo"


def _letterhead(pen: Pen, content: LetterContent, layout: Layout) -> float:
    """Draws the sender block; returns the y below it. A left box moves the letterhead to the right."""
    lines = content.return_address
    size = pen.size
    if layout.box_style == "left":
        y = 48.0
        for i, line in enumerate(lines):
            pen.right(RIGHT, y, line, bold=i < 2)
            y += pen.leading
        return y
    if layout.letterhead == "centered":
        y = 44.0
        for i, line in enumerate(lines):
            text = line.upper() if i < 2 else line
            pen.text((PAGE_W - pen.width(text, i < 2)) / 2, y, text, bold=i < 2)
            y += pen.leading
        return y
    if layout.letterhead == "title_bar":
        pen.page.draw_rect(pymupdf.Rect(LEFT, 30, 300, 50), color=None, fill=(0.15, 0.15, 0.15))
        pen.text(LEFT + 6, 44, "IRS  Department of the Treasury", bold=True, color=(1, 1, 1))
        pen.text(LEFT, 64, lines[1], bold=True)
        pen.text(LEFT, 64 + pen.leading, lines[2])
        return 64 + 2 * pen.leading
    x = LEFT
    if layout.letterhead == "seal_left":
        pen.page.draw_circle((LEFT + 18, 58), 17, color=BLACK, width=1.2)
        pen.text(LEFT + 8, 62, "IRS", bold=True, size=size + 1)
        x = LEFT + 44
    y = 48.0
    for i, line in enumerate(lines):
        pen.text(x, y, line, bold=i < 2)
        y += pen.leading
    return y


def _box(pen: Pen, rows: list[tuple[str, str]], layout: Layout, top: float) -> float:
    """Draws the notice box; returns its bottom. ``table`` is a label row over a value row across the page."""
    if layout.box_style == "table":
        cells = rows[:6]
        cell_w = (RIGHT - LEFT) / len(cells)
        small = pen.size - 1.5
        while small > 6.0 and any(max(pen.width(label, size=small), pen.width(value, True, small)) > cell_w - 6
                                  for label, value in cells):
            small -= 0.5  # a printed table shrinks its type to fit the cells rather than overprint them
        for i, (label, value) in enumerate(cells):
            x = LEFT + i * cell_w + 3
            pen.text(x, top + 11, label, size=small)
            pen.text(x, top + 24, value, bold=True, size=small)
        for i in range(len(cells) + 1):  # a table always has its grid
            x = LEFT + i * cell_w
            pen.page.draw_line((x, top), (x, top + 30), color=BLACK, width=0.6)
        pen.page.draw_rect(pymupdf.Rect(LEFT, top, RIGHT, top + 30), color=BLACK, width=0.6)
        extra_y = top + 42
        for label, value in rows[6:]:
            pen.text(LEFT, extra_y, f"{label}: {value}", size=small)
            extra_y += pen.leading
        return extra_y
    x0, x1 = (LEFT, 300.0) if layout.box_style == "left" else (340.0, RIGHT)
    y = top + 12
    for label, value in rows:
        pen.text(x0 + 5, y, label)
        if pen.width(label) + pen.width(value, True) + 16 > x1 - x0:  # long value: its own line
            y += pen.leading
        pen.right(x1 - 5, y, value, bold=True)
        y += pen.leading
    if layout.box_frame:
        pen.page.draw_rect(pymupdf.Rect(x0, top, x1, y - pen.leading + 6), color=BLACK, width=0.8)
    return y


def _address(pen: Pen, content: LetterContent, layout: Layout, floor: float, rng: random.Random) -> float:
    x, y = ADDRESS_POSITIONS[layout.address_position]
    y = max(y, floor)
    if rng.random() < 0.3:  # the mail-sort line the print shop puts above the name
        sort_line = (f"{rng.randrange(10**6):06d}.{rng.randrange(10**6):06d}.{rng.randrange(10**4):04d}.001 1 AT "
                     f"0.{rng.randrange(300, 499)} 530")
        pen.text(x, y, sort_line, size=pen.size - 2)
        y += pen.leading
    for line in content.address_lines:
        pen.text(x, y, line)
        y += pen.leading
    return y


def _blocks(pen: Pen, blocks: list[Block], y: float) -> float:
    for block in blocks:
        if y > BODY_BOTTOM:
            break
        if block.kind == "heading":
            for line in pen.wrap(block.text, RIGHT - LEFT, bold=True):
                pen.text(LEFT, y, line, bold=True)
                y += pen.leading
            y += 3
        elif block.kind == "para":
            for line in pen.wrap(block.text, RIGHT - LEFT):
                if y > BODY_BOTTOM:
                    break
                pen.text(LEFT, y, line)
                y += pen.leading
            y += 4
        elif block.kind == "row":
            pen.text(LEFT + 12, y, block.text)
            pen.right(RIGHT - 18, y, block.value)
            y += pen.leading
        elif block.kind == "check":
            pen.page.draw_rect(pymupdf.Rect(LEFT + 2, y - pen.size + 2, LEFT + 2 + pen.size - 2, y),
                               color=BLACK, width=0.7)
            for line in pen.wrap(block.text, RIGHT - LEFT - 24):
                pen.text(LEFT + 20, y, line)
                y += pen.leading
            y += 3
        elif block.kind == "rule":
            pen.page.draw_line((LEFT, y - pen.size / 2), (RIGHT, y - pen.size / 2), color=BLACK, width=0.5)
            y += pen.leading / 2
    return y


def _footer(pen: Pen, content: LetterContent, layout: Layout, number: int, total: int) -> None:
    pen.text(LEFT, PAGE_H - 24, content.footer, size=pen.size - 1.5)
    pen.right(RIGHT, PAGE_H - 24, layout.page_label.format(n=number, total=total), size=pen.size - 1.5)


def _first_page(page: pymupdf.Page, plan: LetterPlan, content: LetterContent, rng: random.Random) -> None:
    layout = plan.layout
    pen = Pen(page, layout)
    head_bottom = _letterhead(pen, content, layout)
    rows = list(content.box_rows)
    if layout.box_style in ("right", "left") and rng.random() < 0.6:
        rows.append(("Page", layout.page_label.format(n=1, total=plan.page_count).removeprefix("Page ")))
    floor, box_bottom = 0.0, 0.0
    if layout.box_style in ("right", "left"):
        top = 40.0 if layout.box_style == "left" else 36.0
        if layout.box_style == "right" and layout.letterhead == "centered":
            top = head_bottom + 6  # a centred letterhead spans the page: the box goes below it
        box_bottom = _box(pen, rows, layout, top)
        floor = box_bottom + 14 if layout.box_style == "left" else 0.0
    elif layout.box_style == "table":
        box_bottom = _box(pen, rows, layout, head_bottom + 4)
        floor = box_bottom + 14
    address_bottom = _address(pen, content, layout, max(floor, head_bottom + 16), rng)
    y = max(address_bottom, box_bottom) + 24
    for i, title in enumerate(content.titles):
        size = pen.size + (3 if i == 0 else 1)
        for line in pen.wrap(title, RIGHT - LEFT, bold=True, size=size):
            pen.text(LEFT, y, line, bold=True, size=size)
            y += size * 1.3
    y += 6
    if layout.box_style == "inline":
        for label, value in rows:
            pen.text(LEFT, y, f"{label}: {value}")
            y += pen.leading
        y += 6
    _blocks(pen, content.pages[0], y)
    _footer(pen, content, layout, 1, plan.page_count)


def _later_page(page: pymupdf.Page, plan: LetterPlan, content: LetterContent, number: int) -> None:
    layout = plan.layout
    pen = Pen(page, layout)
    y = 54.0
    if layout.header_on_later_pages:
        small = pen.size - 1.5
        for label, value in content.header_rows:
            pen.text(340, y, label, size=small)
            pen.right(RIGHT, y, value, size=small)
            y += small * 1.3
        y += 14
    blocks = content.pages[number - 1]
    is_response = layout.response_form and number == plan.page_count
    _blocks(pen, blocks, y)
    if is_response and content.scan_line:
        pen.text(LEFT + 40, PAGE_H - 48, content.scan_line, size=pen.size)
    _footer(pen, content, layout, number, plan.page_count)


def render_letter(doc: pymupdf.Document, plan: LetterPlan) -> int:
    """Appends the letter's pages to ``doc`` and returns how many were added."""
    content = compose(plan)
    rng = random.Random(plan.text_seed ^ 0x5EED)
    if len(content.pages) != plan.page_count:
        raise AssertionError(f"composed {len(content.pages)} pages for a {plan.page_count}-page plan")
    _first_page(doc.new_page(width=PAGE_W, height=PAGE_H), plan, content, rng)
    for number in range(2, plan.page_count + 1):
        _later_page(doc.new_page(width=PAGE_W, height=PAGE_H), plan, content, number)
    return plan.page_count
