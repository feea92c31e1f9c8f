"""Words with boxes, grouped into lines and the gap-separated chunks of a line, from a text layer or from OCR.

The field parsers read plain text; the address-block reader reads *chunks*: on a page where the notice box sits to
the right of the address block, one printed row holds both, and only the box geometry tells them apart. A chunk is a
run of words with no gap wider than about three characters between them.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

import pymupdf

from mailroom.errors import ExtractionError, ExtractionFailure

CHUNK_GAP_EM = 2.2  # a gap wider than this many word heights splits a printed row into chunks


@dataclass(frozen=True)
class Word:
    text: str
    conf: float  # 0-100 (text layer words are 100)
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass
class Chunk:
    words: list[Word]

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def y0(self) -> float:
        return min(word.y0 for word in self.words)

    @property
    def y1(self) -> float:
        return max(word.y1 for word in self.words)

    @property
    def min_conf(self) -> float:
        return min(word.conf for word in self.words)


@dataclass
class TextLine:
    words: list[Word]
    chunks: list[Chunk] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "   ".join(chunk.text for chunk in self.chunks)

    @property
    def y0(self) -> float:
        return min(word.y0 for word in self.words)


@dataclass
class PageLayout:
    """One page's lines (top to bottom) and its height, in the units of its word boxes."""

    lines: list[TextLine]
    width: float
    height: float

    @property
    def text(self) -> str:
        """The lines top to bottom, then the label/value pairs of any table (so "label value" parsers read them)."""
        pairs = self.table_pairs()
        return "\n".join([line.text for line in self.lines] + pairs)

    def table_pairs(self) -> list[str]:
        """A ruled notice box prints its labels in one row and their values in the row below. Columns start where a
        value word and a label word share a left edge; each value is paired with the label words of its column."""
        pairs: list[str] = []
        for labels, values in zip(self.lines, self.lines[1:]):
            if not 2 <= len(values.words) <= 12 or len(labels.words) > 16:
                continue
            if any(any(ch.isdigit() for ch in w.text) for w in labels.words):
                continue  # a row of values ("amount due: $1,234.56"), not of box labels: its words label nothing
            size = statistics.median(w.y1 - w.y0 for w in values.words)
            if values.y0 - labels.y0 > 3 * size:
                continue
            starts = sorted({v.x0 for v in values.words if any(_column_start(v, w, values, labels, size)
                                                                for w in labels.words)})
            if len(starts) < 2:
                continue
            edges = [starts[0] - 0.4 * size] + [x - 0.4 * size for x in starts[1:]] + [float("inf")]
            for start, end in zip(edges, edges[1:]):
                label_groups = _groups(labels, start, end)
                value_groups = _groups(values, start, end)
                if len(label_groups) != len(value_groups):  # one column, or sub-columns we cannot pair up
                    label_groups, value_groups = [" ".join(label_groups)], [" ".join(value_groups)]
                for label, value in zip(label_groups, value_groups):
                    if label and value and any(ch.isdigit() for ch in value):
                        pairs.append(f"{label} {value}")
        return pairs

    def chunks(self) -> list[Chunk]:
        """Every chunk of the page, top to bottom."""
        return sorted((chunk for line in self.lines for chunk in line.chunks), key=lambda c: (c.y0, c.x0))

    def footer_text(self, share: float = 0.12) -> str:
        return "\n".join(line.text for line in self.lines if line.y0 >= self.height * (1 - share))


def _column_start(value: Word, label: Word, values: TextLine, labels: TextLine, size: float) -> bool:
    """A value word and a label word that start a column together: close left edges, and either edge starts its
    row's chunk or the two agree to a quarter of a line height. "Sept. 30, 2025" under "Notice Date" must not start a
    column at "30," just because it sits near "Date"."""
    gap = abs(value.x0 - label.x0)
    if gap > 0.4 * size:
        return False
    starts_chunk = any(chunk.words[0] is value for chunk in values.chunks) or any(
        chunk.words[0] is label for chunk in labels.chunks)
    return starts_chunk or gap <= 0.25 * size


def _groups(line: TextLine, start: float, end: float) -> list[str]:
    """The texts of a line's chunks between two x positions (a chunk counts where its words start)."""
    groups = [" ".join(w.text for w in chunk.words if start <= w.x0 < end) for chunk in line.chunks]
    return [group for group in groups if group]


def _split_chunks(words: list[Word]) -> list[Chunk]:
    words = sorted(words, key=lambda w: w.x0)
    # The gap is measured in the height of the line's real words: OCR's specks and marks ("," "~" "'") are a few
    # pixels high, and counted in they shrank the median until a name's own word gap split it into chunks (round 4,
    # seed 4242: ", ANA | OKAFOR | ~" lost the address block's name line).
    lettered = [w for w in words if any(ch.isalnum() for ch in w.text)] or words
    height = statistics.median(max(w.y1 - w.y0, 1.0) for w in lettered)
    chunks = [Chunk([words[0]])]
    for word in words[1:]:
        if word.x0 - chunks[-1].words[-1].x1 > CHUNK_GAP_EM * height:
            chunks.append(Chunk([word]))
        else:
            chunks[-1].words.append(word)
    return chunks


def build_layout(grouped: list[list[Word]], width: float, height: float) -> PageLayout:
    """Lines from words already grouped by line (Tesseract's or MuPDF's numbering), sorted top to bottom."""
    lines = [TextLine(words=ws, chunks=_split_chunks(ws)) for ws in grouped if ws]
    lines.sort(key=lambda line: (line.y0, line.words[0].x0))
    return PageLayout(lines=lines, width=width, height=height)


def text_layer_layout(page: pymupdf.Page) -> PageLayout:
    """The page's text layer as lines of words (MuPDF's block/line numbering), merged when they share a row."""
    rows: dict[tuple[int, int], list[Word]] = {}
    try:
        words = page.get_text("words", sort=True)
    except Exception as exc:  # MuPDF's own error types: the page's content cannot be read
        message = f"page {page.number + 1} cannot be read ({type(exc).__name__})"
        raise ExtractionError(ExtractionFailure.CORRUPT, message) from None
    for x0, y0, x1, y1, text, block, line, _ in words:
        rows.setdefault((block, line), []).append(Word(text, 100.0, x0, y0, x1, y1))
    # MuPDF numbers a box label and its value as separate lines; rows whose vertical centres agree are one line.
    merged: list[list[Word]] = []
    for words in sorted(rows.values(), key=lambda ws: min(w.y0 for w in ws)):
        centre = statistics.fmean((w.y0 + w.y1) / 2 for w in words)
        if merged:
            last = merged[-1]
            last_centre = statistics.fmean((w.y0 + w.y1) / 2 for w in last)
            tall = statistics.fmean(w.y1 - w.y0 for w in last)
            if abs(centre - last_centre) < tall * 0.45:
                last.extend(words)
                continue
        merged.append(list(words))
    return build_layout(merged, page.rect.width, page.rect.height)
