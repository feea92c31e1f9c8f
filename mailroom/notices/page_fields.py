"""page_fields: the fields one page (or one band of it) gives, and how the readings of a letter's pages combine.

Split from extract.py (which reads pages and letters): parse a page's layout (labelled values, box rows, the
address block), merge readings (the most confident wins; names move as a group), and judge a letter complete (every
field its type prints read with trusted confidence, so OCR stops).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mailroom.notices.address import BlockNames, address_block_names, names_found
from mailroom.notices.aur import find_aur_control_number
from mailroom.notices.layout import PageLayout
from mailroom.notices.model import LetterType
from mailroom.notices.names import find_names, name_letters
from mailroom.notices.parse import (
    Found,
    find_amount_due,
    find_letter_type,
    find_notice_date,
    find_response_due_date,
    find_tax_year,
    normalize_text,
)
from mailroom.notices.rows import header_row_pairs
from mailroom.notices.ssn import MAX_GUESSES, find_ssn_last4, last4_guesses

_INITIAL_ONLY_CONFIDENCE = 0.85  # a taxpayer whose first name reads as one letter
GUESS_CONFIDENCE = 0.3  # readings of a garbled last 4: searched with, never filed as (ssn.last4_guesses)
TRUSTED_CONFIDENCE = 0.9  # a parse below this (unlabelled guess, OCR repair) keeps OCR looking at later pages
# Fields every notice type prints; OCR stops once they are all found with trusted confidence.
_CORE_FIELDS = ("letter_type", "tax_year", "notice_date", "taxpayer_last_name", "ssn_last4", "amount_due")
_AUR_LETTERS = (LetterType.CP2000, LetterType.CP2501, LetterType.CP3219A)
_NAME_GROUP = ("taxpayer_first_name", "taxpayer_last_name", "spouse_first_name", "spouse_last_name")


def parse_text(text: str) -> dict[str, Found[Any]]:
    found: dict[str, Found[Any]] = {}
    pairs = header_row_pairs(text)
    if pairs:  # box rows read by value type: after the page's own lines, so a value printed beside its label wins
        text = text + "\n" + "\n".join(pairs)
    simple: dict[str, Callable[[str], Found[Any] | None]] = {
        "letter_type": find_letter_type, "tax_year": find_tax_year, "notice_date": find_notice_date,
        "response_due_date": find_response_due_date, "ssn_last4": find_ssn_last4,
        "aur_control_number": find_aur_control_number, "amount_due": find_amount_due,
    }  # fmt: skip
    for field_name, parser in simple.items():
        result = parser(text)
        if result is not None:
            found[field_name] = result
    if "ssn_last4" not in found and (guesses := last4_guesses(text)):
        found["ssn_last4_guesses"] = Found(tuple(guesses), GUESS_CONFIDENCE)
    return found


def _put_names(found: dict[str, Found[Any]], names: Found[Any]) -> None:
    found["taxpayer_first_name"] = Found(names.value.taxpayer.first, names.confidence)
    found["taxpayer_last_name"] = Found(names.value.taxpayer.last, names.confidence)
    if names.value.spouse is not None:
        found["spouse_first_name"] = Found(names.value.spouse.first, names.confidence)
        found["spouse_last_name"] = Found(names.value.spouse.last, names.confidence)


def _parse_fields(text: str) -> dict[str, Found[Any]]:
    """Every field a plain text gives (labelled names or a line-based address block); kept for text-only callers."""
    found = parse_text(text)
    names = find_names(text)
    if names is not None:
        _put_names(found, names)
    return found


def parse_layout(layout: PageLayout) -> tuple[dict[str, Found[Any]], BlockNames | None]:
    text = normalize_text(layout.text)
    found = parse_text(text)
    block = address_block_names(layout)
    labelled = find_names(text)
    block_names = names_found(block)
    names = labelled if labelled is not None and labelled.confidence >= 0.97 else block_names or labelled
    if names is not None and len(names.value.taxpayer.first) == 1:
        # "S & LISA C THOMPSON-SCOTT": the given name lost under a stamp, its middle initial read as the first name
        # (dev seed 4242, round 10). Unsure, so the response form's whole "WILLIAM S & ..." wins over it.
        names = Found(names.value, min(names.confidence, _INITIAL_ONLY_CONFIDENCE))
    if names is not None:
        _put_names(found, names)
    return found, block


def required(found: dict[str, Found[Any]]) -> list[str]:
    letter = found.get("letter_type")
    required = list(_CORE_FIELDS)
    if letter is not None and letter.value in (LetterType.CP2501,):
        required.remove("amount_due")  # CP2501 asks for an explanation; it states no amount
    if letter is not None and letter.value in _AUR_LETTERS:
        required.append("aur_control_number")
    return required


def complete(found: dict[str, Found[Any]]) -> bool:
    """Every field this letter type prints is known with trusted confidence (later bands cannot add anything)."""
    return all(name in found and found[name].confidence >= TRUSTED_CONFIDENCE for name in required(found))


def _person(found: dict[str, Found[Any]], role: str) -> tuple[str, str] | None:
    """(first, last) in letters only: "DELA TORRE" on one page is "DE LA TORRE" on another (dev seed 9191)."""
    first, last = found.get(f"{role}_first_name"), found.get(f"{role}_last_name")
    if last is None:
        return None
    return name_letters(str(first.value)) if first else "", name_letters(str(last.value))


_FULLER_WITHIN = 0.1  # a read of both name lines beats a more confident read of one by at most this much


def _lost_a_line(names: dict[str, Found[Any]], other: dict[str, Found[Any]]) -> bool:
    """``names`` hold one person, whom ``other`` holds beside a second one, read nearly as confidently: the read of
    ``names`` lost a line of the block. Losing the first (a stamp over the taxpayer's line of a response form) made
    the spouse the taxpayer (dev seed 3131, round 13: FRANCOIS SCHRODER on a more confident read of the last page);
    losing the second, or the ampersand and the spouse with it ("BETTY F WOICIECHA MCDONALD" against "BETTY F &
    WOJCIECH A MCDONALD", dev seed 5150, round 19), dropped the spouse. Far less confident, the other read's second
    person is debris ("EE IS" over DONNA HARRIS-BAKER, 0.75 against 0.93, dev seed 4242), unless the two people share
    a surname: a couple's block ("MARIE-CLAIRE ALLEN" over "KAREN R ALLEN", 0.73 against 0.93, dev seed 4242, round
    19)."""
    alone = _person(names, "taxpayer")
    first, second = _person(other, "taxpayer"), _person(other, "spouse")
    if alone is None or _person(names, "spouse") is not None or second is None or alone not in (first, second):
        return False
    return (first is not None and first[1] == second[1]) or (
        other["taxpayer_last_name"].confidence >= names["taxpayer_last_name"].confidence - _FULLER_WITHIN)


def merge(merged: dict[str, Found[Any]], found: dict[str, Found[Any]]) -> None:
    """Per field the most confident reading wins (the earlier on ties); names move as a group."""
    for name, result in found.items():
        if name not in _NAME_GROUP and (name not in merged or result.confidence > merged[name].confidence):
            merged[name] = result
    names, best = found.get("taxpayer_last_name"), merged.get("taxpayer_last_name")
    more_confident = best is None or (names is not None and names.confidence > best.confidence)
    if names is not None and not _lost_a_line(found, merged) and (
            more_confident or _lost_a_line(merged, found)):  # fmt: skip
        for name in _NAME_GROUP:
            merged.pop(name, None)
            if name in found:
                merged[name] = found[name]


def with_guesses(found: dict[str, Found[Any]], readings: list[str]) -> Found[Any] | None:
    """The letter's guesses at a last 4 (the band reads' first) joined by a closer read's ``readings`` no two reads
    agreed on, at most MAX_GUESSES; None when there are none. The matcher searches with them, never files them."""
    known = found.get("ssn_last4_guesses")
    guesses = list(dict.fromkeys([*(known.value if known else ()), *readings]))[:MAX_GUESSES]
    return Found(tuple(guesses), GUESS_CONFIDENCE) if guesses else None
