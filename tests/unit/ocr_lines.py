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


def word_line(*words: tuple[str, float]) -> PageLayout:
    """One OCR line of single-spaced words (one chunk), as (text, confidence)."""
    return word_chunks(list(words))


def word_chunks(*chunks: list[tuple[str, float]]) -> PageLayout:
    """One OCR line of chunks 100 pixels apart, each of single-spaced words (text, confidence)."""
    row, left = [], 200.0
    for chunk in chunks:
        for text, conf in chunk:
            row.append(Word(text, conf, left, 100.0, left + 12 * len(text), 120.0))
            left += 12 * len(text) + 10
        left += 100
    return build_layout([row], 1700, 2200)
