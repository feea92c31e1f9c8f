"""A Drive file that holds several letters: each letter is its own notice, the file moves once all are done.

The rule (docs/extraction.md and docs/exactly-once.md):
- Letter n of the file is ``NoticeKey(file_id, md5, part=n)``. Part 0 is the file's own ledger row (its lease is the
  file's; it records the file's move and outcome and letter 1's effects), so single-letter files and old ledgers are
  unchanged. Parts n > 0 get their own rows, claimed by the run that holds part 0.
- Each letter is matched on its own; a MATCHED letter is filed as its own document (its page range, written to the
  run's private directory next to the download and deleted after the upload) with its own follow-up task, under its
  own marker, so the exactly-once machinery of ``mailroom.effects`` applies to every letter unchanged.
- The Drive file moves only when every letter is done: to MATCHED if every letter was filed, else to UNMATCHED, with
  the reason of each letter in the file's reason. A letter finished by an earlier run is not redone.
- A step that fails leaves the file FAILED (part 0) and gives back the leases of the later letters, so the next run
  picks the file up and continues where it stopped.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailroom.errors import ErrorClass, MailroomError
from mailroom.ledger import ClaimResult, NoticeKey
from mailroom.matching import MatchOutcome, as_confirmed
from mailroom.notices import Notice, document_name
from mailroom.notices.text_layer import write_page_range
from mailroom.outcomes import Outcome

if TYPE_CHECKING:
    from mailroom.intake import Intake, Steps, _Where


def _pages(notice: Notice) -> str:
    return f"pages {notice.first_page}-{notice.last_page or notice.page_count}"


def several_letters(intake: "Intake", key: NoticeKey, letters: list[Notice], path: Path, steps: "Steps",
                    where: "_Where", dry_run: bool) -> dict[str, Any]:  # fmt: skip
    """The file's report values after every letter was matched and filed (or set aside)."""
    results: list[dict[str, Any]] = []
    claimed: list[NoticeKey] = []
    try:
        for notice in letters:
            results.append(_one_letter(intake, key.letter(notice.part), notice, path, steps, where, dry_run, claimed))
    except BaseException:
        for part_key in claimed:  # the next run takes these letters up again
            try:
                intake.ledger.release(part_key, intake.owner)
            except MailroomError:
                pass
        raise
    all_filed = all(result["outcome"] is Outcome.MATCHED for result in results)
    reason = f"{len(letters)} letters: " + "; ".join(
        f"letter {i + 1} ({_pages(notice)}) {result['outcome'].value}: {result['reason']}"
        for i, (notice, result) in enumerate(zip(letters, results))
    )
    outcome = Outcome.MATCHED if all_filed else Outcome.UNMATCHED
    if not dry_run:
        where.at("move")
        steps.move(key, outcome, intake.matched_folder_id if all_filed else intake.unmatched_folder_id, reason)
    first = results[0]
    values: dict[str, Any] = dict(outcome=outcome, reason=reason)
    for name in ("case_id", "document_name", "document_id", "task_id", "match_score"):
        if first.get(name) is not None:
            values[name] = first[name]
    return values


def _claim(intake: "Intake", part_key: NoticeKey, claimed: list[NoticeKey]) -> dict[str, Any] | None:
    """Claim a later letter's row; the outcome an earlier run recorded when it is already finished."""
    claim = intake.ledger.claim(part_key, intake.owner, intake.lease_seconds)
    if claim is ClaimResult.FINISHED:
        record = intake.ledger.get(part_key)
        assert record is not None and record.outcome is not None
        return dict(outcome=record.outcome, reason=f"{record.reason} (finished earlier)", case_id=record.case_id,
                    document_id=record.document_id, task_id=record.task_id)  # fmt: skip
    if claim is ClaimResult.BUSY:  # another run holds a letter of a file whose lease we hold: leave it to them
        raise MailroomError(f"letter {part_key} is held by another run", error_class=ErrorClass.TRANSIENT,
                            reason="letter_held_elsewhere")  # fmt: skip
    claimed.append(part_key)
    return None


def _one_letter(intake: "Intake", part_key: NoticeKey, notice: Notice, path: Path, steps: "Steps", where: "_Where",
                dry_run: bool, claimed: list[NoticeKey]) -> dict[str, Any]:  # fmt: skip
    label = f"letter {notice.part + 1}"
    if part_key.part and not dry_run:
        earlier = _claim(intake, part_key, claimed)
        if earlier is not None:
            return earlier
    where.at(f"match {label}")
    match = steps.match(notice)
    notice = as_confirmed(notice, match)
    if match.outcome is not MatchOutcome.MATCHED or notice.response_due_date is None:
        reason = (f"{match.outcome.value}: {match.reason}" if match.outcome is not MatchOutcome.MATCHED
                  else f"case {match.case_id} matched but no response due date could be read")  # fmt: skip
        if part_key.part and not dry_run:
            intake.ledger.finish(part_key, intake.owner, Outcome.UNMATCHED, reason=reason)
            claimed.remove(part_key)
        return dict(outcome=Outcome.UNMATCHED, reason=reason, match_score=match.score)
    name = document_name(notice)
    result: dict[str, Any] = dict(outcome=Outcome.MATCHED, reason=match.reason, case_id=match.case_id,
                                  document_name=name, match_score=match.score)  # fmt: skip
    if dry_run:
        return result
    assert match.case_id is not None and notice.response_due_date is not None
    letter_pdf = path.with_name(f"{path.stem}.letter{notice.part + 1}.pdf")
    where.at(f"upload {label}")
    try:
        write_page_range(path, notice.first_page, notice.last_page or notice.page_count, letter_pdf)
        result["document_id"] = steps.upload(part_key, match.case_id, letter_pdf, name)
    finally:
        letter_pdf.unlink(missing_ok=True)  # the pages hold a full SSN: gone as soon as they are filed
    where.at(f"create-task {label}")
    letter_type = getattr(notice.letter_type, "value", notice.letter_type)
    result["task_id"] = steps.create_task(part_key, match.case_id, letter_type, notice.notice_date,
                                          notice.response_due_date)  # fmt: skip
    if part_key.part:
        intake.ledger.finish(part_key, intake.owner, Outcome.MATCHED, reason=match.reason)
        claimed.remove(part_key)
    return result
