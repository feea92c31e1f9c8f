"""What ``mailroom.intake`` passes around: a file's reading (``Extraction``), a notice left alone (``Skipped``), what
the first pass learnt about a notice (``Reading``) and a reviewer's decision ready to file (``Verdict``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from mailroom.drive import DriveFile
from mailroom.duplicates import Original
from mailroom.ledger import NoticeKey
from mailroom.matching import MatchResult
from mailroom.notices import LetterType, Notice
from mailroom.notices.filename_hints import hints_from_file_name
from mailroom.notices.model import RESPONSE_WINDOW_DAYS
from mailroom.outcomes import SkipReason
from mailroom.urgency import days_left

if TYPE_CHECKING:
    from mailroom.intake import Steps


class Extraction(BaseModel):
    """Either a notice or the specific reason the file cannot be read (a known outcome, not a step failure).

    ``notice`` is the file's first (usually only) letter; ``more_notices`` the letters after it when one PDF holds
    several, each with its page range (docs/extraction.md, "Several letters in one file").
    """

    notice: Notice | None = None
    more_notices: list[Notice] = Field(default_factory=list)
    failure: str | None = None
    message: str = ""


class Skipped(BaseModel):
    """A notice this run left alone, and why; the run that has it reports it."""

    file_id: str
    reason: SkipReason


class Reading(BaseModel):
    """What ``Intake.read`` learnt about a notice, held (with its downloaded file) until ``conclude`` files it.

    ``extraction`` is set when the text layer said it all (a typed notice); a scan is read (OCR) in ``conclude``.
    Holds names (in ``notice``): it stays in the run's memory, never in a Prefect result, log or report.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    file: DriveFile
    key: NoticeKey
    claimed: bool = False
    path: Path | None = None
    extraction: Extraction | None = None
    match: MatchResult | None = None
    original: Original | None = None  # a copy of this notice's bytes was claimed first: a duplicate, not downloaded
    set_aside: str | None = None  # UNMATCHED without a download (too large), and why
    failed_step: str | None = None  # a step failed for good while reading: the notice ends FAILED in conclude
    failure: str = ""
    discarded: bool = False  # its downloaded bytes are gone already

    def discard(self, steps: "Steps") -> None:
        if not self.discarded:
            steps.discard(self.file)
            self.discarded, self.path = True, None

    @property
    def needs_ocr(self) -> bool:
        """Filing it starts with reading its scanned pages (CPU-bound OCR), not with a Logiqs call."""
        return (self.extraction is None and self.path is not None and self.failed_step is None
                and self.original is None and self.set_aside is None)

    def estimated_due(self, today: date) -> date | None:
        """The response date to order by, before the notice is read in full: the one read from the text layer,
        else (a scan) the notice date and letter type its file name gives (staff name scans "CP504 DTD 11.26.2025
        ..."), a missing date taken as today and a missing type as OTHER (30 days). None: nothing to go by yet
        (a failed download), ordered last."""
        if self.failed_step is not None:
            return None
        notice = self.extraction.notice if self.extraction else None
        if notice is not None and notice.response_due_date is not None:
            return notice.response_due_date
        hints = hints_from_file_name(self.file.name)
        letter = notice.letter_type if notice else LetterType(hints.letter_type or LetterType.OTHER.value)
        dated = (notice.notice_date if notice else None) or hints.notice_date or today
        return dated + timedelta(days=RESPONSE_WINDOW_DAYS[LetterType(letter)])

    def days_left(self, today: date) -> int | None:
        return days_left(self.estimated_due(today), today)


class Verdict(BaseModel):
    """A reviewer's decision, ready to file: FILE on ``match.case_id`` (``notice`` as corrected) or REJECT."""

    file: bool  # False: reject to UNMATCHED
    match: MatchResult | None = None
    notice: Notice | None = None  # the reviewer's corrections applied (names, SSN last 4, response date)
    reviewer: str
    at: datetime
