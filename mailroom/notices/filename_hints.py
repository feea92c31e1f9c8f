"""What a mailroom file name says about the notice inside, e.g. ``CP2000 DTD 10.14.2025_SMITH - 0012.pdf``.

Staff name scans by hand, so these hints are a lower-confidence fallback: used for fields the document itself did
not give us, and for a surname the page gave only unsure that the clerk's spelling explains (below).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from rapidfuzz import fuzz

from mailroom.notices.model import UNSURE_OCR_NAME_BELOW, FieldProvenance, FieldSource, LetterType
from mailroom.notices.names import name_letters
from mailroom.notices.parse import find_letter_type

FILE_NAME_CONFIDENCE = 0.6
_RESEMBLES = 60  # rapidfuzz ratio of the two surnames' letters: "BRIS" for O'BRIEN scores 60, "SHAY" for SHAH 75

# "DTD 10.14.2025", "DTD 10-14-2025", "DTD 10142025", "dated 10/14/2025"
_DATED = re.compile(r"\b(?:DTD|DATED)\s*[_:.-]?\s*(\d{1,2})[._/-]?(\d{1,2})[._/-]?((?:19|20)\d\d)", re.I)
_TAX_YEAR = re.compile(r"\b(?:TY|TAX\s?YEAR)\s*[_-]?\s*((?:19|20)\d\d)\b", re.I)
# A name word; "St." keeps its period ("Ida St. John notice", "ST. JOHN CP2000 2022": the run ended at it, round 18)
_WORD = re.compile(r"^(?:[A-Za-z\u00c0-\u024f][A-Za-z\u00c0-\u024f'\-]*|(?:St|ST|Ste|STE)\.)$")
_COMMA_FORM = re.compile(r"^\s*([A-Za-z\u00c0-\u024f' -]+?)\s*,\s*([A-Za-z\u00c0-\u024f'-]+)")
_LETTER_CODE = re.compile(r"^(?:CP|LT|L)-?\d{2,4}[A-Z]?$", re.I)
# Words clerks put in file names that are not names.
_NOT_NAMES = {"IRS", "NOTICE", "NOTICES", "LETTER", "LTR", "SCAN", "SCANNED", "COPY", "FINAL", "DOC", "IMG", "PDF",
              "DTD", "DATED", "TY", "TAX", "YEAR", "RE", "FW", "FWD", "AND", "MAIL", "NEW"}


@dataclass(frozen=True)
class FileNameHints:
    letter_type: LetterType | None = None
    notice_date: date | None = None
    last_name: str | None = None
    first_name: str | None = None
    tax_year: int | None = None


def _stem(file_name: str) -> str:
    # Only the last path component counts: a name like "../../x.pdf" must not leak directory parts into hints.
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", file_name))[-1]
    return re.sub(r"\.pdf$", "", base, flags=re.I)


def _name_run(tokens: list[str]) -> list[str]:
    """The leading tokens that can be name words (a letter code, a number or a clerk's word ends the run)."""
    run: list[str] = []
    for token in tokens:
        if not _WORD.match(token) or not token[0].isupper() or token.upper() in _NOT_NAMES or _LETTER_CODE.match(token):
            break
        run.append(token)
    return run


def names_from_file_name(stem: str, after_date: str | None) -> tuple[str | None, str | None]:
    """(last, first) as clerks write them. Whole multi-word surnames: "VAN DER BERG CP2000 2023" is VAN DER BERG;
    "SMITH-JONES, MARY - IRS"; "Mary Smith-Jones notice" (given name first in Title Case); "VAN_DER_BERG_MARY_CP2000"
    (underscores: surname then given name); "CP2000 DTD 10.14.2025_DE LA CRUZ - 0012" (after the date)."""
    if after_date is not None:
        run = _name_run(re.split(r"[\s_]+", after_date.strip(" _-")))
        return (" ".join(run).upper() or None), None
    comma = _COMMA_FORM.match(stem)
    if comma and _name_run(comma.group(1).split()) == comma.group(1).split():
        return comma.group(1).strip().upper(), comma.group(2).upper()
    underscored = "_" in stem and " " not in stem.strip()
    run = _name_run(re.split(r"[\s_]+", stem.strip()))
    if not run:
        return None, None
    # Title Case is any word with a small letter: "De'Andre Choi-Patel", "Anne-Marie McDonald" (each word's tail
    # lower case missed them, and the given name became part of the surname, round 18)
    title_case = any(not token.isupper() for token in run)
    if title_case and len(run) >= 2:
        return " ".join(run[1:]).upper(), run[0].upper()
    if underscored and len(run) >= 2:
        return " ".join(run[:-1]).upper(), run[-1].upper()
    return " ".join(run).upper(), None


def hints_from_file_name(file_name: str | None) -> FileNameHints:
    if not file_name:
        return FileNameHints()
    stem = _stem(file_name)
    letter = find_letter_type(stem.replace("_", " "))
    notice_date: date | None = None
    dated = _DATED.search(stem)
    if dated:
        try:
            notice_date = date(int(dated.group(3)), int(dated.group(1)), int(dated.group(2)))
        except ValueError:
            notice_date = None
    last_name, first_name = names_from_file_name(stem, stem[dated.end() :] if dated else None)
    tax_year = _TAX_YEAR.search(stem)
    return FileNameHints(
        letter_type=letter.value if letter else None,
        notice_date=notice_date,
        last_name=last_name,
        first_name=first_name,
        tax_year=int(tax_year.group(1)) if tax_year else None,
    )


def _explains(hints: FileNameHints, values: dict[str, Any], fields: dict[str, FieldProvenance]) -> bool:
    """The clerk's surname is a better reading of the page's unsure one: OCR garbled a letter or lost a part ("BRIS"
    for O'BRIEN, "SANTOS" for DOS SANTOS, "VAN DER BERG-ZITELINSKI"), and the clerk, who read the paper, named the
    same first name. Seed 9191 (generated this round to find classes): 4 true matches lost this way (NO_MATCH, or
    AMBIGUOUS where a compound surname must agree in full). A confident page read is never replaced."""
    page, hinted = str(values["taxpayer_last_name"]), hints.last_name or ""
    read = fields.get("taxpayer_last_name")
    if not hinted or read is None or read.confidence >= UNSURE_OCR_NAME_BELOW:
        return False
    if name_letters(page) == name_letters(hinted):
        return False
    first = values.get("taxpayer_first_name")
    if hints.first_name is not None and (first is None or name_letters(str(first)) != name_letters(hints.first_name)):
        return False
    parts = {name_letters(part) for part in re.split(r"[\s-]+", hinted)}
    return name_letters(page) in parts or fuzz.ratio(name_letters(page), name_letters(hinted)) >= _RESEMBLES


def apply_file_name_hints(values: dict[str, Any], fields: dict[str, FieldProvenance], file_name: str | None) -> None:
    """File-name hints fill what the page did not give. They replace a page read only for an unsure surname the
    clerk's spelling explains (``_explains``), at the hint's own low confidence, so a person reviews the match; a
    confident page read is never replaced (the page is about this letter and the name is a clerk's guess). A surname
    that differs and explains nothing is kept aside as the clerk's (``Notice.clerk_last_name``), for the matcher."""
    hints = hints_from_file_name(file_name)
    hinted = {"letter_type": hints.letter_type, "notice_date": hints.notice_date,
              "taxpayer_last_name": hints.last_name, "tax_year": hints.tax_year,
              "taxpayer_first_name": hints.first_name if hints.last_name else None}  # fmt: skip
    if "taxpayer_last_name" in values:
        hinted.pop("taxpayer_first_name")
        if _explains(hints, values, fields):
            values["taxpayer_last_name"] = hints.last_name
            fields["taxpayer_last_name"] = FieldProvenance(confidence=FILE_NAME_CONFIDENCE,
                                                           source=FieldSource.FILE_NAME)
        elif hints.last_name and name_letters(str(values["taxpayer_last_name"])) != name_letters(hints.last_name):
            # kept aside, not applied: the matcher may search it once if the page's surname finds no case
            values["clerk_last_name"], values["clerk_first_name"] = hints.last_name, hints.first_name
    _fill_missing(values, fields, hinted, FieldSource.FILE_NAME)


def _fill_missing(values: dict[str, Any], fields: dict[str, FieldProvenance], hinted: dict[str, Any],
                  source: FieldSource) -> None:  # fmt: skip
    """Each hinted value the letter lacks, at the hints' low confidence and with their source."""
    for field_name, value in hinted.items():
        if value is not None and field_name not in values:
            values[field_name] = value
            fields[field_name] = FieldProvenance(confidence=FILE_NAME_CONFIDENCE, source=source)


# A fax cover's "Re: IRS letter - DE LA ROSA", a scan sheet's "Client: LEWIS, MARK": the sender names the client whose
# letter follows, as a clerk names a file. Three letters of the four development seeds had lost the name on every
# page and carried such a cover (round 17, tuned).
_COVER_NAME = re.compile(r"^\s*(?:re|regarding|client)\s*[:;]\s*(?:irs\s+(?:letter|notice)\b\s*[-\u2013\u2014:]*\s*)?"
                         r"(.*\S)\s*$", re.I | re.M)


def cover_sheet_names(text: str) -> FileNameHints | None:
    """The client a cover sheet's "Re:" or "Client:" line names (read as a file name is), or None."""
    for line in _COVER_NAME.finditer(text):
        hints = hints_from_file_name(f"{line.group(1)}.pdf")
        if hints.last_name:
            return hints
    return None


def apply_cover_sheet_names(values: dict[str, Any], fields: dict[str, FieldProvenance], cover_text: str) -> None:
    """A surname (and first name) neither the pages nor the file name gave, from the cover sheet filed before the
    letter: only filled, never replacing a read, and unsure (``FILE_NAME_CONFIDENCE``), so a person reviews the
    match. The cover's sender, like a clerk, read the paper; the SSN's last 4 must still agree in the CRM."""
    hints = cover_sheet_names(cover_text) if cover_text and "taxpayer_last_name" not in values else None
    if hints is None:
        return
    named = {"taxpayer_last_name": hints.last_name, "taxpayer_first_name": hints.first_name}
    _fill_missing(values, fields, named, FieldSource.COVER_SHEET)
