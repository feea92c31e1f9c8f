"""Round 18 of issue 10: a letter counted by any page's label; a first name read beside a surname the page garbled
cannot veto a case; OCR's misreads of the ampersand between two names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_letter_pages import first_page, inner_page, write

# --- a letter counted by its second page's "2 of N" (extract._labelled_to_the_end) ----------------------------------


def _doubt(tmp_path: Path, labels: list[str | None]) -> list[tuple[int, int, bool]]:
    from mailroom.notices import extract_notices

    pages = [(first_page(), labels[0]), *[(inner_page(), label) for label in labels[1:]]]
    notices = extract_notices(write(tmp_path / "pages.pdf", pages))
    return [(n.first_page, n.last_page, n.pages_in_doubt is not None) for n in notices]


def test_unlabelled_pages_of_a_letter_whose_second_page_counts_it_are_its_own(tmp_path: Path) -> None:
    assert _doubt(tmp_path, [None, "Page 2 of 4", None, None]) == [(1, 4, False)]


@pytest.mark.parametrize("labels", [
    [None, "Page 2", None, None],  # no total: nothing says where the letter ends
    [None, "Page 2 of 5", None, None],  # the count runs past the file: a page is missing, the others are unsure
    [None, "Page 2 of 3", None, None],  # the file runs a page past the letter's own count
    [None, "Page 3 of 4", None, None],  # labelled out of its place
    [None, "Page 2 of 4", None, "Page 2 of 2"],  # another page labelled with another total: another letter's
])  # fmt: skip
def test_unlabelled_pages_stay_in_doubt_unless_a_label_in_place_counts_them(tmp_path: Path,
                                                                            labels: list[str | None]) -> None:
    assert all(doubt for _, _, doubt in _doubt(tmp_path, labels))
