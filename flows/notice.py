"""One notice as a task run over ``mailroom.intake``'s rules: each step is a nested task run with its own retries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.states import Completed, Failed, State

from mailroom.drive import DriveFile
from mailroom.fitting import Fitting, fit_document
from mailroom.intake import Extraction, Skipped
from mailroom.ledger import NoticeKey
from mailroom.matching import MatchResult
from mailroom.notices import Notice
from mailroom.outcomes import Outcome
from mailroom.report import ReportRow
from tasks.context import counting_call_retries, services
from tasks.drive import download_path
from tasks.nesting import steps_commit_on_their_own
from tasks.notices import fitted_path
from tasks.options import RunTasks


@dataclass(frozen=True)
class PrefectSteps:
    """``mailroom.intake.Steps`` over the run's task set (options settled once, in ``RunTasks``)."""

    tasks: RunTasks

    def download(self, file: DriveFile) -> Path:
        return self.tasks.download_notice(file.id)

    def discard(self, file: DriveFile) -> None:
        download_path(file.id).unlink(missing_ok=True)
        fitted_path(download_path(file.id)).unlink(missing_ok=True)  # a recompressed copy holds the SSN too

    def extract(self, path: Path, file_name: str) -> Extraction:
        return self.tasks.extract_notice(path, file_name)

    def match(self, notice: Notice) -> MatchResult:
        return self.tasks.match_notice(notice)

    def fit(self, path: Path) -> Fitting:
        limit = services().settings.max_document_bytes
        if path.stat().st_size <= limit:  # the usual case: nothing to do, so no task run (one less API round trip)
            return fit_document(path, fitted_path(path), max_bytes=limit)
        return self.tasks.fit_for_upload(path)

    def upload(self, key: NoticeKey, case_id: int, path: Path, document_name: str) -> int:
        return self.tasks.upload_document(key, case_id, path, document_name)

    def create_task(self, key: NoticeKey, case_id: int, letter_type: str, notice_date: date | None, due: date) -> int:
        return self.tasks.create_follow_up_task(key, case_id, letter_type, notice_date, due)

    def move(self, key: NoticeKey, outcome: Outcome, to_folder_id: str, reason: str) -> None:
        self.tasks.move_notice(key, outcome, to_folder_id, reason)


@task(name="process-notice", task_run_name="notice-{file.id}", retries=0, cache_policy=NO_CACHE, persist_result=False)
def process_notice(file: DriveFile, dry_run: bool = False) -> State:
    """The notice's report row (or Skipped when another run holds it) as the data of the task run's final state.

    Never raises for a notice: a FAILED notice ends this task run Failed (its row is still the state's data, so the
    flow reports it and goes on with the others); every other outcome ends it Completed.
    """
    current = services()
    with counting_call_retries() as retries, steps_commit_on_their_own():
        result = current.intake.process(file, PrefectSteps(current.tasks), dry_run=dry_run, log=get_run_logger())
    if isinstance(result, Skipped):
        return Completed(data=result, message=f"skipped: {result.reason.value}")
    row = result.model_copy(update=dict(task_retries=retries.task_retries, call_retries=retries.count))
    if row.outcome is Outcome.FAILED:
        return Failed(data=row, message=row.reason)
    return Completed(data=row, message=row.outcome.value)
