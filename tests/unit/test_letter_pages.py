"""Which pages belong to which letter, and the guard when the reader cannot tell (issue 10's wrong-case filing).

A letter whose start the reader misses must never be filed inside the letter before it: that puts another
taxpayer's page, with their full SSN, on the wrong case. Text-layer PDFs made here (reportlab) exercise the same band
logic a scan goes through, in milliseconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

from mailroom.crm import CaseCandidate
from mailroom.matching import MatchOutcome, match_notice
from mailroom.notices import ExtractionLimits, extract_notices
from mailroom.notices.letter_marks import page_label
from mailroom.notices.parse import Found
from mailroom.notices.ssn import find_ssn_last4
from mailroom_sandbox.logiqs.directory import InMemoryCaseDirectory

FILLER = "Information reported to the IRS by your employer and your bank."


def first_page(ssn: str = "912-78-4321", name: str = "JOHN SMITH", letter_type: str = "CP2000") -> list[str]:
    return [
        "Department of the Treasury", "Internal Revenue Service", "Ogden, UT 84201-0045",
        f"Notice {letter_type}", "Tax year 2023", "Notice date Oct. 14, 2025", f"Social Security number {ssn}",
        "AUR control number 87139-0114", "", name, "123 MAIN ST", "ANYTOWN OH 44101-1234", "",
        "Proposed amount due: $1,234.56", "Respond by: November 13, 2025",
    ]  # fmt: skip


def inner_page(*lines: str) -> list[str]:
    return [FILLER, FILLER, *lines]


def draw_courier_first_page(canvas: Canvas, gray: float = 0.0) -> None:
    """``first_page()``'s lines and its "Page 1 of 1" label in 10-point Courier (the papers corpus's letter font), in
    ``gray``, on a page the caller shows and saves (a scan test draws a stamp before or dust after)."""
    canvas.setFillGray(gray)
    canvas.setFont("Courier", 10)
    for row, line in enumerate(first_page()):
        canvas.drawString(60, 740 - 15 * row, line)
    canvas.drawString(480, 52, "Page 1 of 1")


def write(path: Path, pages: list[tuple[list[str], str | None]], footer_x: float = 480) -> Path:
    """Pages of (body lines, footer label or None for a footer a stamp made unreadable)."""
    canvas = Canvas(str(path), pagesize=letter)
    for lines, footer in pages:
        y = 740
        for line in lines:
            canvas.drawString(60, y, line)
            y -= 15
        if footer:
            canvas.drawString(footer_x, 30, footer)
        canvas.showPage()
    canvas.save()
    return path


def directory() -> InMemoryCaseDirectory:
    return InMemoryCaseDirectory([
        CaseCandidate(case_id=1, first_name="John", last_name="Smith", ssn_last4="4321", active=True),
        CaseCandidate(case_id=2, first_name="Ana", last_name="Ruiz", ssn_last4="5555", active=True),
    ])  # fmt: skip


def test_labelled_pages_of_two_letters_split_cleanly_without_doubt(tmp_path):
    path = write(tmp_path / "two.pdf", [
        (first_page(), "Page 1"), (inner_page(), "Page 2"),
        (first_page("913-55-5555", "ANA RUIZ"), "Page 1 of 2"), (inner_page(), "Page 2 of 2"),
    ])  # fmt: skip
    notices = extract_notices(path)
    assert [(n.first_page, n.last_page) for n in notices] == [(1, 2), (3, 4)]
    assert [n.pages_in_doubt for n in notices] == [None, None]
    assert [match_notice(n, directory()).outcome for n in notices] == [MatchOutcome.MATCHED, MatchOutcome.MATCHED]


def test_a_second_letter_whose_start_was_missed_is_never_filed_inside_the_first(tmp_path):
    # Page 3 is the first page of another taxpayer's letter, so damaged that only its SSN is left (a label "Page 1"
    # would start a letter: tests/unit/test_reader_round9.py).
    path = write(tmp_path / "missed.pdf", [
        (first_page(), "Page 1 of 2"), (inner_page(), "Page 2 of 2"),
        (inner_page("Social Security number 913-55-5555"), None),
    ])  # fmt: skip
    notices = extract_notices(path)
    assert [(n.first_page, n.last_page) for n in notices] == [(1, 3)]
    assert "page 3 follows the end of letter 1" in (notices[0].pages_in_doubt or "")
    result = match_notice(notices[0], directory())
    assert result.outcome is MatchOutcome.AMBIGUOUS
    assert "pages are in doubt" in result.reason and "5555" not in result.reason


def test_an_inner_page_without_a_readable_label_that_shows_nothing_of_its_letter_puts_it_in_doubt(tmp_path):
    # the last page: between two of the letter's own pages it would be the letter's (tests/unit/test_reader_round15.py)
    path = write(tmp_path / "stamped.pdf", [(first_page(), "Page 1"), (inner_page(), "Page 2"), (inner_page(), None)])
    notices = extract_notices(path)
    assert [(n.first_page, n.last_page) for n in notices] == [(1, 3)]
    assert notices[0].pages_in_doubt == "page 3 has no readable page label and shows nothing of this letter"
    assert match_notice(notices[0], directory()).outcome is MatchOutcome.AMBIGUOUS


def test_an_unlabelled_inner_page_repeating_the_letters_ssn_is_the_letters_own(tmp_path):
    path = write(tmp_path / "form.pdf", [
        (first_page(), "Page 1"), (inner_page("Response form", "Social Security number 912-78-4321"), None),
    ])  # fmt: skip
    notices = extract_notices(path)
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in notices] == [(1, 2, None)]
    assert match_notice(notices[0], directory()).outcome is MatchOutcome.MATCHED


def test_an_unlabelled_page_showing_another_ssn_is_cut_off_from_the_letter(tmp_path):
    path = write(tmp_path / "foreign.pdf", [
        (first_page(), "Page 1"), (inner_page("Social Security number 913-55-5555"), None),
    ])  # fmt: skip
    notices = extract_notices(path)
    assert notices[0].pages_in_doubt == "page 2 follows the end of letter 1 and starts none"
    assert match_notice(notices[0], directory()).outcome is MatchOutcome.AMBIGUOUS


def test_a_page_label_out_of_sequence_puts_the_letter_in_doubt(tmp_path):
    path = write(tmp_path / "sequence.pdf", [(first_page(), "Page 1"), (inner_page(), "Page 4"), (inner_page(), None),
                                             (inner_page(), None)])  # fmt: skip
    notices = extract_notices(path)
    assert notices[0].pages_in_doubt == "page 2 is labelled page 4 where page 2 was expected"


def test_a_misnumbered_page_that_repeats_the_letters_ssn_is_the_letters_own(tmp_path):
    """Dev seed 5150: page 3 of 4 read "2 of 4" held a letter whose page 3 repeats its SSN in doubt."""
    own = write(tmp_path / "own.pdf", [(first_page(), "Page 1 of 3"), (inner_page(), "Page 2 of 3"),
                                       (inner_page("Social Security number 912-78-4321"), "Page 2 of 3")])  # fmt: skip
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in extract_notices(own)] == [(1, 3, None)]
    other = write(tmp_path / "other.pdf", [(first_page(), "Page 1 of 3"), (inner_page(), "Page 2 of 3"),
                                           (inner_page("Social Security number 913-55-5555"), "Page 2 of 3")])  # fmt: skip
    assert extract_notices(other)[0].pages_in_doubt == "page 3 is labelled page 2 where page 3 was expected"


def test_a_label_past_the_files_last_page_is_a_misread_not_a_place_in_the_letter(tmp_path):
    """Dev seed 3131: page 6 of 6 read "Page 22" for "Page 2" and put its letter in doubt. No letter's page lies past
    the file's end, so the label is unread: the page is the letter's when it repeats the letter's marks."""
    own = write(tmp_path / "own.pdf", [(first_page(), "Page 1"),
                                       (inner_page("Social Security number 912-78-4321"), "Page 22")])  # fmt: skip
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in extract_notices(own)] == [(1, 2, None)]
    blank = write(tmp_path / "blank.pdf", [(first_page(), "Page 1"), (inner_page(), "Page 22")])
    assert extract_notices(blank)[0].pages_in_doubt == (
        "page 2 has no readable page label and shows nothing of this letter")


def test_a_cover_sheet_goes_with_the_letter_but_a_page_with_a_letters_marks_before_it_does_not(tmp_path):
    cover = ["FAX COVER SHEET", "Date: 11/14/2025   Time: 09:12", "To: Tax resolution desk", "From: client services",
             "Pages (including cover): 2", "Re: IRS letter - JOHN SMITH"]  # fmt: skip
    clean = extract_notices(write(tmp_path / "cover.pdf", [(cover, None), (first_page(), "Page 1 of 1")]))
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in clean] == [(1, 2, None)]
    marked = extract_notices(write(tmp_path / "marked.pdf", [
        (inner_page("Social Security number 913-55-5555"), None), (first_page(), "Page 1 of 1"),
    ]))  # fmt: skip
    # the marked page is a letter of its own (round 15), in doubt; the letter after it is no longer held with it
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in marked] == [
        (1, 1, "page 1 shows a letter's marks before the first letter found, and no letter starts there"), (2, 2, None)]
    outcomes = [match_notice(n, directory()).outcome for n in marked]
    assert outcomes[0] is not MatchOutcome.MATCHED and outcomes[1] is MatchOutcome.MATCHED


def test_a_misread_total_does_not_carry_the_next_taxpayers_letter_into_this_one(tmp_path):
    # Page 1 says "1 of 2" (OCR's reading of "1 of 1"); page 2 is another taxpayer's letter whose own label is lost.
    path = write(tmp_path / "total.pdf", [
        (first_page(), "Page 1 of 2"),
        (first_page("913-55-5555", "ANA RUIZ", "CP504")[3:], None), (inner_page("Social Security number 913-55-5555"), "2 of 2"),
    ])  # fmt: skip
    notices = extract_notices(path)
    assert [(n.first_page, n.last_page) for n in notices][0] == (1, 1)
    assert match_notice(notices[0], directory()).case_id == 1
    assert all(n.pages_in_doubt or n.first_page > 1 or n.last_page == 1 for n in notices)


# --- Round 3 (issue 10): inner pages read or recognised instead of held in doubt -------------------------------------

def scanned(source: Path, target: Path, *, upside_down: tuple[int, ...] = ()) -> Path:
    """The PDF as a scan: each page an image only (so it is OCR'd), pages in ``upside_down`` (1-based) fed turned."""
    import pymupdf

    with pymupdf.open(source) as original, pymupdf.open() as out:
        for number, page in enumerate(original, start=1):
            pixmap = page.get_pixmap(dpi=200, colorspace=pymupdf.csGRAY)
            sheet = out.new_page(width=page.rect.width, height=page.rect.height)
            sheet.insert_image(sheet.rect, stream=pixmap.tobytes("png"), rotate=180 if number in upside_down else 0)
        out.save(target)
    return target


@pytest.mark.parametrize(("footer", "label"), [
    ("CP2000 (Rev. 11-2023) . 2 0f 4", (2, 4)), ("CP3219A (Rev. 6-2021) 40f 4", (4, 4)),
    ("Letter LT11 (Rev. 01-2022) 4of4", (4, 4)), ("CP2501 (Rev. 04-2019) / 3 of 3 :", (3, 3)),
    ("CP2000 (Rev. 11-2023) ' 2 of 2 '", (2, 2)), ("cp2000 (Rev- 11-2023) 1.of 4", (1, 4)),
    ("CP2000 (Rev. 01-2022) Page |", (1, None)), ("1 of 3 remaining items", None),
])  # fmt: skip
def test_page_labels_as_ocr_garbles_them_are_read(footer: str, label: tuple[int, int | None] | None) -> None:
    assert page_label(footer) == label


def test_an_unlabelled_inner_page_repeating_the_aur_number_is_the_letters_own(tmp_path):
    path = write(tmp_path / "header.pdf", [
        (first_page(), "Page 1"), (inner_page("AUR control number 87139-0114"), None),
    ])  # fmt: skip
    notices = extract_notices(path)
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in notices] == [(1, 2, None)]
    assert match_notice(notices[0], directory()).outcome is MatchOutcome.MATCHED


def test_the_letter_code_and_notice_date_alone_do_not_vouch_for_a_page(tmp_path):
    """CP2000s come in batches dated alike: the same code and date on an unlabelled page without an SSN or AUR
    number may be another taxpayer's letter in the same scan."""
    path = write(tmp_path / "batch.pdf", [
        (first_page(), "Page 1"), (inner_page("Notice CP2000", "Notice date Oct. 14, 2025"), None),
    ])  # fmt: skip
    notices = extract_notices(path)
    assert notices[0].pages_in_doubt is not None
    assert match_notice(notices[0], directory()).outcome is MatchOutcome.AMBIGUOUS


def test_an_unlabelled_page_showing_another_aur_number_is_cut_off_from_the_letter(tmp_path):
    path = write(tmp_path / "other-aur.pdf", [(first_page(), "Page 1"), (inner_page("AUR control number 55120-0999"), None)])
    notices = extract_notices(path)
    assert notices[0].pages_in_doubt == "page 2 follows the end of letter 1 and starts none"


def test_the_response_forms_scan_line_repeats_the_letters_ssn(tmp_path):
    assert find_ssn_last4("XXXXX4321 SMIT 25 0 202312 612 00000123456") == Found("4321", 0.86)
    assert find_ssn_last4("912784321 SMIT 830 202312 612 00000123456") == Found("4321", 0.86)  # codes glued by OCR
    form = write(tmp_path / "form.pdf", [
        (first_page(), "Page 1"), (inner_page("Response form"), "XXXXX4321 SMIT 25 0 202312 612 00000123456"),
    ], footer_x=60)  # fmt: skip
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in extract_notices(form)] == [(1, 2, None)]
    other = write(tmp_path / "other-form.pdf", [
        (first_page(), "Page 1"), (inner_page("Response form"), "XXXXX5555 RUIZ 25 0 202312 612 00000123456"),
    ], footer_x=60)  # fmt: skip
    assert extract_notices(other)[0].pages_in_doubt is not None  # another taxpayer's form is not this letter's


def test_a_letter_found_on_its_page_2_claims_its_labelled_first_page_unless_that_shows_another_letter(tmp_path):
    damaged = ["Department of the Treasury", "JOHN SMITH", "123 MAIN ST", "ANYTOWN OH 44101-1234"]  # box unreadable
    header = ["Notice CP2000", "Tax year 2023", "Notice date Oct. 14, 2025", "Social Security number XXX-XX-4321"]
    own = extract_notices(write(tmp_path / "own.pdf", [(damaged, "Page 1 of 2"), (header, "Page 2 of 2")]))
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in own] == [(1, 2, None)]
    assert (own[0].taxpayer_last_name, own[0].ssn_last4) == ("SMITH", "4321")
    other = extract_notices(write(tmp_path / "other.pdf", [
        ([*damaged[1:], "Social Security number 913-55-5555"], "Page 1 of 2"), (header, "Page 2 of 2"),
    ]))  # fmt: skip
    assert other[0].pages_in_doubt == "page 1, before the first letter, shows a letter's marks but starts no letter"
    marked = [*damaged, "XXX-XX-4321"]  # its own SSN, but without a label nothing says it is page 1 of this letter
    unlabelled = extract_notices(write(tmp_path / "unlabelled.pdf", [(marked, None), (header, "Page 2 of 2")]))
    assert unlabelled[0].pages_in_doubt == "page 1, before the first letter, shows a letter's marks but starts no letter"


def test_a_file_whose_pages_are_labelled_in_sequence_is_one_letter_even_when_no_page_reads_as_its_first(tmp_path):
    page = inner_page("JOHN SMITH", "123 MAIN ST", "ANYTOWN OH 44101-1234")
    labelled = extract_notices(write(tmp_path / "labelled.pdf", [(page, "1 of 2"), (inner_page(), "2 of 2")]))
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in labelled] == [(1, 2, None)]
    restarted = extract_notices(write(tmp_path / "restarted.pdf", [(page, "1 of 1"), (inner_page(), "1 of 1")]))
    assert restarted[0].pages_in_doubt == "none of the 2 pages reads as the first page of a letter"


def test_an_upside_down_inner_page_is_read_turned_and_its_label_found(tmp_path):
    text = write(tmp_path / "text.pdf", [(first_page(), "Page 1"), (inner_page(), "Page 2")])
    notices = extract_notices(scanned(text, tmp_path / "scan.pdf", upside_down=(2,)))
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in notices] == [(1, 2, None)]


def test_footer_reads_do_not_count_toward_the_ocr_page_cap(tmp_path):
    text = write(tmp_path / "text.pdf", [(first_page(), "Page 1"), (inner_page(), "Page 2")])
    notices = extract_notices(scanned(text, tmp_path / "scan.pdf"), limits=ExtractionLimits(ocr_max_pages=1))
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in notices] == [(1, 2, None)]


def test_an_upside_down_first_page_is_turned_and_read_as_the_letters_start(tmp_path):
    body = [FILLER] * 12  # a page 1 full of text below the box: read upside down, Tesseract still finds "words"
    text = write(tmp_path / "text.pdf", [([*first_page(), *body], "Page 1 of 2"), (inner_page(), "Page 2 of 2")])
    notices = extract_notices(scanned(text, tmp_path / "scan.pdf", upside_down=(1,)))
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in notices] == [(1, 2, None)]
    assert (notices[0].ssn_last4, notices[0].taxpayer_last_name) == ("4321", "SMITH")


def test_an_ssn_page_1_and_the_last_page_lost_is_read_from_an_inner_page_unsure(tmp_path):
    stamped = [line for line in first_page() if not line.startswith("Social Security")]  # a stamp over the SSN
    path = write(tmp_path / "inner.pdf", [
        (stamped, "Page 1 of 3"), (inner_page("Recipient's SSN XXX-XX-4321"), "Page 2 of 3"), (inner_page(), "Page 3 of 3"),
    ])  # fmt: skip
    notice = extract_notices(path)[0]
    assert (notice.ssn_last4, notice.confidence("ssn_last4"), notice.pages_in_doubt) == ("4321", 0.85, None)


def test_an_unlabelled_page_repeating_the_ssn_another_inner_page_shows_is_the_letters_own(tmp_path):
    # round 4 (seed 4242): page 1's box lost the SSN, the header of page 2 shows it, the unlabelled last page repeats
    # it; judged against page 1 alone, the last page had put the letter in doubt
    path = write(tmp_path / "late_ssn.pdf", [
        (first_page(ssn=""), "Page 1 of 3"), (inner_page("Social Security number XXX-XX-4321"), "Page 2 of 3"),
        (inner_page("Response form", "Social Security number 912-78-4321"), None),
    ])  # fmt: skip
    notices = extract_notices(path)
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in notices] == [(1, 3, None)]


def test_an_unlabelled_page_never_vouches_for_itself(tmp_path):
    # the only SSN of the letter is the one on the unlabelled page: nothing else says the page is this letter's
    path = write(tmp_path / "self.pdf", [
        (first_page(ssn=""), "Page 1"), (inner_page(), "Page 2"),
        (inner_page("Response form", "Social Security number 912-78-4321"), None),
    ])  # fmt: skip
    notices = extract_notices(path)
    assert notices[0].pages_in_doubt == "page 3 has no readable page label and shows nothing of this letter"


def test_a_guessed_ssn_on_the_last_page_does_not_stop_the_search_of_the_inner_pages(tmp_path):
    # round 4 (seed 4242): the response form's "SSN wee 9995" (OCR read 9095 as 9995; a mask read as a word, 0.8) had
    # kept the inner pages' header, which prints the number cleanly, from being read
    path = write(tmp_path / "guess.pdf", [
        (first_page(ssn=""), "Page 1 of 3"), (inner_page("Social Security number XXX-XX-9095"), "Page 2 of 3"),
        (inner_page("Response form", "SSN wee 9995"), "Page 3 of 3"),
    ])  # fmt: skip
    notices = extract_notices(path)
    assert notices[0].ssn_last4 == "9095"
