"""One notice from input folder to its final state: MATCHED, UNMATCHED or FAILED.

``process_notice`` is a task that calls the step tasks (download, extract, match, upload, create task, move); each
step is its own task run with its own retries, nested under the notice's run in the UI. It never raises for a
notice problem: whatever happens, it returns the notice's report row, so one notice cannot stop the others.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from mailroom.drive import DriveFile
from mailroom.errors import MailroomError
from mailroom.ledger import LeaseLostError, NoticeKey
from mailroom.ledger import Outcome as LedgerOutcome
from mailroom.matching import MatchOutcome, MatchResult
from mailroom.notices import Notice, document_name
from mailroom.report import Outcome, ReportRow
from tasks import drive, logiqs, notices
from tasks.context import counting_call_retries, services
from tasks.retry import configured

class _Step:
    """Remembers which step is running, so a FAILED row says where it failed."""

    name = "start"

    def __call__(self, name: str, task_obj: Any, *args: Any) -> Any:
        self.name = name
        return configured(task_obj, services().settings)(*args)


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


def _file_matched(key: NoticeKey, notice: Notice, match: MatchResult, step: _Step, dry_run: bool) -> dict:
    settings = services().settings
    name = document_name(notice)
    result: dict[str, Any] = dict(outcome=Outcome.MATCHED, case_id=match.case_id, document_name=name,
                                  match_score=match.score, reason=match.reason)
    if dry_run:
        return result
    path = services().workdir / f"{key.file_id}.pdf"
    result["document_id"] = step("upload", logiqs.upload_document, key, match.case_id, path, name)
    result["task_id"] = step(
        "create-task", logiqs.create_follow_up_task, key, match.case_id, _letter_type(notice), notice.notice_date,
        notice.response_due_date,
    )
    step("move", drive.move_notice, key, LedgerOutcome.MATCHED, settings.matched_folder_id, match.reason)
    return result


def _file_unmatched(key: NoticeKey, reason: str, step: _Step, dry_run: bool) -> dict:
    if not dry_run:
        step("move", drive.move_notice, key, LedgerOutcome.UNMATCHED, services().settings.unmatched_folder_id, reason)
    return dict(outcome=Outcome.UNMATCHED, reason=reason)


def _work_on(file: DriveFile, key: NoticeKey, step: _Step, dry_run: bool) -> dict[str, Any]:
    path = step("download", drive.download_notice, file.id)
    step.name = "extract"
    extraction = notices.extract_notice(path, file.name)
    if extraction.notice is None:
        return _file_unmatched(key, f"unreadable ({extraction.failure}): {extraction.message}", step, dry_run)
    notice = extraction.notice
    fields = _notice_fields(notice)
    match = step("match", notices.match_notice, notice)
    fields["match_score"] = match.score
    if match.outcome is not MatchOutcome.MATCHED:
        return fields | _file_unmatched(key, f"{match.outcome.value}: {match.reason}", step, dry_run)
    if notice.response_due_date is None:  # no deadline means no follow-up task: a person must file it
        reason = f"case {match.case_id} matched but no response due date could be read"
        return fields | _file_unmatched(key, reason, step, dry_run)
    return fields | _file_matched(key, notice, match, step, dry_run)


@task(name="process-notice", task_run_name="notice-{file.id}", retries=0, cache_policy=NO_CACHE, persist_result=False)
def process_notice(file: DriveFile, dry_run: bool = False) -> ReportRow | None:
    """The notice's report row, or None when another run holds it (or already finished it): not ours to touch."""
    current = services()
    log = get_run_logger()
    key = NoticeKey(file_id=file.id, md5=file.md5 or "no-md5")
    if not dry_run:  # a dry run writes nothing, the ledger included (a claim would block the real run)
        claim = current.ledger.claim(key, current.owner, current.settings.lease_seconds, file_name=file.name)
        if not claim:
            log.info("notice %s skipped: %s in the ledger", file.id, claim.value)
            return None
    step = _Step()
    with counting_call_retries() as retries:
        try:
            values = _work_on(file, key, step, dry_run)
        except LeaseLostError:  # we stalled past the lease and another run took the notice over: it is theirs now
            log.warning("notice %s skipped: another run took over its lease during step %s", file.id, step.name)
            return None
        except MailroomError as exc:
            values = dict(outcome=Outcome.FAILED, failed_step=step.name, reason=f"{step.name}: {exc}")
        except Exception as exc:  # a bug must not stop the other notices; its traceback goes to the run log
            log.exception("notice %s: unexpected error in step %s", file.id, step.name)
            values = dict(outcome=Outcome.FAILED, failed_step=step.name,
                          reason=f"{step.name}: unexpected {type(exc).__name__}")
        finally:
            (current.workdir / f"{file.id}.pdf").unlink(missing_ok=True)
    row = ReportRow(file_id=file.id, file_name=file.name, dry_run=dry_run, task_retries=retries.task_retries,
                    call_retries=retries.count, **values)
    if row.outcome is Outcome.FAILED and not dry_run:
        _finish_failed(key, row.reason)
    (log.warning if row.outcome is Outcome.FAILED else log.info)(
        "notice %s -> %s%s", file.id, row.outcome.value, f" (case {row.case_id})" if row.case_id else ""
    )
    return row


def _finish_failed(key: NoticeKey, reason: str) -> None:
    """FAILED is final for this run only: the file stays in its input folder and the next run claims it again."""
    current = services()
    try:
        current.ledger.finish(key, current.owner, LedgerOutcome.FAILED, reason=reason)
    except MailroomError as exc:  # e.g. the lease was lost: the other run owns the notice's state now
        get_run_logger().warning("notice %s: could not record FAILED in the ledger (%s)", key.file_id, exc.reason)
