"""Round 24 (issue 10): true matches the CRM can still confirm.

On the twelve tuned seeds' scans (dev 4242, 5150, 3131, 9191 and the spent held-out seeds, 46368 included since its
run), letters were lost with the right case in the CRM: a letter whose SSN a stamp took while another letter in the
same file prints it for the same taxpayer (INSUFFICIENT_DATA); a first name OCR garbled beside the whole surname and
the last 4 the case holds (NO_MATCH: "SUANIB" for JUAN); a speck before a suffix glued on as an apostrophe
("PENA'IV").
"""

from __future__ import annotations

from tests.unit.test_parse_round4 import _plain
from tests.unit.test_reader_round19 import _block_taxpayer


def test_a_speck_read_as_an_apostrophe_before_a_suffix_does_not_glue_it_to_the_surname() -> None:
    rows = [([("MIGUEL", 96), ("PENA", 39), ("\u2018IV.", 39)], 300, 170), (_plain("4312 OAK ST"), 330, 170),
            (_plain("AUSTIN TX 78701"), 360, 170)]
    assert _block_taxpayer(rows) == ("MIGUEL", "PENA")
    rows[0] = ([("CARLOS", 96), ("D", 90), ("\u2019ANGELO", 90)], 300, 170)
    assert _block_taxpayer(rows) == ("CARLOS", "D'ANGELO")  # an apostrophe inside a surname still joins it
