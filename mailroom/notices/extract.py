"""extract: file -> the letters in it (one ``Notice`` each), text layer first, OCR only where and as far as needed.

A scanned page is read in bands (top, middle, footer; ``pages.py``) and a band is OCR'd only when something is
still missing: page 1's top band usually gives every field; the footer band gives the page label ("Page 1 of 3"),
which says how long the letter is and so whether another letter (or nothing) follows. A page before any letter that
carries no letter (a fax cover, a scan separator sheet) is skipped. Several letters in one PDF come back as several
notices, each with its page range; after a letter, a page labelled page 1 starts the next. See docs/extraction.md.

The document text (which may contain a full SSN) lives only inside this module's functions: it is never logged,
never put in an exception, never returned. Logs carry page counts, sources and timings only.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from mailroom.notices.closer_looks import look_closer
from mailroom.notices.file_letters import with_other_letters_last4
from mailroom.notices.filename_hints import apply_cover_sheet_names, apply_file_name_hints
from mailroom.notices.first_pages import claim_first_pages, early_letter, labelled_first, one_letter_in_file
from mailroom.notices.layout import PageLayout
from mailroom.notices.letter import Letter
from mailroom.notices.letter_marks import (
    LETTERHEAD,
    letter_marks,
    repeats_marks,
    shows_other_letter,
    starts_letter,
)
from mailroom.notices.loose_names import loose_name_lines
from mailroom.notices.model import (
    ExtractionError,
    ExtractionFailure,
    ExtractionLimits,
    FieldProvenance,
    FieldSource,
    Notice,
    PageMarks,
    derive_due_date,
    drop_impossible_dates,
)
from mailroom.notices.page_fields import (
    TRUSTED_CONFIDENCE,
    complete,
    merge,
    required,
    parse_layout,
)
from mailroom.notices.page_marks import marks_of_pages
from mailroom.notices.pages import Pages
from mailroom.notices.parse import Found
from mailroom.notices.text_layer import open_document, read_checked_bytes, release_caches

logger = logging.getLogger(__name__)

OCR_CONFIDENCE_FACTOR = 0.9  # OCR output is noisier than a text layer; the same parse is worth a bit less


def _amount_wanted(found: dict[str, Found[Any]]) -> bool:
    """A scanned page's middle band is OCR'd only for the amount: on the development seed 4242 (100 scanned files)
    the 172 middle bands read gave 7 values the top and footer bands had not, 3 of them amounts, for ~0.38 s CPU each;
    the box, the address block and the deadline sit in the top band, the letter code in the footer."""
    amount = found.get("amount_due")
    return "amount_due" in required(found) and (amount is None or amount.confidence < TRUSTED_CONFIDENCE)


_WHOLE_PAGE = ("top", "middle", "footer")
# The last page is read for what page 1 lost, in the header or response form its upper part repeats (dev seeds 4242 and
# 5150, tuned: reading 0-0.40 of it instead of the top and middle bands changed no field of any letter).
_LAST_PAGE = ("head", "footer")


def _read_page(pages: Pages, letter: Letter, index: int, bands: tuple[str, ...], *, again: bool = True) -> None:
    source = pages.source(index)
    read: dict[str, PageLayout] = {}
    for band in bands:
        if complete(letter.found) and band != bands[0]:
            break
        if band == "middle" and pages.scanned(index) and not _amount_wanted(letter.found):
            continue
        read[band] = pages.band(index, band)
        found, block = parse_layout(read[band])
        letter.add(found, block, source)
    if again and any(pages.bands.get((index, band)) is not layout for band, layout in read.items()):
        # A later band found the page upside down (a top band of no English cannot tell): what the earlier bands
        # read was the other end of the page, so the page is read again, turned (dev seed 4242, Doc289: the whole
        # box read turned was never parsed, and the letter lost its tax year, dates and AUR number).
        _read_page(pages, letter, index, bands, again=False)


def _own_page_misnumbered(pages: Pages, letter: Letter, index: int) -> bool:
    """A page labelled out of sequence whose top repeats the letter's SSN last 4 or AUR number and shows no other
    letter's: its number was misread ("2 of 4" for "3 of 4", dev seed 5150) or the page was scanned twice; either
    way it is this letter's. Costs a top-band read, only for such pages."""
    found = parse_layout(pages.band(index, "top"))[0]
    return repeats_marks(found, letter.found) and not shows_other_letter(found, letter.found)


def _letter_end(pages: Pages, letter: Letter, count: int) -> int:
    """Index of the letter's last page: up to page 1's "of N", else up to the next "Page 1"; either way each page is
    checked. A misread total ("1 of 2" for "1 of 1") once filed the next taxpayer's page 1 with this letter. An inner
    page whose label is unreadable or out of sequence, and that repeats none of this letter's marks, stays with the
    letter but puts it in doubt (``Letter.doubt``); one that shows another letter's marks ends it."""
    label = pages.label(letter.first) if letter.first + 1 < count else None
    end = min(count, letter.first + label[1]) if label is not None and label[0] == 1 and label[1] else count
    index = letter.first + 1
    while index < end:
        label = pages.label(index)
        if label is not None and label[0] > count:
            # no letter starting in this file has a page past its end: "Page 22" for "Page 2" on page 6 of 6 (dev
            # seed 3131) is judged like any unlabelled page, by the marks it shows
            label = None
        if label is not None and label[0] == 1:
            break
        expected = index - letter.first + 1
        # every page's foot names its form ("CP2000 (Rev. 6-2021) Page 2 of 3"): the code page 1 lost to a stamp is
        # there, already read for the label (dev seed 5150: 12 of 179 letters had no code; 18 of 36 last-page reads
        # were made for it); only from a page whose label puts it in this letter's sequence
        in_sequence = label is not None and label[0] == expected
        code = parse_layout(pages.band(index, "footer"))[0].get("letter_type") if in_sequence else None
        if code is not None:
            letter.add({"letter_type": code}, None, pages.source(index))
        if label is not None and label[0] != expected and not _own_page_misnumbered(pages, letter, index):
            letter.doubt_about(f"page {index + 1} is labelled page {label[0]} where page {expected} was expected")
        if label is None:  # footer unreadable: a letterhead at the top starts a new letter
            top = pages.band(index, "top")
            found, _ = parse_layout(top)
            merge(found, parse_layout(pages.band(index, "footer"))[0])  # a response form's scan line is there
            if starts_letter(found, top.text) and LETTERHEAD.search(top.text):
                break
            if shows_other_letter(found, letter.found):
                break  # another taxpayer's or another letter's page: never filed with this one
            if not repeats_marks(found, letter.found):
                letter.unvouched.append((index, found))
        index += 1
    return index - 1


def _judge_unvouched(pages: Pages, letter: Letter) -> None:
    """An unlabelled inner page is the letter's when another of its pages shows the same SSN last 4 or AUR number.
    Page 1's box may have lost the SSN while the header of a later page shows it: judged only against page 1, such a
    page put its letter in doubt (round 4, seed 4242). The page never vouches for itself: the marks compared are
    read from the letter's other pages (bands already read, then the tops of the inner pages for an SSN). Failing
    marks, a footer read closer that names the page's place in the letter vouches for it (``_in_place``), and so do
    the pages either side of it when both are the letter's (``_between_own_pages``)."""
    unsure: list[int] = []
    for index, found in letter.unvouched:
        others: dict[str, Found[Any]] = {}
        for (page, band), layout in list(pages.bands.items()):
            if letter.first <= page <= letter.last and page != index:
                merge(others, parse_layout(layout)[0])
        for page in range(letter.first, letter.last + 1):
            if repeats_marks(found, others) or "ssn_last4" in others:
                break
            if page != index:
                merge(others, parse_layout(pages.band(page, "top"))[0])
        if shows_other_letter(found, others):
            letter.doubt_about(f"page {index + 1} has no readable page label and shows nothing of this letter")
        elif not (repeats_marks(found, others) or _in_place(pages, letter, index)):
            unsure.append(index)
    doubtful = [index for index in unsure if not _between_own_pages(pages, letter, index, unsure)]
    if doubtful and not _labelled_to_the_end(pages, letter):
        letter.doubt_about(f"page {doubtful[0] + 1} has no readable page label and shows nothing of this letter")


def _labelled_to_the_end(pages: Pages, letter: Letter) -> bool:
    """A page of the letter labelled in its place with the letter's length ("1 of N" on its first page, or "2 of N"
    on its second) and the letter runs N pages, to the file's end or to the next letter's first page (a page after
    its labelled end that starts nothing is joined in doubt, ``_read_letters``): an unlabelled page among them that
    shows nothing of another letter (judged before) is the letter's. Another taxpayer's page could only be there if
    as many of the letter's own pages were missing from the scan, and none of its pages may be labelled out of its
    place or with another total. Seed 9191 (generated this round to find classes): faded and faxed last pages put
    4-page letters labelled "1 of 4" in doubt. Round 18 (dev seed 5150, tuned): page 1's label lost, page 2's "2 of
    4" counts the letter as well."""
    length = letter.last - letter.first + 1
    labels = [(1, pages.label(letter.first) or pages.label_read_closer(letter.first))]
    labels += [(page - letter.first + 1, label) for page in range(letter.first + 1, letter.last + 1)
               for label in (pages.label(page), pages.label_read_closer(page))]  # fmt: skip
    if not any(label == (place, length) for place, label in labels):
        return False
    # a page labelled out of its place or with another total ("4 of 5", "1 of 2" as page 2) is another letter's
    return all(label is None or (label[0] == place and label[1] in (None, length)) for place, label in labels)


def _between_own_pages(pages: Pages, letter: Letter, index: int, unsure: list[int]) -> bool:
    """An inner page whose neighbours are both the letter's (its first page, a page labelled in its sequence, or one
    repeating its marks) is the letter's too: another taxpayer's page could only sit there if it had been put inside
    the letter's paper, and would then most often show that taxpayer's marks (judged before). A neighbour labelled
    with another total ("4 of 5" in a letter of 4) is no such page. Dev seeds 5150 and 3131 (tuned): faded and fax
    pages whose labels and header SSN OCR lost held 2 letters in doubt."""
    length = letter.last - letter.first + 1

    def own(page: int) -> bool:
        label = pages.label(page)
        return page not in unsure and (label is None or label[1] in (None, length))

    return letter.first < index < letter.last and own(index - 1) and own(index + 1)


def _in_place(pages: Pages, letter: Letter, index: int) -> bool:
    """A page showing none of the letter's marks whose footer, read closer, names its place in the letter ("3 of 4"
    as the third of four pages). Dev seed 4242 (tuned): 3 letters held in doubt by speckled or faded footers. Or one
    whose own label is lost (under a scanner's dark edge) between the letter's pages labelled one before and one
    after it, with the letter's length (dev seed 3131): only a page swapped for another letter's, in place, could
    sit there, and that page would show the other letter's marks."""
    closer, length = pages.label_read_closer(index), letter.last - letter.first + 1
    if closer is not None and closer[0] == index - letter.first + 1 and closer[1] in (None, length):
        return True
    return letter.first < index < letter.last and all(
        (page - letter.first + 1, length) in (pages.label(page), pages.label_read_closer(page))
        for page in (index - 1, index + 1))  # fmt: skip


def _read_letters(pages: Pages, count: int) -> list[Letter]:
    letters: list[Letter] = []
    before: list[Letter] = []  # pages before the first letter, each read as if it started one
    index = 0
    marked_cover: int | None = None  # a page before the first letter that shows an IRS letter's marks
    while index < count:
        letter = Letter(index)
        _read_page(pages, letter, index, _WHOLE_PAGE)
        if not starts_letter(letter.found, pages.band(index, "top").text) and pages.turned_over(index):
            letter = Letter(index)
            _read_page(pages, letter, index, _WHOLE_PAGE)
        starts = (starts_letter(letter.found, pages.band(index, "top").text)
                  or labelled_first(pages, letters, index, letter.found))  # fmt: skip
        if not starts:
            if letters:  # a page no letter claims, after the end the letter's label gave: it may be another letter's
                letters[-1].last, letters[-1].past_its_end = index, True
                letters[-1].doubt_about(f"page {index + 1} follows the end of letter {len(letters)} and starts none")
            else:
                before.append(letter)
                if marked_cover is None and letter_marks(letter.found):
                    marked_cover = index  # a fax cover carries none of these; a letter whose start was missed does
            index += 1  # before any letter: a cover or separator sheet
            continue
        if not letters:
            claim_first_pages(pages, letter, before)
            if marked_cover is not None and marked_cover < letter.first:
                early = early_letter(pages, letter, [page for page in before if page.first < letter.first],
                                     marked_cover)  # fmt: skip
                if early is None:
                    letter.doubt_about(f"page {marked_cover + 1}, before the first letter, shows a letter's marks but "
                                       "starts no letter")  # fmt: skip
                else:
                    look_closer(pages, early)
                    letters.append(early)
        letter.last = _letter_end(pages, letter, count)
        # Page 1 prints every field; a value it lost to damage is looked for on the last page only (the response
        # form repeats name, SSN and amount): reading every page for a value a stamp covered costs ~1 s a page.
        if not complete(letter.found) and letter.last > letter.first:
            _read_page(pages, letter, letter.last, _LAST_PAGE)
        look_closer(pages, letter)
        _judge_unvouched(pages, letter)
        letters.append(letter)
        index = letter.last + 1
    return letters


def _doubt_pages_before(pages: Pages, letter: Letter) -> None:
    """Pages no letter claimed before the first are filed with it as its cover sheet (a fax cover, a scan separator):
    one page, not printed with the IRS letterhead. More pages, or a letterhead, may be another letter whose marks OCR
    lost: spent held-out seed 14142, replayed (round 19): the four faded pages of one taxpayer's letter were filed
    with the next taxpayer's one-page letter once that letter's name was read. Such a letter goes to review."""
    if letter.first > 1:
        letter.doubt_about(f"pages 1-{letter.first} come before the first letter and show nothing of it; a cover sheet "
                           "is one page")  # fmt: skip
    elif letter.first == 1 and LETTERHEAD.search(pages.band(0, "top").text):  # read already, to see it starts none
        letter.doubt_about("page 1 comes before the first letter and is printed with the IRS letterhead; a cover "
                           "sheet is not")  # fmt: skip


def _note_loose_name_lines(pages: Pages, letter: Letter) -> None:
    """A letter with no address block and no surname keeps its first page's name-like lines as CRM evidence
    (``loose_names.py``); its name fields stay empty."""
    top = pages.bands.get((letter.first, "top"))
    if letter.block is None and "taxpayer_last_name" not in letter.found and top is not None:
        letter.loose_name_lines = list(dict.fromkeys([*loose_name_lines(top), *letter.lifted_name_lines]))


def _provenance(confidence: float, source: FieldSource) -> FieldProvenance:
    return FieldProvenance(confidence=round(min(confidence, 1.0), 3), source=source)


def _notice(letter: Letter, part: int, page_count: int, ocr_pages: int, file_name: str | None,
            cover_text: str = "", page_marks: list[PageMarks] | None = None) -> Notice:  # fmt: skip
    values: dict[str, Any] = {}
    fields: dict[str, FieldProvenance] = {}
    for name, result in letter.found.items():
        if name == "ssn_last4_guesses":  # no field of the letter: what the matcher may search with (ssn.py)
            values[name] = [] if "ssn_last4" in letter.found else list(result.value)
            continue
        if name == "ssn_last4_elsewhere":  # no field either: a second printing that disagrees (closer_looks.py)
            values[name] = result.value if result.value != letter.found["ssn_last4"].value else None
            continue
        values[name] = result.value
        factor = OCR_CONFIDENCE_FACTOR if letter.sources[name] is FieldSource.OCR else 1.0
        fields[name] = _provenance(result.confidence * factor, letter.sources[name])
    if part == 0:  # a clerk names the file after its first letter
        apply_file_name_hints(values, fields, file_name)
        apply_cover_sheet_names(values, fields, cover_text)
    drop_impossible_dates(values, fields)
    derive_due_date(values, fields)
    evidence = list(letter.block.lines) if letter.block is not None else letter.loose_name_lines
    return Notice(**values, page_count=page_count, ocr_pages=ocr_pages, fields=fields, part=part,
                  first_page=letter.first + 1, last_page=letter.last + 1, name_evidence=evidence,
                  pages_in_doubt=letter.doubt, page_marks=page_marks or [])  # fmt: skip


def extract_letters(path: Path, *, file_name: str | None, limits: ExtractionLimits,
                    ocr: bool = True) -> list[Notice] | None:
    """Every letter in the file, in page order (at least one), or ExtractionError. With ``ocr`` False: None when
    any page is a scan (reading it needs OCR), so nothing but text layers is read."""
    started = time.monotonic()
    data = read_checked_bytes(path, limits)
    document = open_document(data, limits)
    try:
        count = document.page_count
        pages = Pages(document, limits, started + limits.time_budget_seconds)
        if not ocr and any(pages.scanned(index) for index in range(count)):
            return None
        letters = _read_letters(pages, count)
        if not letters and pages.any_text:  # no page looks like a letter: read what there is as one notice
            fallback = Letter(0)
            for index in range(count):
                _read_page(pages, fallback, index, _WHOLE_PAGE)
            fallback.last = count - 1
            look_closer(pages, fallback)
            if count > 1 and not one_letter_in_file(pages, count):
                fallback.doubt_about(f"none of the {count} pages reads as the first page of a letter")
            letters = [fallback]
        for letter in letters:
            _note_loose_name_lines(pages, letter)
    finally:
        document.close()
        release_caches()
    if not pages.any_text:
        raise ExtractionError(ExtractionFailure.NO_TEXT, f"no readable text on any of {count} page(s)")
    # what the pages before the first letter (a fax cover, a scan sheet) say, as OCR'd to see that they start none
    cover_text = "\n".join(pages.bands[(index, "top")].text for index in range(letters[0].first)
                           if (index, "top") in pages.bands)  # fmt: skip
    _doubt_pages_before(pages, letters[0])
    letters[0].first = 0  # a cover sheet is filed with the first letter: no page of the file is lost
    letters[-1].last = count - 1
    notices = with_other_letters_last4([_notice(letter, part, count, len(pages.ocr_pages), file_name, cover_text,
                                                marks_of_pages(pages, letter))
                                        for part, letter in enumerate(letters)])  # fmt: skip
    logger.debug("extracted %d letter(s): pages=%d ocr_pages=%d in %.2fs", len(notices), count,
                 len(pages.ocr_pages), time.monotonic() - started)  # fmt: skip
    return notices


def extract_in_process(path: Path, *, file_name: str | None, limits: ExtractionLimits) -> list[Notice]:
    letters = extract_letters(path, file_name=file_name, limits=limits)
    assert letters is not None  # with OCR allowed there is always an answer (or an ExtractionError)
    return letters


def read_without_ocr(path: Path, *, file_name: str | None, limits: ExtractionLimits) -> list[Notice] | None:
    """The letters from the text layer alone, or None when reading them needs OCR (a scanned page). Cheap (no page
    is rendered): what a run reads first to order its notices."""
    return extract_letters(path, file_name=file_name, limits=limits, ocr=False)
