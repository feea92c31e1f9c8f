"""OCR words built by hand for the reader's unit tests: a name line as one chunk, or a page of lines."""

from __future__ import annotations

from mailroom.notices.layout import Chunk, PageLayout, Word, build_layout


def name_chunk(line: str) -> Chunk:
    """A name line as OCR words side by side, each read with confidence 90."""
    return Chunk([Word(text, 90.0, 50 * n, 0, 50 * n + 40, 10) for n, text in enumerate(line.split())])


def page_lines(*texts: str) -> PageLayout:
    """Lines one under another, left-aligned, every word read with confidence 95."""
    return build_layout([[Word(t, 95.0, 60 + 60 * n, 40 * row, 60 + 60 * n + 50, 40 * row + 20)
                          for n, t in enumerate(text.split())] for row, text in enumerate(texts)], 1700, 1200)
