"""One notice as a task run over ``mailroom.intake``'s rules: each step is a nested task run with its own retries."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import PrefectHTTPStatusError
from prefect.logging import get_run_logger
from prefect.states import Completed, Failed, State

from mailroom.drive import DriveFile
from mailroom.errors import PermanentError, TransientError
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
from tasks.timing import STEP_TIMES


PREFECT_API_ATTEMPTS = 3  # a task run the Prefect server could not start (5xx, connection) is started again


def _run(step: str, task: Any, *args: Any) -> Any:
    """Call a step's task, timed (``tasks.timing``). When the Prefect server fails to start the task run (its tag
    concurrency check answered 5xx under load, measured with several workers), the body never ran: call again,
    and after the last attempt say so with a TRANSIENT error instead of a bug's traceback."""
    for attempt in range(1, PREFECT_API_ATTEMPTS + 1):
        try:
            return STEP_TIMES.around(step, task, *args)
        except (PrefectHTTPStatusError, httpx.TransportError) as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status is not None and status < 500:
                raise
            if attempt == PREFECT_API_ATTEMPTS:
                raise TransientError(f"Prefect server could not start the {step} task run "
                                     f"({status or type(exc).__name__})", service="prefect", operation=step,
                                     reason="prefect_api_unavailable") from exc
            time.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class PrefectSteps:
    """``mailroom.intake.Steps`` over the run's task set (options settled once, in ``RunTasks``); each call is timed
    around the task run (``tasks.timing``), so the run's Prefect overhead per task run can be measured."""

    tasks: RunTasks

    def download(self, file: DriveFile) -> Path:
        return _run("download-notice", self.tasks.download_notice, file.id)

    def discard(self, file: DriveFile) -> None:
        try:
            download_path(file.id).unlink(missing_ok=True)
        except PermanentError:  # an id refused as a file name: nothing was ever written under it
            pass
        fitted_path(download_path(file.id)).unlink(missing_ok=True)  # a recompressed copy holds the SSN too

    def extract(self, path: Path, file_name: str) -> Extraction:
        return _run("extract-notice", self.tasks.extract_notice, path, file_name)

    def match(self, notice: Notice) -> MatchResult:
        return _run("match-notice", self.tasks.match_notice, notice)

    def fit(self, path: Path) -> Fitting:
        limit = services().settings.max_document_bytes
        if path.stat().st_size <= limit:  # the usual case: nothing to do, so no task run (one less API round trip)
            return fit_document(path, fitted_path(path), max_bytes=limit)
        return self.tasks.fit_for_upload(path)

    def upload(self, key: NoticeKey, case_id: int, path: Path, document_name: str) -> int:
        return _run("upload-document", self.tasks.upload_document, key, case_id, path, document_name)

    def create_task(self, key: NoticeKey, case_id: int, letter_type: str, notice_date: date | None, due: date) -> int:
        return _run("create-follow-up-task", self.tasks.create_follow_up_task, key, case_id, letter_type,
                    notice_date, due)

    def move(self, key: NoticeKey, outcome: Outcome, to_folder_id: str, reason: str) -> None:
        _run("move-notice", self.tasks.move_notice, key, outcome, to_folder_id, reason)

    def filed_copy(self, key: NoticeKey, case_id: int, document_name: str) -> int | None:
        return _run("find-filed-copy", self.tasks.find_filed_copy, key, case_id, document_name)


def forget_finished_results() -> int:
    """Drop Prefect's links from finished task runs' results to their states; returns how many.

    Prefect keeps, for the life of a flow run, one entry per task result (and per part of it) in
    ``FlowRunContext.run_results``, so that a result passed to another task shows as that task's input. Measured:
    ~7.6 entries and ~19 KB per notice, i.e. ~190 MB over a 10,000-notice run. An entry whose result object is gone
    can never be looked up again; a finished task's result that cannot be weakly referenced (ints, strings, paths)
    is dropped too, which at worst loses one input arrow in the UI graph of a notice still in flight.
    """
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None:
        return 0
    results = context.run_results
    stale = [key for key, (state, _kind, ref) in list(results.items())
             if (ref() is None if ref is not None else state.is_final())]
    for key in stale:
        results.pop(key, None)
    return len(stale)


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
