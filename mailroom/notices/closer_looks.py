"""closer_looks: what a case is found by (the SSN's last 4, the surname), looked for again where a letter's reads so
far lost it: the inner pages' tops, the SSN's value read closer (``rereads.py``), second looks at the bands
(``second_looks.py``). Split from extract.py."""

from __future__ import annotations

from mailroom.notices.layout import PageLayout
from mailroom.notices.letter import Letter
from mailroom.notices.loose_names import loose_name_lines
from mailroom.notices.lost_name_line import find_lost_first_line
from mailroom.notices.model import FieldSource
from mailroom.notices.ocr import read_line
from mailroom.notices.page_fields import parse_layout, required, with_guesses
from mailroom.notices.pages import Pages, band_of
from mailroom.notices.parse import Found, normalize_text
from mailroom.notices.rereads import REREAD_CONFIDENCE, reread_ssn_last4
from mailroom.notices.scan_resolution import dark_ink_at_scan_resolution
from mailroom.notices.second_looks import second_looks, stamp_lifted
from mailroom.notices.ssn import SCAN_LINE_CONFIDENCE, scan_line_last4
from mailroom.notices.table_cells import read_table

_INNER_SSN_CAP = 0.85


def _inner_ssn(pages: Pages, letter: Letter) -> None:
    """The SSN is what a case is found by: when neither page 1 nor the last page gave it, or gave only a guess below
    0.85 (a mask read as a word, a damaged prefix), the inner pages' tops are read for it (the header of later pages,
    the payer table's "Recipient's SSN"), at most unsure (0.85); the more confident reading wins. Round 4: the last
    page's "SSN wee 9995" (0.8, OCR read 9095 as 9995) had stopped the search for page 2's header."""
    for index in range(letter.first + 1, letter.last):
        known = letter.found.get("ssn_last4")
        if known is not None and known.confidence >= _INNER_SSN_CAP:
            return
        seen = parse_layout(pages.band(index, "top"))[0].get("ssn_last4")
        if seen is not None:
            capped = Found(seen.value, min(seen.confidence, _INNER_SSN_CAP))
            letter.add({"ssn_last4": capped}, None, pages.source(index))


def _scan_lines(pages: Pages, letter: Letter) -> None:
    """A response form prints the taxpayer's last 4 once more at its foot, in the scan line for the IRS's machines,
    and every page's footer was already read for its label: that last 4 costs no OCR. It fills a last 4 no page
    gave (at the scan line's 0.86); one that differs from the last 4 read is kept as the letter's other printing,
    which the matcher searches with only when the read one finds no case (dev seed 9191, round 17: a "7946" read
    beside its label, "2946" in the scan line, and a letter whose only readable last 4 was its scan line)."""
    for index in range(letter.first, letter.last + 1):
        footer = pages.bands.get((index, "footer"))
        last4 = scan_line_last4(normalize_text(footer.text)) if footer is not None else None
        if last4 is None:
            continue
        if "ssn_last4" not in letter.found:
            letter.add({"ssn_last4": Found(last4, SCAN_LINE_CONFIDENCE)}, None, pages.source(index))
        elif last4 != letter.found["ssn_last4"].value:
            letter.put("ssn_last4_elsewhere", Found(last4, SCAN_LINE_CONFIDENCE), pages.source(index))


def _reread_ssn(pages: Pages, letter: Letter) -> None:
    """No page gave the SSN's last four with 0.85: its region beside a label is read again, closer (rereads.py)."""
    known = letter.found.get("ssn_last4")
    if known is not None and known.confidence >= REREAD_CONFIDENCE:
        return
    for index in range(letter.first, letter.last + 1):
        layout, prepared = pages.bands.get((index, "top")) or pages.bands.get((index, "head")), pages.images.get(index)
        if layout is None or prepared is None:
            continue
        closer = reread_ssn_last4(prepared.image, layout, dpi=prepared.dpi, speckled=prepared.speckled,
                                  read=lambda image, dpi, psm, allowed: read_line(image, dpi, psm, allowed,
                                                                                  pages.remaining()))  # fmt: skip
        if closer.last4 is not None:
            letter.add({"ssn_last4": closer.last4}, None, FieldSource.OCR)
            return
        if (guesses := with_guesses(letter.found, closer.readings)) is not None:
            letter.put("ssn_last4_guesses", guesses, FieldSource.OCR)


def _read_table(pages: Pages, letter: Letter) -> None:
    """A letter still missing what a case is found by or a field its type prints: the first page's box, if it is a
    table, read cell by cell (``table_cells.py``). A value two preparations of its cell agree on fills a field still
    missing, at most unsure (0.85); the SSN's cell's readings are guesses the matcher may search with."""
    prepared = pages.images.get(letter.first)
    if prepared is None or not pages.scanned(letter.first) or not _missing(letter):
        return
    table = read_table(band_of(prepared, "top"), dpi=prepared.dpi,
                       read=lambda image, dpi, psm, allowed: read_line(image, dpi, psm, allowed, pages.remaining()))
    letter.add({name: found for name, found in table.agreed().items() if name not in letter.found}, None,
               FieldSource.OCR)
    if "ssn_last4" not in letter.found and (guesses := with_guesses(letter.found, table.last4_readings)) is not None:
        letter.put("ssn_last4_guesses", guesses, FieldSource.OCR)


_FOUND_BY = ("ssn_last4", "taxpayer_last_name")  # what a case is searched by


def _missing(letter: Letter, names: tuple[str, ...] | None = None) -> bool:
    """The letter lacks one of ``names`` (by default what a case is found by and the fields its type prints)."""
    return any(name not in letter.found for name in (names or (*_FOUND_BY, *required(letter.found))))


def _fill_missing(letter: Letter, layout: PageLayout) -> None:
    """What a look's read gives for fields the letter still lacks (a look never overrules an earlier read)."""
    found, block = parse_layout(layout)
    letter.add({name: value for name, value in found.items() if name not in letter.found}, block, FieldSource.OCR)


def _read_again(pages: Pages, letter: Letter) -> None:
    """A letter still without its SSN or surname, or without a field its letter type prints (the notice date, the
    control number): second looks at the bands that should have shown them; they only fill fields still missing
    (``second_looks.py``). Round 14: a stamp over the box took the date or the control number as often as the SSN
    (dev seed 4242: 15 dates and 23 control numbers abstained), and a person had to key them in."""
    # the box that prints the date and the control number is on the letter's first page
    last = letter.last if _missing(letter, _FOUND_BY) else letter.first
    for layout in second_looks(pages, letter.first, last, lambda: _missing(letter)):
        _fill_missing(letter, layout)


def _read_at_scan_resolution(pages: Pages, letter: Letter) -> None:
    """A letter still without its SSN or surname after the second looks: its first page's top band once more, a
    stamp's lighter ink cut away at the scan's own resolution (``scan_resolution.py``; 300-dpi scans only, where
    the print is still black). Fills fields still missing."""
    if not _missing(letter, _FOUND_BY):
        return
    layout = dark_ink_at_scan_resolution(pages, letter.first)
    if layout is not None:
        _fill_missing(letter, layout)


def _lift_stamp(pages: Pages, letter: Letter) -> None:
    """A letter still without its last 4 after every other look: its bands read once more with a stamp's ink on
    bare paper taken out but print under it kept (``second_looks.stamp_lifted``), for the last 4 alone. Eleven tuned
    seeds, round 23: as one more second look for every missing field it also read stamp letters into names (a
    clerk's file-name reading replaced by "PASTE TIEN"; 2 true matches lost, 3 won); for the last 4 alone, none lost.
    A letter with no address block and no surname has its first page's top band read so as well, and the name-like
    lines of that read become CRM evidence only (``Letter.lifted_name_lines``; round 24): never the notice's name,
    only surnames to search with the last 4, a case taken only when its own name is among them."""
    first = letter.first
    if letter.block is None and "taxpayer_last_name" not in letter.found:
        lifted = pages.band_cleaned(first, "top", stamp_lifted)
        if lifted is not None:
            letter.lifted_name_lines = loose_name_lines(lifted)
            _take_last4(letter, lifted)
            first += 1  # read already
    for layout in second_looks(pages, first, letter.last, lambda: "ssn_last4" not in letter.found,
                               cleanups=(stamp_lifted,)):  # fmt: skip
        _take_last4(letter, layout)


def _take_last4(letter: Letter, layout: PageLayout) -> None:
    found, _ = parse_layout(layout)
    if "ssn_last4" in found and "ssn_last4" not in letter.found:
        letter.add({"ssn_last4": found["ssn_last4"]}, None, FieldSource.OCR)


def look_closer(pages: Pages, letter: Letter) -> None:
    """What a case is found by, looked for again where the reads so far lost it: the inner pages' tops, the SSN's
    value read closer, second looks at the bands. Also for a file no page of which reads as a letter's first page:
    its pages are what a stamp or fading damaged most (round 13, dev seeds, tuned: 21 field values more, 3 of them
    wrong and unsure; 5150 +1 true match, the others held in doubt as before)."""
    _scan_lines(pages, letter)
    _inner_ssn(pages, letter)
    _reread_ssn(pages, letter)
    _read_again(pages, letter)
    _read_table(pages, letter)
    _read_at_scan_resolution(pages, letter)
    _lift_stamp(pages, letter)
    find_lost_first_line(pages, letter)
