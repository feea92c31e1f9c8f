"""A notice's whole fate, from its Drive file to MATCHED, UNMATCHED or FAILED: the rules, with no Prefect in sight.

    intake = Intake(ledger, owner=run_id, matched_folder_id=..., unmatched_folder_id=...)
    result = intake.process(drive_file, steps)        # a ReportRow, or Skipped when another run has the notice

The rules live here; *how* each step runs (as a Prefect task run with retries, or in memory in a unit test) is the
``Steps`` implementation's business. In order:

1. Claim the notice in the ledger (file id + md5, for this run's Drive). Held by another live run, or finished
   earlier: skip it.
2. A copy of a notice already claimed (same md5) is a duplicate; so is a file Drive says is too large to be a notice
   (unreadable, TOO_LARGE). Neither is downloaded.
3. Download, read. An unreadable file is a known outcome: UNMATCHED with the specific reason. The same letter
   scanned twice (same letter type, notice date, SSN last 4, AUR number) is a duplicate.
4. Find the case. Anything but one clear winner is UNMATCHED with the matcher's reason; so is a match whose response
   due date could not be read (no deadline, no follow-up task: a person files it); so is a letter whose document
   name is already on the case (filed by hand or by another system): a duplicate.
5. MATCHED: fit the document under the Logiqs upload limit (an oversize scan is recompressed; one that cannot be
   fitted is UNMATCHED with the reason, never FAILED for ever), upload it, create the follow-up task, then move the
   file (``mailroom.effects`` keeps each effect exactly-once and refuses the MATCHED move until both are confirmed).
6. A step that still fails after its retries makes the notice FAILED: recorded in the ledger, the file left in its
   input folder for the next run. One notice never stops the others, so nothing escapes ``process``.

A duplicate ends UNMATCHED with "duplicate of <the original>", before any effect: one letter never gets two
documents or two follow-up tasks (``mailroom.duplicates``). A dry run reads and matches but writes nothing, the
ledger included (a claim would hold the notice from the real run), so it does not look for duplicates either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field

from mailroom.drive import DriveFile
from mailroom.duplicates import IdentityKind, Original, content_identity, letter_identity
from mailroom.errors import LeaseLostError, MailroomError
from mailroom.fitting import Fitting
from mailroom.ledger import ClaimResult, Ledger, NoticeKey
from mailroom.matching import MatchOutcome, MatchResult
from mailroom.notices import Notice, document_name
from mailroom.outcomes import Outcome, SkipReason
from mailroom.report import ReportRow
from mailroom.intake_letters import several_letters

logger = logging.getLogger(__name__)


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


class Steps(Protocol):
    """What the intake rules need done. Each raises only ``MailroomError`` for a failure worth reporting."""

    def download(self, file: DriveFile) -> Path: ...

    def discard(self, file: DriveFile) -> None:
        """Forget the downloaded bytes, whatever happened (they hold a full SSN)."""

    def extract(self, path: Path, file_name: str) -> Extraction: ...

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

    def __init__(self) -> None:
        self.step = "start"

    def at(self, step: str) -> None:
        self.step = step


@dataclass(frozen=True)
class Intake:
    ledger: Ledger
    owner: str  # unique per run: the ledger lease holder
    matched_folder_id: str
    unmatched_folder_id: str
    lease_seconds: float = 900.0
    max_bytes: int | None = None  # a file Drive says is larger is not downloaded: UNMATCHED, unreadable (TOO_LARGE)
    drive: str | None = None  # the run's DriveBinding token: ledger rows of another Drive are never read as done
    check_case_documents: bool = True  # look for the document name on the case before filing (one Logiqs read)

    def process(
        self, file: DriveFile, steps: Steps, *, dry_run: bool = False, log: Any = logger
    ) -> ReportRow | Skipped:
        """``log``: a logging.Logger or adapter (the flow passes Prefect's run logger, so lines land in the UI)."""
        key = NoticeKey(file_id=file.id, md5=file.md5 or "no-md5")
        if not dry_run:
            claim = self.ledger.claim(key, self.owner, self.lease_seconds, file_name=file.name, drive=self.drive)
            if not claim:
                log.info("notice %s skipped: %s in the ledger", file.id, claim.value)
                reason = SkipReason.HELD_BY_ANOTHER_RUN if claim is ClaimResult.BUSY else SkipReason.FINISHED_EARLIER
                return Skipped(file_id=file.id, reason=reason)
        where = _Where()
        try:
            values = self._work_on(file, key, steps, where, dry_run)
        except LeaseLostError:  # we stalled past the lease and another run took the notice over: it is theirs now
            log.warning("notice %s skipped: another run took over its lease during step %s", file.id, where.step)
            return Skipped(file_id=file.id, reason=SkipReason.LEASE_TAKEN_OVER)
        except MailroomError as exc:
            values = dict(outcome=Outcome.FAILED, failed_step=where.step, reason=f"{where.step}: {exc}")
        except Exception as exc:  # a bug must not stop the other notices; its traceback goes to the run log
            log.exception("notice %s: unexpected error in step %s", file.id, where.step)
            values = dict(outcome=Outcome.FAILED, failed_step=where.step,
                          reason=f"{where.step}: unexpected {type(exc).__name__}")
        finally:
            steps.discard(file)
        row = ReportRow(file_id=file.id, file_name=file.name, dry_run=dry_run, **values)
        if row.outcome is Outcome.FAILED and not dry_run:
            self._record_failed(key, row.reason, log)
        (log.warning if row.outcome is Outcome.FAILED else log.info)(
            "notice %s -> %s%s", file.id, row.outcome.value, f" (case {row.case_id})" if row.case_id else ""
        )
        return row

    # -- the steps, in the order the business does them ------------------------------------------------------

    def _work_on(self, file: DriveFile, key: NoticeKey, steps: Steps, where: _Where, dry_run: bool) -> dict:
        where.at("duplicates")
        original = self._claim(key, file, IdentityKind.CONTENT, content_identity(file.md5), dry_run)
        if original is not None:
            return self._duplicate(key, file, original, steps, where, dry_run)
        if self.max_bytes is not None and (file.size or 0) > self.max_bytes:  # anyone can drop a 5 GB "PDF"
            reason = (f"unreadable (TOO_LARGE): file is {file.size} bytes, over the {self.max_bytes}-byte limit "
                      "(not downloaded)")
            return self._unmatched(key, reason, steps, where, dry_run)
        where.at("download")
        path = steps.download(file)
        where.at("extract")
        extraction = steps.extract(path, file.name)
        if extraction.notice is None:
            reason = f"unreadable ({extraction.failure}): {extraction.message}"
            return self._unmatched(key, reason, steps, where, dry_run)
        notice = extraction.notice
        if extraction.more_notices:
            return _notice_fields(notice) | several_letters(self, key, [notice, *extraction.more_notices], path, steps,
                                                              where, dry_run)
        fields = _notice_fields(notice)
        where.at("duplicates")
        original = self._claim(key, file, IdentityKind.LETTER, letter_identity(notice), dry_run)
        if original is not None:
            return fields | self._duplicate(key, file, original, steps, where, dry_run)
        where.at("match")
        match = steps.match(notice)
        fields["match_score"] = match.score
        notice = _named_as_confirmed(notice, match)
        if match.outcome is not MatchOutcome.MATCHED:
            return fields | self._unmatched(key, f"{match.outcome.value}: {match.reason}", steps, where, dry_run)
        if notice.response_due_date is None:  # no deadline means no follow-up task: a person must file it
            reason = f"case {match.case_id} matched but no response due date could be read"
            return fields | self._unmatched(key, reason, steps, where, dry_run)
        return fields | self._matched(key, file, notice, match, path, steps, where, dry_run)

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

    def _claim(self, key: NoticeKey, file: DriveFile, kind: IdentityKind, value: str | None,
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

    def _record_failed(self, key: NoticeKey, reason: str, log: Any) -> None:
        """FAILED is final for this run only: the file stays in its input folder and the next run claims it again."""
        try:
            self.ledger.finish(key, self.owner, Outcome.FAILED, reason=reason)
        except MailroomError as exc:  # e.g. the lease was lost: the other run owns the notice's state now
            log.warning("notice %s: could not record FAILED in the ledger (%s)", key.file_id, exc.reason)


def _named_as_confirmed(notice: Notice, match: MatchResult) -> Notice:
    """A name the CRM confirmed on the page (the reader was unsure of it) names the document."""
    if match.confirmed_last_name and match.outcome is MatchOutcome.MATCHED:
        return notice.model_copy(update={"taxpayer_last_name": match.confirmed_last_name})
    return notice


def _letter_type(notice: Notice) -> str:
    return getattr(notice.letter_type, "value", notice.letter_type)


def _notice_fields(notice: Notice) -> dict[str, Any]:
    return dict(
        letter_type=_letter_type(notice),
        tax_year=notice.tax_year,
        notice_date=notice.notice_date,
        response_due_date=notice.response_due_date,
        ssn=notice.masked_ssn if notice.ssn_last4 else None,
    )
