"""The ground truth of a synthetic notice corpus: pydantic models written to ``manifest.json``.

Consumers (extraction accuracy tests, matching tests, the sandbox stack, benchmarks) read only these models.
Names are stored in proper case without middle initials or suffixes; compare them case-insensitively.
A full SSN appears only on ``CaseRecord.ssn`` (the sandbox seed data for the Logiqs emulator), never on a notice
entry, and it is excluded from every ``repr``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from mailroom.crm import CaseCandidate
from mailroom_sandbox.logiqs.store import Last4OfFullSsn

MANIFEST_NAME = "manifest.json"
DEFAULT_FOLDER_PATTERNS = ("CP2000", "CP 2000")

LETTER_TYPES = ("CP2000", "CP2501", "CP3219A", "CP504", "LT11")

# Days from the notice date the taxpayer has to respond, used for notices that print no due date
# (the manifest then carries notice_date + window with response_due_derived=True). Same values as
# mailroom.notices.model.RESPONSE_WINDOW_DAYS: CP3219A 90 days to petition the Tax Court, CP504 10 days to pay.
RESPONSE_WINDOW_DAYS: dict[str, int] = {"CP2000": 30, "CP2501": 30, "CP3219A": 90, "CP504": 10, "LT11": 30}

# Letters produced by the Automated Underreporter program carry an AUR control number (e.g. 87139-0114).
AUR_LETTERS = frozenset({"CP2000", "CP2501", "CP3219A"})


class FileKind(str, Enum):
    TYPED = "typed"  # text-layer PDF
    SCANNED = "scanned"  # image-only PDF, needs OCR
    BAD = "bad"  # unreadable on purpose (empty, truncated, encrypted, not a PDF, 300 pages)


class Outcome(str, Enum):
    MATCHED = "MATCHED"
    UNMATCHED = "UNMATCHED"


class Reason(str, Enum):
    """Why a file ends where it ends. Bad files use ``bad_file:<failure>`` (see ``BadFileReason``)."""

    MATCHED = "matched"
    NO_CASE = "no_case"  # the taxpayer has no case in the CRM
    AMBIGUOUS = "ambiguous"  # two active cases with the same last name and last 4 (same first name too)
    INACTIVE_ONLY = "inactive_only"  # the taxpayer's only case is closed
    INSUFFICIENT_DATA = "insufficient_data"  # the notice prints no taxpayer id number
    DUPLICATE = "duplicate"  # a copy of another file of the corpus (``CorpusFile.duplicate_of``): no new effects


class BadFileReason(str, Enum):
    """Lower-case twins of mailroom.notices.model.ExtractionFailure for the files made unreadable on purpose."""

    EMPTY = "empty"
    CORRUPT = "corrupt"  # truncated PDF
    ENCRYPTED = "encrypted"
    NOT_PDF = "not_pdf"
    TOO_MANY_PAGES = "too_many_pages"
    TOO_LARGE = "too_large"  # more bytes than a notice can have (hostile files only: 20 MiB)


DateStyle = Literal["long", "abbrev", "numeric"]  # October 14, 2025 / Oct. 14, 2025 / 10/14/2025
SsnDisplay = Literal["masked", "full", "absent"]


class Folder(BaseModel):
    key: str
    name: str
    parent_key: str | None  # None only for the input root
    path: str  # "/"-joined names below the root ("" for the root itself)

    def matches(self, patterns: tuple[str, ...] = DEFAULT_FOLDER_PATTERNS) -> bool:
        """Drive's ``name contains`` is case-insensitive; empty patterns select every folder."""
        if not patterns:
            return True
        return any(p.lower() in self.name.lower() for p in patterns)


class ExpectedNotice(BaseModel):
    """Every field the extractor should read, plus how it was printed (so tests can look for it)."""

    letter_type: str
    tax_year: int
    notice_date: date
    response_due_date: date
    response_due_derived: bool  # True: the notice prints no due date; the value is notice_date + window
    taxpayer_first_name: str
    taxpayer_last_name: str
    spouse_first_name: str | None = None
    spouse_last_name: str | None = None
    ssn_last4: str | None = Field(default=None, pattern=r"^\d{4}$")
    aur_control_number: str | None = None
    amount_due: Decimal | None = None
    page_count: int
    # presentation
    date_style: DateStyle
    ssn_display: SsnDisplay
    name_line: str  # the name line exactly as printed on page 1
    taxpayer_suffix: str | None = None  # "JR", "III" ... printed after the name, not part of last name


class ScanParams(BaseModel):
    mode: Literal["gray", "bw"] = "gray"  # grey-level JPEG, or black-and-white (1 bit, lossless) like most office scans
    dpi: int
    skew_degrees: float
    blur_radius: float
    noise: float  # standard deviation of the added grey-level noise (before blur and threshold)
    jpeg_quality: int  # gray mode only
    threshold: int = 160  # bw mode: grey levels above this become white


class CorpusFile(BaseModel):
    key: str  # stable id within the corpus ("n0001", "bad03")
    folder_key: str
    drive_name: str  # the name it has in Drive: may contain quotes, unicode, "../"
    local_path: str  # relative to the corpus root; always a safe name
    kind: FileKind
    size: int
    md5: str
    notice: ExpectedNotice | None  # None for bad files
    expected_outcome: Outcome
    expected_case_id: int | None
    expected_reason: str  # a Reason value, or "bad_file:<BadFileReason>"
    trouble: str | None = None  # what makes this one hard ("nickname", "joint", "nasty_name", ...)
    scan: ScanParams | None = None
    duplicate_of: str | None = None  # key of the file this one copies (same bytes, or the same letter rescanned)


class CaseRecord(Last4OfFullSsn, BaseModel):
    """One Logiqs case of the case book (seed data for the Logiqs emulator)."""

    case_id: int
    first_name: str
    last_name: str
    spouse_first_name: str | None = None
    spouse_last_name: str | None = None
    ssn: str = Field(repr=False, pattern=r"^\d{3}-\d{2}-\d{4}$")  # synthetic; sandbox seed data only
    spouse_ssn: str | None = Field(default=None, repr=False, pattern=r"^\d{3}-\d{2}-\d{4}$")
    status: str
    active: bool
    trouble: str | None = None

    def as_candidate(self) -> CaseCandidate:
        """The case as a CRM search returns it: last 4 digits only, never the full SSN."""
        return CaseCandidate(
            case_id=self.case_id, first_name=self.first_name, last_name=self.last_name,
            spouse_first_name=self.spouse_first_name, spouse_last_name=self.spouse_last_name,
            ssn_last4=self.ssn_last4, spouse_ssn_last4=self.spouse_ssn_last4, status=self.status, active=self.active,
        )


class Corpus(BaseModel):
    seed: int
    root: Path = Field(exclude=True, default=Path("."))  # where the files are; set on generate/load
    input_root_key: str
    folders: list[Folder]
    files: list[CorpusFile]
    cases: list[CaseRecord]
    generation_seconds: dict[str, float] = Field(default_factory=dict)

    def path(self, file: CorpusFile) -> Path:
        return self.root / file.local_path

    def folder(self, key: str) -> Folder:
        return next(f for f in self.folders if f.key == key)

    def file(self, key: str) -> CorpusFile:
        return next(f for f in self.files if f.key == key)

    def case(self, case_id: int) -> CaseRecord:
        return next(c for c in self.cases if c.case_id == case_id)

    def in_scope(self, patterns: tuple[str, ...] = DEFAULT_FOLDER_PATTERNS) -> list[CorpusFile]:
        """Files a run with these folder-name patterns would process (files directly in a matching folder)."""
        keys = {f.key for f in self.folders if f.matches(patterns)}
        return [f for f in self.files if f.folder_key in keys]

    def of_kind(self, kind: FileKind) -> list[CorpusFile]:
        return [f for f in self.files if f.kind is kind]

    def write(self) -> Path:
        target = self.root / MANIFEST_NAME
        target.write_text(self.model_dump_json(indent=1))
        return target

    @classmethod
    def load(cls, out_dir: Path) -> Corpus:
        corpus = cls.model_validate_json((Path(out_dir) / MANIFEST_NAME).read_text())
        corpus.root = Path(out_dir)
        return corpus
