"""A notice's whole fate, from its Drive file to MATCHED, UNMATCHED, PENDING_REVIEW or FAILED: the rules, no Prefect.

    intake = Intake(ledger, owner=run_id, matched_folder_id=..., unmatched_folder_id=..., review=ReviewPolicy(...))
    result = intake.process(drive_file, steps)         # a ReportRow, or Skipped when another run has the notice

    reading = intake.read(drive_file, steps)           # the same in two halves: a run claims, downloads and
    result = intake.conclude(reading, steps)           # glances at every notice first, then does the rest of each,
                                                       # most urgent first (``Reading.estimated_due``)

The rules live here; *how* each step runs (as a Prefect task run with retries, or in memory in a unit test) is the
``Steps`` implementation's business. In order:

1. Claim the notice in the ledger (file id + md5). Held by another live run, finished earlier, or waiting for a
   reviewer: skip it.
2. Download it and read its text layer if it has one (``read``: cheap, no OCR), enough to know how urgent it is.
3. (``conclude``) Read it fully (OCR for scans), find the case. An unreadable file is a known outcome: UNMATCHED
   with the reason. What the reader or matcher is unsure of (``mailroom.review.ReviewPolicy``: AMBIGUOUS,
   INSUFFICIENT_DATA, low confidence, no response date) is recorded PENDING_REVIEW: the file stays in its input
   folder and a review run asks a person. Anything else but one clear winner is UNMATCHED with the matcher's reason.
   MATCHED: upload the document, create the follow-up task, then move the file (``mailroom.effects`` keeps each
   effect exactly-once and refuses the MATCHED move until both are confirmed).
4. A step that still fails after its retries makes the notice FAILED: recorded in the ledger, the file left in its
   input folder for the next run. One notice never stops the others, so nothing escapes ``read``/``conclude``.

A review run files a reviewer's decision with ``file_decision`` (claiming only notices of its own review batch);
if filing fails there, the notice goes back to the review queue instead of FAILED, keeping its effects so far.
A dry run reads and matches but writes nothing, the ledger included (a claim would hold the notice from the real run).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Protocol

from pydantic import BaseModel, ConfigDict

from mailroom.drive import DriveFile
from mailroom.errors import LeaseLostError, MailroomError
from mailroom.ledger import ClaimResult, Ledger, NoticeKey
from mailroom.matching import MatchOutcome, MatchResult
from mailroom.notices import LetterType, Notice, document_name
from mailroom.notices.filename_hints import hints_from_file_name
from mailroom.notices.model import RESPONSE_WINDOW_DAYS
from mailroom.outcomes import Outcome, SkipReason
from mailroom.report import ReportRow
from mailroom.review import ReviewPolicy
from mailroom.urgency import days_left

logger = logging.getLogger(__name__)


class Extraction(BaseModel):
    """Either a notice or the specific reason the file cannot be read (a known outcome, not a step failure)."""

    notice: Notice | None = None
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
    failed_step: str | None = None  # a step failed for good while reading: the notice ends FAILED in conclude
    failure: str = ""
    discarded: bool = False  # its downloaded bytes are gone already

    def discard(self, steps: "Steps") -> None:
        if not self.discarded:
            steps.discard(self.file)
            self.discarded, self.path = True, None

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


class Steps(Protocol):
    """What the intake rules need done. Each raises only ``MailroomError`` for a failure worth reporting."""

    def download(self, file: DriveFile) -> Path: ...

    def discard(self, file: DriveFile) -> None:
        """Forget the downloaded bytes, whatever happened (they hold a full SSN)."""

    def extract(self, path: Path, file_name: str) -> Extraction: ...

    def read_text_layer(self, path: Path, file_name: str) -> Extraction | None:
        """The extraction from the text layer alone, or None when reading needs OCR (cheap: no page rendered)."""

    def match(self, notice: Notice) -> MatchResult: ...

    def upload(self, key: NoticeKey, case_id: int, path: Path, document_name: str) -> int: ...

    def create_task(
        self, key: NoticeKey, case_id: int, letter_type: str, notice_date: date | None, due_date: date
    ) -> int: ...

    def move(self, key: NoticeKey, outcome: Outcome, to_folder_id: str, reason: str) -> None: ...


class _Where:
    """The step being worked on, so a FAILED row says where the notice failed."""

    def __init__(self, step: str = "start") -> None:
        self.step = step

    def at(self, step: str) -> None:
        self.step = step


@dataclass(frozen=True)
class Intake:
    ledger: Ledger
    owner: str  # unique per run: the ledger lease holder
    matched_folder_id: str
    unmatched_folder_id: str
    lease_seconds: float = 900.0
    review: ReviewPolicy | None = None  # None: nothing waits for a person (UNMATCHED as before the review queue)
    review_id: str | None = None  # a review run: the batch whose PENDING_REVIEW notices it may claim
    today: date | None = None  # the firm's today, for days left in the report (None: not shown)

    def process(
        self, file: DriveFile, steps: Steps, *, dry_run: bool = False, log: Any = logger
    ) -> ReportRow | Skipped:
        """``log``: a logging.Logger or adapter (the flow passes Prefect's run logger, so lines land in the UI)."""
        reading = self.read(file, steps, dry_run=dry_run, log=log)
        return reading if isinstance(reading, Skipped) else self.conclude(reading, steps, dry_run=dry_run, log=log)

    def read(self, file: DriveFile, steps: Steps, *, dry_run: bool = False, log: Any = logger) -> Reading | Skipped:
        """Claim, download, and read the text layer (no OCR). Never raises for a notice problem: a failure is kept
        for ``conclude``."""
        key = NoticeKey(file_id=file.id, md5=file.md5 or "no-md5")
        if not dry_run and (skipped := self._claim(file, key, log)):
            return skipped
        reading = Reading(file=file, key=key, claimed=not dry_run)
        where = _Where()
        try:
            where.at("download")
            reading.path = steps.download(file)
            where.at("extract")
            reading.extraction = steps.read_text_layer(reading.path, file.name)
        except Exception as exc:  # noqa: BLE001 - MailroomError or a bug: either way this notice only
            reading.failed_step, reading.failure = where.step, _failure(exc, where.step, file.id, log)
            reading.discard(steps)
        return reading

    def complete(self, reading: Reading, steps: Steps, where: _Where | None = None) -> Reading:
        """Read the notice in full (OCR for a scan) and find its case, unless done already; raises a step's error."""
        where = where or _Where()
        if reading.extraction is None:
            assert reading.path is not None
            where.at("extract")
            reading.extraction = steps.extract(reading.path, reading.file.name)
        if reading.extraction.notice is not None and reading.match is None:
            where.at("match")
            reading.match = steps.match(reading.extraction.notice)
        return reading

    def conclude(self, reading: Reading, steps: Steps, *, dry_run: bool = False, log: Any = logger
                 ) -> ReportRow | Skipped:  # fmt: skip
        """File (or set aside) what ``read`` found; the lease is renewed first (the run may have read for long)."""
        file, key = reading.file, reading.key
        if reading.claimed and not self.ledger.extend(key, self.owner, self.lease_seconds):
            reading.discard(steps)
            log.warning("notice %s skipped: another run took over its lease while it waited to be filed", file.id)
            return Skipped(file_id=file.id, reason=SkipReason.LEASE_TAKEN_OVER)
        if reading.failed_step is not None:
            reading.discard(steps)
            values = dict(outcome=Outcome.FAILED, failed_step=reading.failed_step, reason=reading.failure)
            return self._row(file, key, values, dry_run, log)
        return self._guarded(file, key, lambda: reading.discard(steps), dry_run, log,
                             lambda where: self._decide(self.complete(reading, steps, where), steps, where, dry_run))

    def file_decision(self, file: DriveFile, steps: Steps, verdict: Verdict, *, log: Any = logger
                      ) -> ReportRow | Skipped:  # fmt: skip
        """A review run files a reviewer's decision through the same effects as the daily run."""
        key = NoticeKey(file_id=file.id, md5=file.md5 or "no-md5")
        if skipped := self._claim(file, key, log):
            return skipped
        stamp = dict(reviewed_by=verdict.reviewer, reviewed_at=verdict.at)
        return self._guarded(file, key, lambda: steps.discard(file), False, log,
                             lambda where: stamp | self._reviewed(file, key, verdict, steps, where))

    # -- the steps, in the order the business does them ------------------------------------------------------

    def _decide(self, reading: Reading, steps: Steps, where: _Where, dry_run: bool) -> dict[str, Any]:
        extraction, key = reading.extraction, reading.key
        assert extraction is not None
        if extraction.notice is None:
            reason = f"unreadable ({extraction.failure}): {extraction.message}"
            return self._unmatched(key, reason, steps, where, dry_run)
        notice, match = extraction.notice, reading.match
        assert match is not None
        fields = self._notice_fields(notice) | dict(match_score=match.score)
        why = self.review.reason_for(notice, match) if self.review is not None else None
        if why is not None:
            return fields | self._to_review(key, why, dry_run)
        if match.outcome is not MatchOutcome.MATCHED:
            return fields | self._unmatched(key, f"{match.outcome.value}: {match.reason}", steps, where, dry_run)
        if notice.response_due_date is None:  # no deadline means no follow-up task: a person must file it
            reason = f"case {match.case_id} matched but no response due date could be read"
            return fields | self._unmatched(key, reason, steps, where, dry_run)
        assert reading.path is not None
        return fields | self._matched(key, notice, match, reading.path, steps, where, dry_run)

    def _reviewed(self, file: DriveFile, key: NoticeKey, verdict: Verdict, steps: Steps, where: _Where
                  ) -> dict[str, Any]:  # fmt: skip
        if not verdict.file:
            return self._unmatched(key, f"REJECTED by reviewer {verdict.reviewer}", steps, where, False)
        assert verdict.match is not None and verdict.notice is not None
        where.at("download")
        path = steps.download(file)
        fields = self._notice_fields(verdict.notice)
        return fields | self._matched(key, verdict.notice, verdict.match, path, steps, where, False)

    def _matched(self, key: NoticeKey, notice: Notice, match: MatchResult, path: Path, steps: Steps, where: _Where,
                 dry_run: bool) -> dict[str, Any]:
        name = document_name(notice)
        result: dict[str, Any] = dict(outcome=Outcome.MATCHED, case_id=match.case_id, document_name=name,
                                      match_score=match.score, reason=match.reason)
        if dry_run:
            return result
        assert match.case_id is not None and notice.response_due_date is not None  # MATCHED carries both
        where.at("upload")
        result["document_id"] = steps.upload(key, match.case_id, path, name)
        where.at("create-task")
        result["task_id"] = steps.create_task(
            key, match.case_id, _letter_type(notice), notice.notice_date, notice.response_due_date
        )
        where.at("move")
        steps.move(key, Outcome.MATCHED, self.matched_folder_id, match.reason)
        return result

    def _unmatched(self, key: NoticeKey, reason: str, steps: Steps, where: _Where, dry_run: bool) -> dict[str, Any]:
        if not dry_run:
            where.at("move")
            steps.move(key, Outcome.UNMATCHED, self.unmatched_folder_id, reason)
        return dict(outcome=Outcome.UNMATCHED, reason=reason)

    def _to_review(self, key: NoticeKey, why: str, dry_run: bool) -> dict[str, Any]:
        """The file stays in its input folder; the ledger keeps the notice for a review run (no effect yet)."""
        if not dry_run:
            self.ledger.finish(key, self.owner, Outcome.PENDING_REVIEW, reason=why)
        return dict(outcome=Outcome.PENDING_REVIEW, reason=why)

    # -- bookkeeping ------------------------------------------------------------------------------------------

    def _claim(self, file: DriveFile, key: NoticeKey, log: Any) -> Skipped | None:
        claim = self.ledger.claim(key, self.owner, self.lease_seconds, file_name=file.name, review_id=self.review_id)
        if claim:
            return None
        log.info("notice %s skipped: %s in the ledger", file.id, claim.value)
        return Skipped(file_id=file.id, reason=_SKIPS[claim])

    def _guarded(self, file: DriveFile, key: NoticeKey, discard: Callable[[], None], dry_run: bool, log: Any,
                 work: Callable[[_Where], dict[str, Any]]) -> ReportRow | Skipped:
        where = _Where()
        try:
            values = work(where)
        except LeaseLostError:  # we stalled past the lease and another run took the notice over: it is theirs now
            log.warning("notice %s skipped: another run took over its lease during step %s", file.id, where.step)
            return Skipped(file_id=file.id, reason=SkipReason.LEASE_TAKEN_OVER)
        except Exception as exc:  # noqa: BLE001 - MailroomError or a bug: either way this notice only
            values = dict(outcome=Outcome.FAILED, failed_step=where.step,
                          reason=_failure(exc, where.step, file.id, log))
        finally:
            discard()
        return self._row(file, key, values, dry_run, log)

    def _row(self, file: DriveFile, key: NoticeKey, values: dict[str, Any], dry_run: bool, log: Any) -> ReportRow:
        row = ReportRow(file_id=file.id, file_name=file.name, dry_run=dry_run, **values)
        if row.outcome is Outcome.FAILED and not dry_run:
            self._record_failed(key, row.reason, log)
        (log.warning if row.outcome is Outcome.FAILED else log.info)(
            "notice %s -> %s%s", file.id, row.outcome.value, f" (case {row.case_id})" if row.case_id else ""
        )
        return row

    def _record_failed(self, key: NoticeKey, reason: str, log: Any) -> None:
        """FAILED is final for this run only: the file stays in its input folder and the next run claims it again.

        In a review run the notice goes back to the review queue instead (the reviewer's decision is not lost in a
        daily run's re-read); the effects confirmed so far stay recorded, so a later filing does not repeat them.
        """
        outcome, reason = ((Outcome.PENDING_REVIEW, f"filing after review failed at {reason}")
                           if self.review_id else (Outcome.FAILED, reason))
        try:
            self.ledger.finish(key, self.owner, outcome, reason=reason)
        except MailroomError as exc:  # e.g. the lease was lost: the other run owns the notice's state now
            log.warning("notice %s: could not record %s in the ledger (%s)", key.file_id, outcome.value, exc.reason)

    def _notice_fields(self, notice: Notice) -> dict[str, Any]:
        return dict(
            letter_type=_letter_type(notice),
            tax_year=notice.tax_year,
            notice_date=notice.notice_date,
            response_due_date=notice.response_due_date,
            days_left=days_left(notice.response_due_date, self.today) if self.today else None,
            ssn=notice.masked_ssn if notice.ssn_last4 else None,
        )


_SKIPS = {
    ClaimResult.BUSY: SkipReason.HELD_BY_ANOTHER_RUN,
    ClaimResult.FINISHED: SkipReason.FINISHED_EARLIER,
    ClaimResult.IN_REVIEW: SkipReason.WAITING_FOR_REVIEW,
    ClaimResult.OTHER_REVIEW: SkipReason.MOVED_TO_ANOTHER_REVIEW,
}


def _failure(exc: Exception, step: str, file_id: str, log: Any) -> str:
    """The FAILED row's reason: the error's log-safe message; a bug's traceback goes to the run log instead."""
    if isinstance(exc, MailroomError):
        return f"{step}: {exc}"
    log.exception("notice %s: unexpected error in step %s", file_id, step)
    return f"{step}: unexpected {type(exc).__name__}"


def _letter_type(notice: Notice) -> str:
    return getattr(notice.letter_type, "value", notice.letter_type)
