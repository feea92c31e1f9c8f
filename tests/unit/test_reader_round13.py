"""Round 13 of issue 10: closer reads that do not agree become guesses; two more second looks at a letter's bands; a
letter found on its page 2 claims the page before it on that page's footer read closer; a middle initial glued to
the given name by an apostrophe; a read of both name lines beats a read that lost the first.

Each fails without its change: reads of an SSN beside its label that disagreed were thrown away (the matcher had
nothing to search with), a letter missing its surname was read again only with its rules removed, a first page
whose label only a closer read gives stayed "before the first letter", in doubt, "LAYLA'S NG" gave the first name
LAYLA'S, a more confident read of the spouse's line alone made the spouse the taxpayer, and a file no page of which
reads as a letter's first page got none of the closer looks, and a first letter whose page 1 box was lost went before
the file's second letter, in doubt, a name line above a line OCR lost or moved out of line was not read, an initial
glued to a particle hid the surname's start, a given name glued to the surname by a hyphen found no case, a scan
line with a dash after the last 4 and a box row whose only label OCR kept was the SSN's gave no SSN.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pymupdf
import pytest
from PIL import Image

from mailroom.notices import extract_notices
from mailroom.notices.model import ExtractionLimits
from mailroom.notices.address import address_block_names, clean_name_line
from mailroom.notices.layout import Word, build_layout
from mailroom.notices.page_fields import GUESS_CONFIDENCE, merge, with_guesses
from mailroom.notices.pages import Pages
from mailroom.notices.parse import Found
from mailroom.notices.rereads import reread_ssn_last4
from mailroom.notices.rows import header_row_pairs
from mailroom.notices.ssn import find_ssn_last4
from mailroom.notices.second_looks import CLEANUPS, second_looks, stamp_lifted
from tests.unit.test_extraction import scanned_copy
from tests.unit.test_letter_pages import FILLER, first_page, scanned, write
from tests.unit.ocr_lines import name_chunk
from tests.unit.test_reader_round6 import _box_line
from tests.unit.test_reader_round7 import footed_pages


def _scripted(texts: list[str]):
    """A line reader that answers the three closer reads with ``texts`` in turn (what Tesseract made of a damaged
    value, dev seed 4242), so the reads disagree as they did there; the value's right half, read where they disagree
    (round 28), reads as nothing."""
    answers = iter(texts)
    return lambda image, dpi, psm, allowed: [next(answers, "")]


@pytest.mark.parametrize("texts, last4, readings", [
    (["", "*8824177", ""], None, ["4177"]),  # one read of three saw the number: a guess, not a value
    (["-58151", "-58151", "-58151"], None, ["8151", "5815"]),  # five digits: a speck after the last 4, or before
    (["**-8-4261", "46", "46"], None, ["4261"]),
    (["XXX-XX-5088", "XXX-XX-5088", "5089"], "5088", ["5088", "5089"]),  # two agree: the value, as before
    (["", "", ""], None, []),
])  # fmt: skip
def test_closer_reads_that_do_not_agree_still_give_their_readings(tmp_path: Path, texts, last4, readings) -> None:
    prepared, layout = _box_line(tmp_path / "box.pdf", "Social security number        XXX-XX-5088")
    closer = reread_ssn_last4(prepared.image, layout, dpi=prepared.dpi, speckled=False, read=_scripted(texts))
    assert (closer.last4.value if closer.last4 else None, closer.readings) == (last4, readings)


def test_no_readings_where_no_line_holds_the_taxpayers_label(tmp_path: Path) -> None:
    prepared, layout = _box_line(tmp_path / "box.pdf", "Spouse's social security number      XXX-XX-5088")
    closer = reread_ssn_last4(prepared.image, layout, dpi=prepared.dpi, speckled=False,
                              read=_scripted(["5088"] * 3))  # fmt: skip
    assert (closer.last4, closer.readings) == (None, [])


def test_readings_join_the_band_reads_guesses_after_them_up_to_three() -> None:
    found = {"ssn_last4_guesses": Found(("5086", "8086"), GUESS_CONFIDENCE)}
    joined = with_guesses(found, ["8086", "4177", "1777"])
    assert joined is not None and joined.value == ("5086", "8086", "4177")
    assert with_guesses({}, []) is None


def _unnamed_scan(tmp_path: Path) -> Path:
    lines = [line for line in first_page() if line != "JOHN SMITH"]  # no name anywhere: every look is tried
    return scanned_copy(write(tmp_path / "text.pdf", [(lines, "Page 1 of 1")]), tmp_path / "scan.pdf")


def test_a_letter_without_its_surname_is_read_again_each_way_in_turn(tmp_path: Path, monkeypatch) -> None:
    looks: list[tuple[int, str, int | str]] = []
    real = Pages.band_cleaned

    def spy(self, index, name, clean):
        looks.append((index, name, "stamp lifted" if clean is stamp_lifted else CLEANUPS.index(clean)))
        return real(self, index, name, clean)

    monkeypatch.setattr(Pages, "band_cleaned", spy)
    notice = extract_notices(_unnamed_scan(tmp_path))[0]
    assert notice.taxpayer_last_name is None and notice.ssn_last4 == "4321"
    # then, still without a name block, once with a stamp lifted for name lines to search the CRM with (round 24)
    assert looks == [*((0, "top", look) for look in range(len(CLEANUPS))), (0, "top", "stamp lifted")]


def test_the_looks_stop_once_nothing_is_missing(tmp_path: Path) -> None:
    path = _unnamed_scan(tmp_path)
    with pymupdf.open(path) as document:
        pages = Pages(document, ExtractionLimits(), deadline=time.monotonic() + 60)
        pages.band(0, "top")
        missing = iter([True, True, False])  # the page has no rule: the first look reads nothing, the second does
        assert len(list(second_looks(pages, 0, 0, lambda: next(missing)))) == 1


def test_each_look_prepares_the_band_its_own_way() -> None:
    band = Image.new("L", (200, 100), 230)
    band.paste(40, (20, 40, 180, 44))  # a rule
    band.paste(90, (50, 60, 60, 80))  # a grey stroke of print
    without_rules, median_binarised, enlarged = (clean(band, 200) for clean in CLEANUPS[:3])
    assert without_rules[1] == 200 and without_rules[0].getpixel((100, 42)) == 255
    assert median_binarised[1] == 200 and set(np.unique(np.asarray(median_binarised[0]))) == {0, 255}
    assert enlarged[0].size == (300, 150) and enlarged[1] == 300 and set(np.unique(np.asarray(enlarged[0]))) <= {0, 255}


def _found_on_page_2(path: Path, first_label: str) -> Path:
    """Page 1 lost its box (name and SSN, nothing that starts a letter) and prints its label too small for the band
    read (3 pt); page 2's header repeats the box, so the letter is found there."""
    page_1 = [FILLER, "JOHN SMITH", "123 MAIN ST", "ANYTOWN OH 44101-1234", "Social Security number 912-78-4321"]
    return footed_pages(path, [(page_1, first_label, 3), (first_page(), "Page 2 of 2", 10)])


def test_a_page_before_the_letter_whose_footer_read_closer_says_page_1_is_its_first(tmp_path: Path) -> None:
    """Dev seed 4242: "Page t" in the band read, "Page 1" read closer; the letter went to review in doubt."""
    own = extract_notices(scanned(_found_on_page_2(tmp_path / "own.pdf", "Page 1 of 2"), tmp_path / "a.pdf"))
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in own] == [(1, 2, None)]
    misplaced = extract_notices(scanned(_found_on_page_2(tmp_path / "other.pdf", "Page 3 of 3"), tmp_path / "b.pdf"))
    assert [n.pages_in_doubt for n in misplaced] == [
        "page 1, before the first letter, shows a letter's marks but starts no letter"]


@pytest.mark.parametrize("line, cleaned", [
    ("LAYLA'S NG", "LAYLA S NG"),
    ("MARY-KATE'M DE LOS SANTOS", "MARY-KATE M DE LOS SANTOS"),
    ("DE'ANDRE W O'BRIEN", "DE'ANDRE W O'BRIEN"),  # an apostrophe inside a name stays
])  # fmt: skip
def test_a_middle_initial_an_apostrophe_glued_to_the_given_name_is_its_own_word(line: str, cleaned: str) -> None:
    assert clean_name_line(name_chunk(line))[0] == cleaned


def _names(confidence: float, taxpayer: tuple[str, str], spouse: tuple[str, str] | None = None) -> dict:
    people = [("taxpayer", taxpayer)] + ([("spouse", spouse)] if spouse else [])
    return {f"{role}_{part}_name": Found(value, confidence)
            for role, (first, last) in people for part, value in (("first", first), ("last", last))}  # fmt: skip


def _merged(*reads: dict) -> tuple:
    merged: dict = {}
    for read in reads:
        merge(merged, read)
    return tuple(merged[f"{role}_last_name"].value if f"{role}_last_name" in merged else None
                 for role in ("taxpayer", "spouse"))  # fmt: skip


def test_a_read_that_lost_the_first_name_line_does_not_make_the_spouse_the_taxpayer() -> None:
    both = _names(0.86, ("AMANDA", "IBANEZ"), ("FRANCOIS", "SCHRODER"))  # page 1, a word read at under 80
    spouse_alone = _names(0.93, ("FRANCOIS", "SCHRODER"))  # the response form, its first line under a stamp
    assert _merged(both, spouse_alone) == _merged(spouse_alone, both) == ("IBANEZ", "SCHRODER")


def test_a_far_less_confident_first_person_is_debris_not_a_lost_line() -> None:
    debris = _names(0.75, ("EE", "IS"), ("DONNA", "HARRIS-BAKER"))
    alone = _names(0.93, ("DONNA", "HARRIS-BAKER"))
    assert _merged(debris, alone) == _merged(alone, debris) == ("HARRIS-BAKER", None)


def test_a_file_no_page_of_which_starts_a_letter_still_gets_the_closer_looks(tmp_path: Path, monkeypatch) -> None:
    looked: list[tuple[int, str]] = []
    real = Pages.band_cleaned
    monkeypatch.setattr(Pages, "band_cleaned", lambda self, index, name, clean: looked.append((index, name))
                        or real(self, index, name, clean))  # fmt: skip
    no_start = ["Department of the Treasury", "Internal Revenue Service", "", "JOHN SMITH", "123 MAIN ST",
                "ANYTOWN OH 44101-1234"]  # a box a stamp took whole: no code, date or SSN starts a letter
    path = scanned_copy(write(tmp_path / "text.pdf", [(no_start, "Page 1 of 1")]), tmp_path / "scan.pdf")
    notice = extract_notices(path)[0]
    assert notice.ssn_last4 is None and looked and set(looked) == {(0, "top")}


def test_a_look_that_takes_nothing_out_is_not_read_again(tmp_path: Path) -> None:
    rules, median = CLEANUPS[:2]
    with pymupdf.open(_unnamed_scan(tmp_path)) as document:  # no rule on the page
        pages = Pages(document, ExtractionLimits(), deadline=time.monotonic() + 60)
        pages.band(0, "top")
        assert pages.band_cleaned(0, "top", rules) is None
        assert pages.band_cleaned(0, "top", median) is not None


_BOX_LOST = ["Notice CP2000", FILLER, "JOHN SMITH", "123 MAIN ST", "ANYTOWN OH 44101-1234"]  # a code, nothing else


def test_before_any_letter_a_page_labelled_1_of_n_with_a_letters_marks_and_then_2_of_n_starts_one(tmp_path) -> None:
    path = write(tmp_path / "two.pdf", [(_BOX_LOST, "Page 1 of 2"), ([FILLER, FILLER], "Page 2 of 2"),
                                        (first_page(ssn="913-55-5555"), "Page 1 of 1")])  # fmt: skip
    notices = extract_notices(path)
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in notices] == [(1, 2, None), (3, 3, None)]
    assert notices[1].ssn_last4 == "5555"


def test_a_cover_labelled_1_of_n_followed_by_a_letters_own_page_1_starts_nothing(tmp_path) -> None:
    path = write(tmp_path / "cover.pdf", [(_BOX_LOST, "Page 1 of 2"), (first_page(), "Page 1 of 1")])
    # no letter starts on page 1; its letter's marks make it a letter of its own, in doubt (round 15)
    notices = extract_notices(path)
    assert [(n.first_page, n.last_page) for n in notices] == [(1, 1), (2, 2)]
    assert notices[0].pages_in_doubt is not None and notices[1].pages_in_doubt is None


def _block(*rows: tuple[int, str]):
    """Address lines as OCR words 20 px high, a line every 30 px, each starting at its own x."""
    return build_layout([[Word(text, 95.0, x + 60 * n, 30 * row, x + 60 * n + 50, 30 * row + 20)
                          for n, text in enumerate(line.split())] for row, (x, line) in enumerate(rows)], 1700, 1200)


def test_a_name_line_above_a_line_ocr_moved_out_of_line_is_read_unsure() -> None:
    block = address_block_names(_block((60, "BARBARA GONZALEZ"), (400, "ZALEZ"), (60, "15614 COUNTY ROAD 12"),
                                       (60, "NEW ORLEANS LA 70112")))  # fmt: skip
    assert block is not None and block.names is not None
    assert (block.names.taxpayer.first, block.names.taxpayer.last, block.min_conf) == ("BARBARA", "GONZALEZ", 0.0)


def test_no_name_is_taken_from_two_lines_above_the_street() -> None:
    assert address_block_names(_block((60, "BARBARA GONZALEZ"), (400, "ZALEZ"), (400, "PEN"),
                                      (60, "15614 COUNTY ROAD 12"), (60, "NEW ORLEANS LA 70112"))) is None  # fmt: skip


def test_an_initial_an_apostrophe_glued_to_the_particle_after_it_is_its_own_word() -> None:
    assert clean_name_line(name_chunk("MOHAMMED L'DE JESUS-ABERNATHY"))[0] == "MOHAMMED L DE JESUS-ABERNATHY"
    assert clean_name_line(name_chunk("CARLOS W D'ANGELO"))[0] == "CARLOS W D'ANGELO"


def test_a_given_name_ocr_hyphened_to_the_surname_is_confirmed_in_the_crm() -> None:
    from mailroom.crm import CaseCandidate
    from mailroom.matching import MatchOutcome, match_notice
    from mailroom.notices.model import Notice
    from mailroom_sandbox.logiqs.directory import InMemoryCaseDirectory

    crm = InMemoryCaseDirectory([CaseCandidate(case_id=5, first_name="Carlos", last_name="Walker-Buenaventura",
                                               ssn_last4="0393", status="active", active=True)])  # fmt: skip
    glued = Notice(ssn_last4="0393", name_evidence=["CARLOS-WALKER-BUENAVENTURA & SPOUSE"])
    result = match_notice(glued, crm)
    assert (result.outcome, result.case_id) == (MatchOutcome.MATCHED, 5)
    other = Notice(ssn_last4="0393", name_evidence=["MARIA-WALKER-BUENAVENTURA & SPOUSE"])  # not the case's person
    assert match_notice(other, crm).outcome is not MatchOutcome.MATCHED


def test_a_scan_line_whose_last_4_ocr_joined_to_the_name_control_by_a_dash_gives_it() -> None:
    found = find_ssn_last4("XXXXX6519-KOWA 39 0 202312 282 00001244914")
    assert found is not None and found.value == "6519"


def test_a_box_row_whose_only_label_ocr_kept_is_the_ssns_pairs_its_value() -> None:
    header = "Leuer date . Taxpayer ID number Peron Us cantact Cantact telephone number Employee IP nucrber"
    assert header_row_pairs(f"{header}\n. December 1, 2025 -XXX-XX-9366 Collections 1-800-829-8310") == [
        "Social security number -XXX-XX-9366"]
    spouse = "Spouse's taxpayer ID number   Person to contact"
    assert header_row_pairs(f"{spouse}\nXXX-XX-5555 Collections") == []  # the spouse's number is not the taxpayer's
