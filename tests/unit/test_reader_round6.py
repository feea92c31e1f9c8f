"""Round 6 of issue 10: a label read turned at a page's top, a closer look at an unread SSN.

Each fails without its change: an inner page fed upside down had its whole top band OCR'd to find its label, and an
SSN the band read garbled stayed unread.
"""

from __future__ import annotations

import pytest

import mailroom.notices.pages as pages
from mailroom.notices import extract_notices

from tests.unit.test_letter_pages import FILLER, first_page, scanned, write


@pytest.fixture
def bands_read(monkeypatch) -> list[tuple[int, str]]:
    """(page index, band) of every band OCR'd, in order."""
    read: list[tuple[int, str]] = []
    real = pages.Pages.band

    def band(self, index, name):
        if (index, name) not in self.bands and self.scanned(index):
            read.append((index, name))
        return real(self, index, name)

    monkeypatch.setattr(pages.Pages, "band", band)
    return read


def test_an_inner_page_fed_upside_down_gives_its_label_without_its_top_band_read(tmp_path, bands_read):
    """Dev seed 5150: 9 of the 25 top bands read for a label the footer did not give (~0.7 s each) were pages fed
    upside down; their label is at their top, turned, and a strip there costs ~0.05 s."""
    path = write(tmp_path / "text.pdf", [(first_page(), "Page 1 of 2"), ([FILLER, FILLER], "Page 2 of 2")])
    notices = extract_notices(scanned(path, tmp_path / "scan.pdf", upside_down=(2,)))
    assert [(n.first_page, n.last_page, n.pages_in_doubt) for n in notices] == [(1, 2, None)]
    assert (1, "top") not in bands_read
