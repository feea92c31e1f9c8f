"""The typed result of reading one IRS notice and the limits on reading it (the errors live in mailroom.errors).

Everything here is safe to log and to put in a report: the model has no field that could hold a full SSN, and
error messages carry the failure kind and counts only, never document text.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

# Re-exported: the errors live with every other error in mailroom.errors.
from mailroom.errors import ExtractionError, ExtractionFailure  # noqa: F401


class LetterType(str, Enum):
    CP2000 = "CP2000"
    CP2501 = "CP2501"
    CP3219A = "CP3219A"
    CP504 = "CP504"
    LT11 = "LT11"
    OTHER = "OTHER"


# Days from the notice date a taxpayer has to respond when the notice itself does not print a date we can read.
# CP2000/CP2501/LT11: 30 days (printed on the notices); CP3219A: 90 days to petition the Tax Court (IRC 6213(a));
# CP504: the IRS asks for payment within 10 days of the notice; OTHER: the conservative 30 days.
RESPONSE_WINDOW_DAYS: dict[LetterType, int] = {
    LetterType.CP2000: 30,
    LetterType.CP2501: 30,
    LetterType.CP3219A: 90,
    LetterType.CP504: 10,
    LetterType.LT11: 30,
    LetterType.OTHER: 30,
}


class FieldSource(str, Enum):
    TEXT_LAYER = "text_layer"
    OCR = "ocr"
    FILE_NAME = "file_name"
    COVER_SHEET = "cover_sheet"  # a fax cover's or scan sheet's "Re:"/"Client:" line (notices/filename_hints.py)
    DERIVED = "derived"  # computed from other fields (response_due_date from notice_date + window)


class FieldProvenance(BaseModel):
    model_config = ConfigDict(frozen=True)

    confidence: float = Field(ge=0.0, le=1.0)
    source: FieldSource


Last4 = Annotated[str, StringConstraints(pattern=r"^\d{4}$")]


def _name_lines_only(lines: list[str]) -> list[str]:
    return [re.sub(r"[^A-Za-z' &-]", "", line) for line in lines]


class PageMarks(BaseModel):
    """What one page of a letter in doubt shows of its taxpayer, from the bands already read (no OCR is spent on it):
    the last 4s printed on it and its name lines. Where every page shows the matched taxpayer's, the doubt is lifted
    (mailroom/pages_vouched.py)."""

    page: int = Field(ge=1)  # 1-based, in the file
    ssn_last4s: list[Last4] = Field(default_factory=list, max_length=8)
    name_lines: list[str] = Field(default_factory=list, max_length=12, repr=False)

    @field_validator("name_lines")
    @classmethod
    def _no_digits(cls, lines: list[str]) -> list[str]:
        return _name_lines_only(lines)


class Notice(BaseModel):
    """What mailroom knows about one notice. ``fields`` says where each non-empty field came from."""

    letter_type: LetterType = LetterType.OTHER
    tax_year: int | None = None
    notice_date: date | None = None
    response_due_date: date | None = None
    response_due_derived: bool = False
    taxpayer_first_name: str | None = None
    taxpayer_last_name: str | None = None
    spouse_first_name: str | None = None
    spouse_last_name: str | None = None
    ssn_last4: str | None = Field(default=None, pattern=r"^\d{4}$")
    # No last 4 read, but readings of one OCR garbled (notices/ssn.py ``last4_guesses``): never the notice's last 4,
    # only what the matcher may search the CRM with, beside the page's surname (mailroom/page_confirmation.py).
    ssn_last4_guesses: list[Last4] = Field(default_factory=list, max_length=3)
    # The last 4 as another place on the letter's pages printed it (a response form's scan line), when it differs
    # from ``ssn_last4``: one of the two reads is wrong, and the matcher searches with this one only when the other
    # finds no case (mailroom/page_confirmation.py).
    ssn_last4_elsewhere: str | None = Field(default=None, pattern=r"^\d{4}$")
    # No last 4 read, but another letter in the same file names the same taxpayer (whole surname, first name) and
    # prints one (notices/file_letters.py): never the notice's last 4, only one search the matcher makes beside the
    # page's surname, taking a case that holds it and whose name is on this page (mailroom/page_confirmation.py).
    ssn_last4_other_letter: str | None = Field(default=None, pattern=r"^\d{4}$")
    aur_control_number: str | None = None
    amount_due: Decimal | None = None
    page_count: int = 0  # pages of the whole file
    ocr_pages: int = 0  # pages of the file OCR'd (any band)
    fields: dict[str, FieldProvenance] = Field(default_factory=dict)
    # Where this letter sits in its file: part 0 is the first (or only) letter; pages are 1-based and inclusive.
    part: int = Field(default=0, ge=0)
    first_page: int = 1
    last_page: int | None = None
    # Why a page filed with this letter may belong to another letter (page numbers only, e.g. "page 3 has no
    # readable page label and shows nothing of this letter"), or None: such a letter is never filed without a person.
    pages_in_doubt: str | None = None
    # The address block's name line(s) as read (letters, spaces, ' - & only: no digit can get in), for the CRM check
    # of an uncertain name (mailroom.matching); when the page has no address block and gives no surname, its
    # name-like lines (notices/loose_names.py), else empty.
    name_evidence: list[str] = Field(default_factory=list, repr=False)
    # For a letter in doubt, what each of its pages shows of a taxpayer (notices/page_marks.py); empty when its pages
    # are not in doubt or one of them shows another letter's marks.
    page_marks: list[PageMarks] = Field(default_factory=list, repr=False)
    # The taxpayer as the file's name (a clerk's reading of the paper) gives them, where its surname differs from the
    # page's read and does not explain it (notices/filename_hints.py): never the notice's name, only a search the
    # matcher makes once when the page's unsure surname finds no case (page_confirmation.confirm_clerks_name).
    clerk_last_name: str | None = Field(default=None, repr=False)
    clerk_first_name: str | None = Field(default=None, repr=False)

    @field_validator("taxpayer_first_name", "taxpayer_last_name", "spouse_first_name", "spouse_last_name",
                     "clerk_last_name", "clerk_first_name")
    @classmethod
    def _name_without_digits(cls, name: str | None) -> str | None:
        """A name never holds a digit: whatever a parser took for one, no run of an SSN can leave in a name field."""
        if name is None:
            return None
        return re.sub(r"\s+", " ", re.sub(r"\d", "", name)).strip(" -") or None

    @field_validator("name_evidence")
    @classmethod
    def _no_digits(cls, lines: list[str]) -> list[str]:
        return _name_lines_only(lines)

    def confidence(self, field_name: str) -> float:
        provenance = self.fields.get(field_name)
        return provenance.confidence if provenance else 0.0

    @property
    def masked_ssn(self) -> str:
        return f"***-**-{self.ssn_last4}" if self.ssn_last4 else "***-**-????"


class ExtractionLimits(BaseModel):
    """Bounds on what one file may cost. Defaults fit IRS notices (2-10 pages) with a wide margin."""

    max_bytes: int = 20 * 1024 * 1024
    max_pages: int = 40  # a notice longer than this is not a notice: refuse instead of reading it
    time_budget_seconds: float = 60.0  # whole file, text layer + OCR
    ocr_dpi: int = 200  # render resolution for OCR (a 300-dpi scan is averaged down, which also melts fax speckle)
    ocr_max_dpi: int = 400  # upper bound on ocr_dpi (a page is never rendered finer than this)
    ocr_page_segmentation: int = 6  # Tesseract --psm; 6 (one uniform block) beat 3 and 4 on accuracy and speed
    ocr_despeckle: bool = True  # a 3x3 median filter on pages that show salt-and-pepper speckle
    ocr_max_pages: int = 8  # OCR is ~1-2 s/page; fields live on the first pages
    max_page_pixels: int = 40_000_000  # refuse to render absurd page sizes (memory)
    memory_limit_mb: int = 1024  # enforced when isolate=True (RLIMIT_AS of the worker process)
    isolate: bool = False  # run in a child process that is killed at the time budget (hard bound on hangs)
    isolation_grace_seconds: float = 3.0  # child interpreter start-up, on top of time_budget_seconds


DERIVED_DUE_CONFIDENCE = 0.7
# An OCR'd name below this came from an address block with a word OCR was unsure of (under 80 %); a clean OCR read is
# 0.837, a text layer's higher.
UNSURE_OCR_NAME_BELOW = 0.8


def derive_due_date(values: dict[str, Any], fields: dict[str, FieldProvenance]) -> None:
    """``response_due_date = notice_date + window`` when the notice prints no due date (confidence 0.7 x the date's)."""
    if "response_due_date" in values or "notice_date" not in values:
        return
    window = RESPONSE_WINDOW_DAYS[values.get("letter_type", LetterType.OTHER)]
    values["response_due_date"] = values["notice_date"] + timedelta(days=window)
    values["response_due_derived"] = True
    base = fields["notice_date"].confidence
    confidence = round(min(base * DERIVED_DUE_CONFIDENCE, 1.0), 3)
    fields["response_due_date"] = FieldProvenance(confidence=confidence, source=FieldSource.DERIVED)


# The longest time an IRS letter gives to answer: 150 days to petition the Tax Court when the notice is addressed
# outside the United States (IRC 6213(a)); 90 days at home, 30 to 37 days on the other letters.
LONGEST_RESPONSE_DAYS = 150


def drop_impossible_dates(values: dict[str, Any], fields: dict[str, FieldProvenance]) -> None:
    """Notice and response dates that contradict each other (the response date on or before the notice date, or
    more than LONGEST_RESPONSE_DAYS after it): one of them was misread (a year's digit, another date of the page).
    A notice date less sure than the response date (a header's unlabelled date) is dropped; otherwise both are,
    since either may be the wrong one. The notice date goes either way, so no deadline is derived from dates that
    disagree, and a notice left without one waits for a person (review.py)."""
    notice_date, due_date = values.get("notice_date"), values.get("response_due_date")
    if notice_date is None or due_date is None or 0 < (due_date - notice_date).days <= LONGEST_RESPONSE_DAYS:
        return
    dropped = ["notice_date"]
    if fields["notice_date"].confidence >= fields["response_due_date"].confidence:
        dropped.append("response_due_date")
    for name in dropped:
        del values[name], fields[name]
