"""Round 19 of issue 10: an address block found past pen strokes and specks around its city line (specks read after
the ZIP, an unreadable line between the street and the city, a speck on the city line's own row); one letter
hyphened to a given name read as an initial, an underscore between name words as a space; a read of one of a couple
neither makes the spouse the taxpayer nor drops the spouse when the spellings differ by a space or the couple shares
a surname; a one-letter surname is a lost surname; pages before the first letter are one cover sheet, else the
letter is in doubt."""

from __future__ import annotations

import pytest

from mailroom.notices.address import _city_line, address_block_names, clean_name_line
from mailroom.notices.layout import build_layout
from tests.unit.ocr_lines import name_chunk
from tests.unit.test_letter_pages import FILLER, first_page, write
from tests.unit.test_parse_round4 import _line, _plain
from tests.unit.test_reader_round13 import _merged
from tests.unit.test_reader_round13 import _names as _read


def _block_taxpayer(rows: list[tuple], heights: dict[int, float] | None = None) -> tuple[str, str] | None:
    """(first, last) of the block's taxpayer; rows are (tokens, top, left edge), 20 px high unless ``heights`` says
    otherwise for a row's index."""
    heights = heights or {}
    lines = [_line(tokens, top, x=x, height=heights.get(index, 20.0)) for index, (tokens, top, x) in enumerate(rows)]
    block = address_block_names(build_layout(lines, 1700, 1200))
    if block is None or block.names is None:
        return None
    return block.names.taxpayer.first, block.names.taxpayer.last


@pytest.mark.parametrize("text", ["PORTLAND OR 97204 \u00b0*", "PORTLAND OR 97204-1234 |", "PORTLAND OR 97204 ~ ."])
def test_specks_read_after_the_zip_still_end_a_city_line(text: str) -> None:
    assert _city_line(text)


@pytest.mark.parametrize("text", ["PORTLAND OR \u00b0*", "OR 97204 \u00b0*", "Page 1 of 2 \u00b0*"])
def test_specks_after_the_last_word_do_not_make_a_city_line(text: str) -> None:
    assert not _city_line(text)


def test_a_block_whose_city_line_ends_in_specks_gives_its_names() -> None:
    # dev seed 9191: "PORTLAND OR 97204 °*" was no city line, and the letter's only name block was lost
    city = [("PORTLAND", 96), ("OR", 95), ("97204", 93), ("\u00b0*", 50)]
    assert _block_taxpayer([(_plain("LUIS RAMIREZ SR"), 300, 170), (_plain("SEAN D RAMIREZ"), 330, 170),
                            (_plain("8461 LAKEVIEW CT"), 360, 170), (city, 390, 170)]) == ("LUIS", "RAMIREZ")


def test_an_unreadable_line_between_the_street_and_the_city_is_passed_over() -> None:
    # dev seed 4242: a pen stroke through the unit line, read as "NEP: €", ended the search for the street
    assert _block_taxpayer([(_plain("CHARLES M & JUN O'MALLEY"), 300, 170), (_plain("12564 PINE HOLLOW RD"), 330, 170),
                            ([("NEP:", 11), ("\u20ac", 67)], 360, 170),
                            (_plain("ST LOUIS MO 63101-8985"), 390, 170)]) == ("CHARLES", "O'MALLEY")


def test_a_readable_line_between_the_street_and_the_city_still_is_no_block() -> None:
    assert _block_taxpayer([(_plain("CHARLES M & JUN O'MALLEY"), 300, 170), (_plain("12564 PINE HOLLOW RD"), 330, 170),
                            (_plain("Employee ID number"), 360, 170),
                            (_plain("ST LOUIS MO 63101-8985"), 390, 170)]) is None


def test_a_speck_on_the_city_lines_own_row_is_not_the_line_above_it() -> None:
    # dev seed 4242: pen marks read as "T Lor", boxed a pixel below the city line's top and a quarter of its height,
    # were taken for the street line
    assert _block_taxpayer([(_plain("CHARLES M & JUN O'MALLEY"), 300, 170), (_plain("12564 PINE HOLLOW RD"), 330, 170),
                            (_plain("ST LOUIS MO 63101-8985"), 360, 170),
                            ([("T", 91), ("Lor", 95)], 361, 190)], heights={3: 5.0}) == ("CHARLES", "O'MALLEY")


def test_past_an_unreadable_line_a_mail_sort_lines_numbers_are_no_street() -> None:
    # dev seed 9191: the street was lost, and past the garbled name line above the city the mail-sort line's
    # "7528834001 245663.00} LAH" was taken for the street; the name read above it was "TO GON"
    sort_line = [("7528834001", 53), ("245663.00}", 32), ("LAH", 18)]
    assert _block_taxpayer([(_plain("TO GON"), 270, 170), (sort_line, 300, 170),
                            ([("SUNEEABLDAVIS", 2), ("-", 27)], 330, 170),
                            (_plain("SPOKANE WA 99201-5238"), 360, 170)]) is None


@pytest.mark.parametrize("line, cleaned", [
    ("HYUN-C FLORES", "HYUN C FLORES"),  # dev seed 5150: a speck hyphened to the given name
    ("MARY-KATE-M DE LOS SANTOS", "MARY-KATE M DE LOS SANTOS"),
    ("JEAN-PAUL SMITH", "JEAN-PAUL SMITH"),  # two names hyphened stay one
    ("ANA W & LINDA J-LA ROSA", "ANA W & LINDA J LA ROSA"),  # the initial before the hyphen (round 5)
    ("\u2014KAREN_R-ALLEN", "KAREN R ALLEN"),  # dev seed 4242: the spaces read as an underscore and a hyphen
])  # fmt: skip
def test_one_letter_hyphened_after_a_name_is_an_initial(line: str, cleaned: str) -> None:
    assert clean_name_line(name_chunk(line))[0] == cleaned


def test_a_one_person_read_spelled_with_a_space_less_is_still_the_spouse() -> None:
    # dev seed 9191: page 1's block "AL T DE LA TORRE / EDWARD J DE LA TORRE", the response form's "EDWARD J DELA TORRE"
    # alone and more confident; EDWARD, the spouse, had become the taxpayer
    both = _read(0.88, ("AL", "DE LA TORRE"), ("EDWARD", "DE LA TORRE"))
    spouse_alone = _read(0.91, ("EDWARD", "DELA TORRE"))
    assert _merged(both, spouse_alone) == _merged(spouse_alone, both) == ("DE LA TORRE", "DE LA TORRE")
    assert _first_of(both, spouse_alone) == _first_of(spouse_alone, both) == "AL"


def test_a_couples_less_confident_read_still_names_the_taxpayer() -> None:
    # dev seed 4242: "MARIE-CLAIRE ALLEN / KAREN R ALLEN" at 0.73 (a garbled word on the spouse's line), the response
    # form's "KAREN R ALLEN" alone at 0.93: a debris first person would not bear the couple's surname
    both = _read(0.73, ("MARIE-CLAIRE", "ALLEN"), ("KAREN", "ALLEN"))
    spouse_alone = _read(0.93, ("KAREN", "ALLEN"))
    assert _first_of(both, spouse_alone) == _first_of(spouse_alone, both) == "MARIE-CLAIRE"


def test_a_read_that_lost_the_spouse_does_not_drop_the_spouse_of_a_couples_read() -> None:
    # dev seed 5150: page 1 "BETTY F & WOJCIECH A MCDONALD" at 0.73, the response form "BETTY F WOICIECHA MCDONALD"
    # (the ampersand lost, the spouse's given name glued to the surname's line) as one person at 0.73 and after it
    both = _read(0.71, ("BETTY", "MCDONALD"), ("WOJCIECH", "MCDONALD"))
    alone = _read(0.73, ("BETTY", "MCDONALD"))
    assert _merged(both, alone) == _merged(alone, both) == ("MCDONALD", "MCDONALD")
    debris = _read(0.6, ("BETTY", "MCDONALD"), ("EE", "IS"))  # far less sure, and a debris person shares no surname
    assert _merged(debris, alone) == _merged(alone, debris) == ("MCDONALD", None)


def _first_of(*reads: dict) -> str:
    from mailroom.notices.page_fields import merge

    merged: dict = {}
    for read in reads:
        merge(merged, read)
    return merged["taxpayer_first_name"].value


# --- pages before the first letter: one cover sheet, not an unread letter (extract._doubt_pages_before) -------------

_COVER = ["FAX COVER SHEET", "Date: 11/14/2025   Time: 09:12", "To: Tax resolution desk", "From: client services"]


@pytest.mark.parametrize("before, doubt", [
    ([_COVER], None),  # a fax cover goes with the letter, as before
    ([_COVER, _COVER], "pages 1-2 come before the first letter and show nothing of it; a cover sheet is one page"),
    # spent seed 14142: an unread letter's pages (faded, its box and labels lost) before the next taxpayer's letter
    ([["Department of the Treasury", "Internal Revenue Service", "", FILLER]],
     "page 1 comes before the first letter and is printed with the IRS letterhead; a cover sheet is not"),
])  # fmt: skip
def test_pages_before_the_first_letter_are_one_cover_sheet_or_put_it_in_doubt(tmp_path, before, doubt) -> None:
    from mailroom.notices import extract_notices

    pages = [*((lines, None) for lines in before), (first_page(), "Page 1 of 1")]
    notices = extract_notices(write(tmp_path / "before.pdf", pages))
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in notices] == [(1, len(pages), doubt)]


# --- a surname of one letter is a lost surname (names._person) -------------------------------------------------------


@pytest.mark.parametrize("line, people", [
    ("DOROTHY P", None),  # spent seed 57721: DOROTHY P DE LA ROSA, the surname lost; the file name may give it
    ("TYRONE E MILLER L", None),  # dev seed 3131: MILLER-LEE's second part lost past its hyphen
    ("JOHN SMITH & ROSA P", [("JOHN", "SMITH")]),  # the spouse's surname lost: the taxpayer stays
    ("DOROTHY P & JOHN SMITH", [("DOROTHY", "SMITH"), ("JOHN", "SMITH")]),  # an initial before a shared surname
    ("JOHN SMITH & SPOUSE", None),  # as before: one word after the ampersand is no person (address.py drops it)
    ("JOHN T O'NEIL", [("JOHN", "O'NEIL")]),
])  # fmt: skip
def test_a_one_letter_surname_is_no_surname(line: str, people: list[tuple[str, str]] | None) -> None:
    from mailroom.notices.names import parse_name_line

    names = parse_name_line(line)
    read = None if names is None else [(p.first, p.last) for p in (names.taxpayer, names.spouse) if p is not None]
    assert read == people
