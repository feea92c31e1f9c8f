"""One review run's work between the form and the filings: what each answer does, round after round.

A round shows the notices still waiting (``entries``) and applies the submitted answers (``apply``): decisions are
filed through ``Intake.file_decision``; *search again* searches Logiqs with the reviewer's names and files a clear
match, or keeps the notice (with its new candidates) for the next round; *undecided* ends the notice's part in this
run (it waits for the next review run). The resumed run replays earlier rounds from their stored answers: a notice
already filed is found finished in the ledger and reported from it, nothing is filed twice.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from prefect.futures import as_completed
from prefect.logging import get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from flows.review_form import Submitted
from mailroom.drive import DriveFile
from mailroom.intake import Skipped, Verdict
from mailroom.ledger import NoticeKey, NoticeRecord
from mailroom.matching import MatchOutcome, MatchResult
from mailroom.notices import Notice
from mailroom.outcomes import Outcome, SkipReason
from mailroom.report import ReportRow
from mailroom.review import Action, Decision, ReviewEntry, corrected, resolve
from mailroom.urgency import urgency_key
from tasks.context import Services
from tasks.steps import PrefectSteps


def drive_file(record: NoticeRecord) -> DriveFile:
    """The notice's Drive file as the ledger knows it (id, md5, name): enough to download and move it."""
    return DriveFile(id=record.key.file_id, name=record.file_name or record.key.file_id, mime_type="application/pdf",
                     md5=record.key.md5)


class ReviewRound:
    def __init__(self, current: Services, records: list[NoticeRecord], read_task: Any) -> None:
        self._current, self._read = current, read_task
        self._records = {record.key: record for record in records}
        self.waiting: list[NoticeKey] = list(self._records)
        self._known: dict[NoticeKey, tuple[ReviewEntry, Notice | None]] = {}  # read (or searched again) this run
        self.rows: list[ReportRow] = []
        self.counts: Counter[str] = Counter()

    # -- the form's content --------------------------------------------------------------------------------------

    def entries(self) -> list[ReviewEntry]:
        """The waiting notices' entries, most urgent first (read now unless this run searched them again)."""
        self._read_missing(self.waiting)
        entries = [self._known[key][0] for key in self.waiting]
        order = sorted(range(len(entries)), key=lambda i: urgency_key(entries[i].days_left, i))
        return [entries[i] for i in order]

    def _read_missing(self, keys: list[NoticeKey]) -> None:
        missing = [self._records[key] for key in keys if key not in self._known]
        if not missing:
            return
        with ThreadPoolTaskRunner(max_workers=self._current.settings.concurrency) as runner:
            futures = {runner.submit(self._read, {"record": record}): record.key for record in missing}
            for future in as_completed(list(futures)):
                self._known[futures[future]] = future.result()

    # -- the answers -----------------------------------------------------------------------------------------------

    def apply(self, submitted: Submitted) -> None:
        log = get_run_logger()
        decisions = {key: submitted.answer_for(key).decision for key in self.waiting}
        self._read_missing([key for key, d in decisions.items() if d not in (Decision.UNDECIDED, Decision.REJECT)])
        still: list[NoticeKey] = []
        for key in self.waiting:
            answer = submitted.answer_for(key)
            entry, notice = self._known.get(key, (None, None))
            resolution = resolve(entry, answer) if entry is not None else None
            action = Action.REJECT if answer.decision is Decision.REJECT else (resolution.action if resolution
                                                                                  else Action.LEAVE)
            if action is Action.LEAVE:
                self._pending(key, (resolution.note if resolution else "") or "left undecided by the reviewer")
            elif action is Action.REJECT:
                self._file(key, Verdict(file=False, reviewer=submitted.reviewer, at=submitted.at))
            elif action is Action.FILE:
                self._file_on(key, notice, resolution, submitted)
            elif self._search_again(key, entry, notice, resolution, submitted):
                still.append(key)
        log.info("round applied: %s; %d notice(s) to ask about again", dict(self.counts), len(still))
        self.waiting = still

    def _file_on(self, key: NoticeKey, notice: Notice | None, resolution: Any, submitted: Submitted) -> None:
        case_id = resolution.case_id
        if not resolution.listed and not self._open_case(case_id):
            self._pending(key, f"case {case_id} given by the reviewer is not an open Logiqs case")
            return
        match = MatchResult(outcome=MatchOutcome.MATCHED, case_id=case_id, score=self._score(key, case_id),
                            reason=f"case {case_id} chosen by reviewer {submitted.reviewer}")
        assert notice is not None
        self._file(key, Verdict(file=True, match=match, notice=corrected(notice, resolution),
                                reviewer=submitted.reviewer, at=submitted.at))

    def _search_again(self, key: NoticeKey, entry: ReviewEntry | None, notice: Notice | None, resolution: Any,
                      submitted: Submitted) -> bool:
        """File a clear match on the corrected names; True when the notice must be asked about again."""
        if notice is None or entry is None:
            self._pending(key, "could not be read again for the search")
            return False
        searched = corrected(notice, resolution)
        match = self._current.tasks.match_notice(searched)
        policy = self._current.settings.review_min_match_score
        if match.outcome is MatchOutcome.MATCHED and match.score >= policy:
            match = match.model_copy(update={"reason": f"{match.reason}, after reviewer {submitted.reviewer} "
                                                        "corrected the names"})
            self._file(key, Verdict(file=True, match=match, notice=searched, reviewer=submitted.reviewer,
                                    at=submitted.at))
            return False
        why = f"search again by {submitted.reviewer}: {match.outcome.value}: {match.reason}"
        self._known[key] = (ReviewEntry.of(key, entry.file_name, searched, match, today=self._current.settings.today(),
                                           why=why, link=entry.link), searched)
        self.counts["searched again"] += 1
        return True

    # -- filing and reporting ---------------------------------------------------------------------------------------

    def give_up(self, rounds: int) -> None:
        """Notices still being searched after the last round wait for the next review run."""
        for key in self.waiting:
            self._pending(key, f"still no clear case after {rounds} rounds of search")
        self.waiting = []

    def _file(self, key: NoticeKey, verdict: Verdict) -> None:
        record = self._records[key]
        result = self._current.intake.file_decision(drive_file(record), PrefectSteps(self._current.tasks), verdict,
                                                    log=get_run_logger())
        if isinstance(result, Skipped):
            result = self._from_ledger(key, result, verdict)
            if result is None:
                return
        self.counts[result.outcome.value] += 1
        self.rows.append(result)

    def _from_ledger(self, key: NoticeKey, skipped: Skipped, verdict: Verdict) -> ReportRow | None:
        """A notice this run filed in an earlier round (replayed now): its row from the ledger."""
        record = self._current.ledger.get(key)
        if skipped.reason is not SkipReason.FINISHED_EARLIER or record is None or record.outcome is None:
            self.counts[skipped.reason.value] += 1
            return None
        return ReportRow(file_id=key.file_id, file_name=record.file_name, outcome=record.outcome,
                         reason=record.reason, case_id=record.case_id, document_id=record.document_id,
                         task_id=record.task_id, reviewed_by=verdict.reviewer, reviewed_at=verdict.at)

    def _pending(self, key: NoticeKey, note: str) -> None:
        record = self._records[key]
        entry = self._known.get(key, (None, None))[0]
        self.counts["left for the next review"] += 1
        self.rows.append(ReportRow(
            file_id=key.file_id, file_name=record.file_name, outcome=Outcome.PENDING_REVIEW, reason=note,
            letter_type=entry.letter_type if entry else None, response_due_date=entry.response_due_date if entry
            else None, days_left=entry.days_left if entry else None, ssn=entry.ssn if entry else None,
        ))  # fmt: skip

    def _open_case(self, case_id: int | None) -> bool:
        try:
            case = self._current.logiqs.get_case(case_id) if case_id else None
        except Exception:  # noqa: BLE001 - not found, or Logiqs down: do not file on a case we could not see
            return False
        return bool(case and case.active)

    def _score(self, key: NoticeKey, case_id: int) -> float:
        entry = self._known.get(key, (None, None))[0]
        return next((c.score for c in (entry.candidates if entry else []) if c.case_id == case_id), 0.0)

    def one_line(self, left: int) -> str:
        counts = self.counts
        return (f"Review: {counts['MATCHED']} filed by review (MATCHED), {counts['UNMATCHED']} rejected "
                f"(UNMATCHED), {left} left for the next review, {counts['FAILED']} failed to file "
                "(back in the review queue)")
