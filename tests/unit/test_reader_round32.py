"""Round 32 (issue 10): speckle read in lower case after a name ends the name line; a taxpayer id one of whose
hyphens OCR lost is still read next to its label.

Found by asking, for each true match the six tuned seeds lost, whether its surname and last 4 stood anywhere in what
OCR had read (33 of 61 had both). "'s whe CARLOS DA SILVA-VILLANUEVA Pou: 4" (75025) was no name line because of
the speckle read "Pou:" after the name, in the same chunk. "Taxpayer ID number. =\" 978-71 8323" (75025) gave no last 4
because its two separators differed.
"""

from __future__ import annotations

from mailroom.matching import MatchOutcome, match_notice
from mailroom.notices.loose_names import loose_name_lines
from mailroom.notices.model import LetterType, Notice
from mailroom.notices.ssn import find_ssn_last4
from tests.unit.ocr_lines import word_chunks, word_line
from tests.unit.test_matching import ListDirectory, case


def test_lower_case_speckle_after_a_name_ends_the_line() -> None:
    layout = word_line(("CARLOS", 91), ("DA", 90), ("SILVA-VILLANUEVA", 88), ("Pou:", 30), ("4", 20))
    assert loose_name_lines(layout) == ["CARLOS DA SILVA-VILLANUEVA"]


def test_the_cut_wants_two_name_words_in_its_chunk_one_read_surely() -> None:
    assert loose_name_lines(word_line(("Please", 95), ("explain", 95), ("these", 95))) == []  # a sentence
    # one word before the lower case: the chunk is no name, and the name in the chunk before stands alone
    assert loose_name_lines(word_chunks([("MARIA", 95), ("JOSE", 95)], [("LIN", 95), ("we", 40)])) == ["MARIA JOSE"]
    # two words, none of them read surely: no name either, though the chunk before holds one
    assert loose_name_lines(word_chunks([("MARIA", 95), ("JOSE", 95)], [("JO", 60), ("LIAM", 60), ("we", 40)])) == [
        "MARIA JOSE"]


def test_a_state_in_lower_case_makes_it_a_city_line() -> None:
    assert loose_name_lines(word_line(("EL", 95), ("PASO", 95), ("tx", 60), ("79936", 95))) == []
    assert loose_name_lines(word_line(("BOISE", 95), ("CITY", 95), ("id", 60))) == []


def test_the_name_found_so_finds_its_case_and_only_its_own() -> None:
    evidence = loose_name_lines(word_line(("CARLOS", 91), ("DA", 90), ("SILVA-VILLANUEVA", 88), ("Pou:", 30)))
    notice = Notice(letter_type=LetterType.CP3219A, tax_year=2023, ssn_last4="3409", name_evidence=evidence)
    directory = ListDirectory([case(5, "CARLOS", "DA SILVA-VILLANUEVA", "3409"), case(6, "ANA", "SILVA", "1409")])
    result = match_notice(notice, directory)
    assert (result.outcome, result.case_id) == (MatchOutcome.MATCHED, 5) and len(directory.queries) <= 3
    absent = ListDirectory([case(7, "MARIA", "DA SILVA-VILLANUEVA", "3409")])  # same surname and last 4, not him
    assert match_notice(notice, absent).outcome is MatchOutcome.INSUFFICIENT_DATA


def test_a_taxpayer_id_with_one_hyphen_lost_is_read_next_to_its_label_unsure() -> None:
    found = find_ssn_last4('Taxpayer ID number. =" 978-71 8323 Te 2')
    assert found is not None and (found.value, found.confidence) == ("8323", 0.85)
    assert find_ssn_last4("Social Security number: 958 95-1646 Control").value == "1646"
    assert find_ssn_last4("Taxpayer ID number 978-71-8323").confidence == 0.97  # both hyphens: as before


def test_mixed_separators_stay_no_number_away_from_a_label_or_in_a_control_number() -> None:
    assert find_ssn_last4("GRAND RAPIDS MI 606 16-7167") is None  # a ZIP+4 split by OCR, no label
    assert find_ssn_last4("Taxpayer ID number 97871-8323") is None  # a 5-4 shape is a control number's
    assert find_ssn_last4("Taxpayer ID number 978-718323") is None  # one hyphen and none: not the lost-hyphen shape
