"""The typed result of reading one IRS notice and the limits on reading it (the errors live in mailroom.errors).

Everything here is safe to log and to put in a report: the model has no field that could hold a full SSN, and
error messages carry the failure kind and counts only, never document text.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

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
    DERIVED = "derived"  # computed from other fields (response_due_date from notice_date + window)


class FieldProvenance(BaseModel):
    model_config = ConfigDict(frozen=True)

    confidence: float = Field(ge=0.0, le=1.0)
    source: FieldSource


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
    aur_control_number: str | None = None
    amount_due: Decimal | None = None
    page_count: int = 0
    ocr_pages: int = 0
    fields: dict[str, FieldProvenance] = Field(default_factory=dict)

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
    ocr_dpi: int = 200  # minimum render resolution; finer scans are read at their own resolution
    ocr_max_dpi: int = 400  # a 600-dpi scan is read at 400: no accuracy gain beyond, 2.25x the pixels
    ocr_page_segmentation: int = 6  # Tesseract --psm; 6 (one uniform block) beat 3 and 4 on accuracy and speed
    ocr_max_pages: int = 8  # OCR is ~1-2 s/page; fields live on the first pages
    max_page_pixels: int = 40_000_000  # refuse to render absurd page sizes (memory)
    memory_limit_mb: int = 1024  # enforced when isolate=True (RLIMIT_AS of the worker process)
    isolate: bool = False  # run in a child process that is killed at the time budget (hard bound on hangs)
    isolation_grace_seconds: float = 3.0  # child interpreter start-up, on top of time_budget_seconds
