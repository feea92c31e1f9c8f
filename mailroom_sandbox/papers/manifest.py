"""The papers corpus manifest: ground truth per file and per letter, and the CRM case book, as pydantic models.

``manifest.json`` sits beside the PDFs. Field values are what the letter prints: names in upper case as printed,
last name = the whole surname with particles and hyphens but without a suffix (JR, SR, III), dates as ISO dates,
``amount_due`` a decimal string ("1234.50"). ``None`` means the letter prints no such value (a CP2501 has no amount
due, a CP504 may say "immediately" instead of a date, collection letters have no AUR control number, a
"JOHN SMITH & SPOUSE" line names no spouse), so a reader is right to abstain there.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

FIELD_NAMES = ("letter_type", "tax_year", "notice_date", "response_due_date", "taxpayer_first_name",
               "taxpayer_last_name", "spouse_first_name", "spouse_last_name", "ssn_last4", "aur_control_number",
               "amount_due")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpectedFields(_Model):
    letter_type: str
    tax_year: int
    notice_date: date
    response_due_date: date | None
    taxpayer_first_name: str
    taxpayer_last_name: str
    spouse_first_name: str | None
    spouse_last_name: str | None
    ssn_last4: str
    aur_control_number: str | None
    amount_due: str | None


class LetterEntry(_Model):
    index: int  # 0-based position of the letter in its file
    first_page: int  # 1-based, inclusive
    last_page: int
    expected: ExpectedFields
    expected_case_id: str | None  # None: the firm has no case for this taxpayer (the right case is absent)
    name_lines: list[str]  # the name lines of the address block, as printed
    hard_cases: list[str]  # tags for per-class tables: particle_surname, joint_two_lines, suffix, ...
    damages: list[str]  # damage kinds on this letter's pages, plus cover_page / two_letters for its file
    layout: dict[str, Any]


class DamageRecord(_Model):
    kind: str
    page: int | None  # 1-based page of the file; None for whole-file kinds (encoding, cover, two letters)
    params: dict[str, Any]


class CoverInfo(_Model):
    kind: Literal["fax", "scan_sheet"]
    mentions_client: bool  # the sender wrote the client's name on the cover


class FileNameHint(_Model):
    last_name: str | None  # as the clerk wrote it in the file name (may differ from print: OBRIEN for O'BRIEN)
    first_name: str | None
    style: str


class FileEntry(_Model):
    file_name: str  # Drive-style name; also the file's name in the corpus directory
    kind: Literal["typed", "scanned"]
    page_count: int
    dpi: int | None
    damages: list[str]
    damage_details: list[DamageRecord]
    cover: CoverInfo | None
    file_name_hint: FileNameHint
    letters: list[LetterEntry]


class Case(_Model):
    case_id: str
    first_name: str
    last_name: str
    ssn_last4: str
    status: Literal["active", "closed"]
    spouse_first_name: str | None = None
    spouse_last_name: str | None = None
    role: str  # client | near_spelling | part_of_compound | same_last4 | namesake | background (for analysis only)
    name_form: str = "upper"  # how the CRM spells the name: upper | title | punctuation_dropped


class Manifest(_Model):
    corpus: Literal["papers"] = "papers"
    schema_version: int = 1
    seed: int
    held_out: bool
    typed_count: int
    scanned_count: int
    files: list[FileEntry]
    cases: list[Case]

    def letters(self) -> list[tuple[FileEntry, LetterEntry]]:
        return [(file, letter) for file in self.files for letter in file.letters]


def load_manifest(path: str | Path) -> Manifest:
    """Reads ``manifest.json`` (or the manifest inside a corpus directory) into models."""
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.json"
    return Manifest.model_validate_json(path.read_text(encoding="utf-8"))


def write_manifest(manifest: Manifest, path: Path) -> None:
    path.write_text(manifest.model_dump_json(indent=1) + "\n", encoding="utf-8")
