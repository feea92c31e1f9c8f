"""A notice's whole fate, from its Drive file to MATCHED, UNMATCHED, PENDING_REVIEW or FAILED: the rules, no Prefect.

    intake = Intake(ledger, owner=run_id, matched_folder_id=..., unmatched_folder_id=..., review=ReviewPolicy(...))
    result = intake.process(drive_file, steps)         # a ReportRow, or Skipped when another run has the notice

    reading = intake.read(drive_file, steps)           # the same in two halves: a run claims, downloads and
    result = intake.conclude(reading, steps)           # glances at every notice first, then does the rest of each,
                                                       # most urgent first (``Reading.estimated_due``)

The rules live here; *how* each step runs (as a Prefect task run with retries, or in memory in a unit test) is the
``Steps`` implementation's business. In order:

1. Claim the notice in the ledger (file id + md5, for this run's Drive). Held by another live run, finished
   earlier, or waiting for a reviewer: skip it.
2. (``read``) A copy of a notice already claimed (same md5) is a duplicate; so is a file Drive says is too large to
   be a notice (unreadable, TOO_LARGE). Neither is downloaded. Else download it and read its text layer if it has one
   (cheap, no OCR), enough to know how urgent it is.
3. (``conclude``) Read it fully (OCR for scans). An unreadable file is a known outcome: UNMATCHED with the specific
   reason. The same letter scanned twice (same letter type, notice date, SSN last 4, AUR number) is a duplicate.
   A file holding several letters files each letter on its own (``mailroom.intake_letters``; no review for those).
4. Find the case. What the reader or matcher is unsure of (``mailroom.review.ReviewPolicy``: AMBIGUOUS,
   INSUFFICIENT_DATA, low confidence, no response date) is recorded PENDING_REVIEW: the file stays in its input
   folder and a review run asks a person. Anything else but one clear winner is UNMATCHED with the matcher's
   reason; so is a match whose response due date could not be read (review off); so is a letter whose document
   name is already on the case (filed by hand or by another system): a duplicate.
5. MATCHED: fit the document under the Logiqs upload limit (an oversize scan is recompressed; one that cannot be
   fitted is UNMATCHED with the reason, never FAILED for ever), upload it, create the follow-up task, then move the
   file (``mailroom.effects`` keeps each effect exactly-once and refuses the MATCHED move until both are confirmed).
6. A step that still fails after its retries makes the notice FAILED: recorded in the ledger, the file left in its
   input folder for the next run. One notice never stops the others, so nothing escapes ``read``/``conclude``.

A duplicate ends UNMATCHED with "duplicate of <the original>", before any effect: one letter never gets two
documents or two follow-up tasks (``mailroom.duplicates``). A review run files a reviewer's decision with
``file_decision`` (claiming only notices of its own review batch); if filing fails there, the notice goes back to
the review queue instead of FAILED, keeping its effects so far. A dry run reads and matches but writes nothing, the
ledger included (a claim would hold the notice from the real run), so it does not look for duplicates either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable, Protocol

from mailroom.drive import DriveFile
from mailroom.duplicates import IdentityKind, Original, content_identity, letter_identity
from mailroom.errors import LeaseLostError, MailroomError
from mailroom.fitting import Fitting
from mailroom.intake_letters import several_letters
from mailroom.intake_models import Extraction, Reading, Skipped, Verdict
from mailroom.ledger import ClaimResult, Ledger, NoticeKey
from mailroom.matching import MatchOutcome, MatchResult, as_confirmed
from mailroom.notices import Notice, document_name
from mailroom.outcomes import Outcome, SkipReason
from mailroom.report import ReportRow
from mailroom.review import ReviewPolicy
from mailroom.urgency import days_left

__all__ = ["Extraction", "Intake", "Reading", "Skipped", "Steps", "Verdict"]  # the models live in intake_models

logger = logging.getLogger(__name__)


class Steps(Protocol):
    """What the intake rules need done. Each raises only ``MailroomError`` for a failure worth reporting."""

    def download(self, file: DriveFile) -> Path: ...

    def discard(self, file: DriveFile) -> None:
        """Forget the downloaded bytes, whatever happened (they hold a full SSN)."""

    def extract(self, path: Path, file_name: str) -> Extraction: ...

    def read_text_layer(self, path: Path, file_name: str) -> Extraction | None:
        """The extraction from the text layer alone, or None when reading needs OCR (cheap: no page rendered)."""

    def match(self, notice: Notice) -> MatchResult: ...

    def fit(self, path: Path) -> Fitting:
        """The document to upload: ``path`` when within the Logiqs limit, a recompressed copy, or why neither.
        Same input, same bytes (a retried upload must send what the first attempt sent)."""

    def upload(self, key: NoticeKey, case_id: int, path: Path, document_name: str) -> int: ...

    def create_task(
        self, key: NoticeKey, case_id: int, letter_type: str, notice_date: date | None, due_date: date
    ) -> int: ...

    def move(self, key: NoticeKey, outcome: Outcome, to_folder_id: str, reason: str) -> None: ...

    def filed_copy(self, key: NoticeKey, case_id: int, document_name: str) -> int | None:
        """The id of a document of this name already on the case that is not this notice's own, or None."""


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
    max_bytes: int | None = None  # a file Drive says is larger is not downloaded: UNMATCHED, unreadable (TOO_LARGE)
    drive: str | None = None  # the run's DriveBinding token: ledger rows of another Drive are never read as done
    check_case_documents: bool = True  # look for the document name on the case before filing (one Logiqs read)

    def process(
        self, file: DriveFile, steps: Steps, *, dry_run: bool = False, log: Any = logger
    ) -> ReportRow | Skipped:
        """``log``: a logging.Logger or adapter (the flow passes Prefect's run logger, so lines land in the UI)."""
        reading = self.read(file, steps, dry_run=dry_run, log=log)
        return reading if isinstance(reading, Skipped) else self.conclude(reading, steps, dry_run=dry_run, log=log)

    def read(self, file: DriveFile, steps: Steps, *, dry_run: bool = False, log: Any = logger) -> Reading | Skipped:
        """Claim, download, read the text layer (no OCR) and, for a typed single letter, find its case. Never raises
        for a notice problem: a failure is kept for ``conclude``."""
        key = NoticeKey(file_id=file.id, md5=file.md5 or "no-md5")
        if not dry_run and (skipped := self._claim(file, key, log)):
            return skipped
        reading = Reading(file=file, key=key, claimed=not dry_run)
        where = _Where()
        try:
            where.at("duplicates")
            reading.original = self._claim_identity(key, file, IdentityKind.CONTENT, content_identity(file.md5),
                                                    dry_run)
            if reading.original is not None:
                return reading
            if self.max_bytes is not None and (file.size or 0) > self.max_bytes:  # anyone can drop a 5 GB "PDF"
                reading.set_aside = (f"unreadable (TOO_LARGE): file is {file.size} bytes, over the {self.max_bytes}"
                                     "-byte limit (not downloaded)")
                return reading
            where.at("download")
            reading.path = steps.download(file)
            where.at("extract")
            reading.extraction = steps.read_text_layer(reading.path, file.name)
            if _one_letter(reading.extraction):
                # Finding the case only reads Logiqs: done while the run still reads Drive, the two services'
                # waits overlap instead of following each other (filing still waits for its turn by urgency).
                where.at("match")
                reading.match = steps.match(reading.extraction.notice)
        except Exception as exc:  # noqa: BLE001 - MailroomError or a bug: either way this notice only
            reading.failed_step, reading.failure = where.step, _failure(exc, where.step, file.id, log)
            reading.discard(steps)
        return reading

    def complete(self, reading: Reading, steps: Steps, where: _Where | None = None, *, match: bool = True) -> Reading:
        """Read the notice in full (OCR for a scan) and (``match``) find its case, unless done already; raises a
        step's error."""
        where = where or _Where()
        if reading.extraction is None:
            assert reading.path is not None
            where.at("extract")
            reading.extraction = steps.extract(reading.path, reading.file.name)
        if match and reading.extraction.notice is not None and reading.match is None:
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
                             lambda where: self._decide(reading, steps, where, dry_run))

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
        file, key = reading.file, reading.key
        if reading.original is not None:
            return self._duplicate(key, file, reading.original, steps, where, dry_run)
        if reading.set_aside is not None:
            return self._unmatched(key, reading.set_aside, steps, where, dry_run)
        extraction = self.complete(reading, steps, where, match=False).extraction
        assert extraction is not None
        if extraction.notice is None:
            reason = f"unreadable ({extraction.failure}): {extraction.message}"
            return self._unmatched(key, reason, steps, where, dry_run)
        notice = extraction.notice
        assert reading.path is not None
        if extraction.more_notices:
            return self._notice_fields(notice) | several_letters(
                self, key, [notice, *extraction.more_notices], reading.path, steps, where, dry_run)
        fields = self._notice_fields(notice)
        where.at("duplicates")
        original = self._claim_identity(key, file, IdentityKind.LETTER, letter_identity(notice), dry_run)
        if original is not None:
            return fields | self._duplicate(key, file, original, steps, where, dry_run)
        match = self.complete(reading, steps, where).match
        assert match is not None
        fields["match_score"] = match.score
        why = self.review.reason_for(notice, match) if self.review is not None else None
        if why is not None:
            return fields | self._to_review(key, why, dry_run)
        notice = as_confirmed(notice, match)
        if match.outcome is not MatchOutcome.MATCHED:
            return fields | self._unmatched(key, f"{match.outcome.value}: {match.reason}", steps, where, dry_run)
        if notice.response_due_date is None:  # no deadline means no follow-up task: a person must file it
            reason = f"case {match.case_id} matched but no response due date could be read"
            return fields | self._unmatched(key, reason, steps, where, dry_run)
        return fields | self._matched(key, file, notice, match, reading.path, steps, where, dry_run)

    def _reviewed(self, file: DriveFile, key: NoticeKey, verdict: Verdict, steps: Steps, where: _Where
                  ) -> dict[str, Any]:  # fmt: skip
        if not verdict.file:
            return self._unmatched(key, f"REJECTED by reviewer {verdict.reviewer}", steps, where, False)
        assert verdict.match is not None and verdict.notice is not None
        where.at("download")
        path = steps.download(file)
        fields = self._notice_fields(verdict.notice)
        return fields | self._matched(key, file, verdict.notice, verdict.match, path, steps, where, False)

    def _matched(self, key: NoticeKey, file: DriveFile, notice: Notice, match: MatchResult, path: Path, steps: Steps,
                 where: _Where, dry_run: bool) -> dict[str, Any]:
        name = document_name(notice)
        result: dict[str, Any] = dict(outcome=Outcome.MATCHED, case_id=match.case_id, document_name=name,
                                      match_score=match.score, reason=match.reason)
        assert match.case_id is not None and notice.response_due_date is not None  # MATCHED carries both
        record = None if dry_run else self.ledger.get(key)
        resuming = record is not None and (record.document_attempts > 0 or record.document_id is not None)
        if self.check_case_documents and not dry_run and not resuming:  # a filing begun is finished, never re-judged
            where.at("duplicates")
            document_id = steps.filed_copy(key, match.case_id, name)
            if document_id is not None:
                original = Original(case_id=match.case_id, document_id=document_id)
                return dict(case_id=match.case_id, match_score=match.score) | self._duplicate(
                    key, file, original, steps, where, dry_run)
        if dry_run or self._document_not_filed(key):  # a document already filed is never fitted again
            where.at("fit")
            fitting = steps.fit(path)  # a dry run fits too: it shows what the real run would do
            if not fitting.fits:  # a known outcome: a person files it by hand, and no run tries it again
                reason = f"case {match.case_id} matched but the document cannot be filed: {fitting.failure}"
                return self._unmatched(key, reason, steps, where, dry_run)
            path = fitting.path or path
        if dry_run:
            return result
        where.at("upload")
        result["document_id"] = steps.upload(key, match.case_id, path, name)
        where.at("create-task")
        result["task_id"] = steps.create_task(
            key, match.case_id, _letter_type(notice), notice.notice_date, notice.response_due_date
        )
        where.at("move")
        steps.move(key, Outcome.MATCHED, self.matched_folder_id, match.reason)
        return result

    def _document_not_filed(self, key: NoticeKey) -> bool:
        record = self.ledger.get(key)
        return record is None or record.document_id is None

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

    def _claim_identity(self, key: NoticeKey, file: DriveFile, kind: IdentityKind, value: str | None,
               dry_run: bool) -> Original | None:
        """Claim one identity of this notice; the notice that already holds it (this one's original), or None."""
        if value is None or dry_run:
            return None
        holder = self.ledger.claim_identity(key, kind.value, value, drive=self.drive or "", file_name=file.name)
        return None if holder is None else Original(file_id=holder.key.file_id, file_name=holder.file_name)

    def _duplicate(self, key: NoticeKey, file: DriveFile, original: Original, steps: Steps, where: _Where,
                   dry_run: bool) -> dict[str, Any]:
        reason = original.reason if original.file_id != file.id else \
            "duplicate of an earlier version of this file (same letter): no new document or task"
        return dict(duplicate_of=original.ref) | self._unmatched(key, reason, steps, where, dry_run)

    # -- bookkeeping ------------------------------------------------------------------------------------------

    def _claim(self, file: DriveFile, key: NoticeKey, log: Any) -> Skipped | None:
        claim = self.ledger.claim(key, self.owner, self.lease_seconds, file_name=file.name,
                                  review_id=self.review_id, drive=self.drive)
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


def _one_letter(extraction: Extraction | None) -> bool:
    return extraction is not None and extraction.notice is not None and not extraction.more_notices


def _letter_type(notice: Notice) -> str:
    return getattr(notice.letter_type, "value", notice.letter_type)
