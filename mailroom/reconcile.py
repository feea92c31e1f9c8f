"""Start-of-run reconciliation: every unfinished ledger row of this Drive is finished or left to be resumed, so every
notice appears in exactly one report.

A row stays unfinished when its run died (``kill -9``, power loss) after the row was claimed and before it was
finished, or when it ended FAILED. Rows whose file is still in an input folder need nothing here: the run lists the
file and resumes it through ``mailroom.intake`` (the effects already confirmed are not repeated). The others left the
input folders, so no listing will ever meet them again; where the file is now says how the notice ended:

in MATCHED with both effects confirmed: MATCHED (the kill fell between the move and ``finish``); in MATCHED without
them (put there by hand): moved to UNMATCHED; in UNMATCHED: UNMATCHED with the reason recorded before the move;
elsewhere or deleted: MATCHED if both effects are confirmed, otherwise UNMATCHED, the file left where someone put it
(docs/exactly-once.md, "Reconciliation", has the table).

Each row is claimed first (a row another live run holds is its business) and finished under that lease, so two runs
reconciling at once cannot both report a notice. Rows written for another Drive (``NoticeRecord.drive``) are left
alone. Like ``Intake``, nothing escapes: a row that cannot be settled now is logged and left for the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from mailroom.drive import DriveFile
from mailroom.errors import MailroomError, NotFoundError
from mailroom.ledger import ClaimResult, Ledger, NoticeRecord
from mailroom.outcomes import Outcome
from mailroom.report import ReportRow

logger = logging.getLogger(__name__)

Locate = Callable[[str], DriveFile]  # Drive files.get: raises NotFoundError for a file that is gone


@dataclass(frozen=True)
class Reconciler:
    ledger: Ledger
    owner: str
    matched_folder_id: str
    unmatched_folder_id: str
    lease_seconds: float = 900.0
    drive: str | None = None  # the DriveBinding token of this run; None: rows of any Drive

    def candidates(self, listed: Collection[str]) -> list[NoticeRecord]:
        """Unfinished rows of this Drive whose file this run did not list (a listed file is resumed as usual)."""
        listed = set(listed)
        return [record for record in self.ledger.unfinished()
                if record.key.file_id not in listed and record.drive in (None, self.drive)]

    def reconcile(self, locate: Locate, *, listed: Collection[str], input_folders: Collection[str],
                  move: Callable[[NoticeRecord, str, str], None], log: Any = logger) -> list[ReportRow]:
        """Settle every candidate; returns their report rows. ``move(record, folder_id, reason)`` moves a file to
        the UNMATCHED folder and finishes its row (the run's idempotent move step)."""
        rows = []
        for record in self.candidates(listed):
            try:
                row = self._settle(record, locate, set(input_folders), move, log)
            except MailroomError as exc:  # a Drive or ledger failure: the row stays unfinished for the next run
                log.warning("notice %s not reconciled this run (%s)", record.key.file_id,
                            exc.reason or type(exc).__name__)
                continue
            if row is not None:
                rows.append(row)
        return rows

    def _settle(self, record: NoticeRecord, locate: Locate, input_folders: set[str],
                move: Callable[[NoticeRecord, str, str], None], log: Any) -> ReportRow | None:
        key = record.key
        try:
            file: DriveFile | None = locate(key.file_id)
        except NotFoundError:
            file = None
        parents = set(file.parents) if file is not None else set()
        if parents & input_folders:
            return None  # still waiting in an input folder: a run lists it and resumes it
        claim = self.ledger.claim(key, self.owner, self.lease_seconds, file_name=record.file_name, drive=self.drive)
        if claim is not ClaimResult.ACQUIRED:
            return None  # another live run holds it (and will report it), or it was finished meanwhile
        filed = record.document_id is not None and record.task_id is not None
        effects = (f"document {record.document_id or 'none'}, task {record.task_id or 'none'}"
                   f"{f' on case {record.case_id}' if record.case_id else ''}")
        gone = "deleted from Drive" if file is None else "moved out of the input folders"
        finished_by_move = False
        if self.matched_folder_id in parents and filed:
            outcome, reason = Outcome.MATCHED, ("reconciled: found in the MATCHED folder, filed; its run was stopped "
                                                "before it recorded the move")
        elif self.unmatched_folder_id in parents:
            outcome, reason = Outcome.UNMATCHED, f"reconciled: {record.reason or 'found in the UNMATCHED folder'}"
        elif filed:
            outcome, reason = Outcome.MATCHED, f"reconciled: filed ({effects}); the file was since {gone}"
        elif self.matched_folder_id in parents:  # MATCHED means filed: take it out, to where a person looks
            outcome = Outcome.UNMATCHED
            reason = f"reconciled: found in the MATCHED folder but not filed ({effects}); moved to UNMATCHED"
            move(record, self.unmatched_folder_id, reason)  # moves, then finishes the row
            finished_by_move = True
        else:  # someone took it out of mailroom's hands: it stays where they put it
            outcome, reason = Outcome.UNMATCHED, f"reconciled: {gone} before it was filed ({effects})"
        if not finished_by_move:
            self.ledger.finish(key, self.owner, outcome, reason=reason)
        log.info("notice %s reconciled -> %s", key.file_id, outcome.value)
        return ReportRow(file_id=key.file_id, file_name=record.file_name, outcome=outcome, reason=reason,
                         case_id=record.case_id, document_id=record.document_id, task_id=record.task_id,
                         reconciled=True)
