"""Notices as task runs over ``mailroom.intake``'s rules: each step is a nested task run with its own retries.

A run works in two phases so that it can work on the most urgent notices first (docs/operations.md, "Most urgent
first"): ``read-notice`` task runs claim, download and read the text layer of every notice (cheap: enough to know
its response date, or to estimate it for a scan from its file name), then ``process-notice`` task runs read the
rest (OCR), find the case and file or set aside each notice, fewest days left first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.logging import get_run_logger
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from mailroom.drive import DriveFile
from mailroom.intake import Extraction, Reading, Skipped
from mailroom.ledger import NoticeKey
from mailroom.matching import MatchResult
from mailroom.notices import Notice
from mailroom.outcomes import Outcome, SkipReason
from mailroom.report import ReportRow
from mailroom.urgency import urgency_key
from tasks.context import RetryCounter, counting_call_retries, services
from tasks.drive import download_path
from tasks.nesting import steps_commit_on_their_own
from tasks.options import RunTasks


@dataclass(frozen=True)
class PrefectSteps:
    """``mailroom.intake.Steps`` over the run's task set (options settled once, in ``RunTasks``)."""

    tasks: RunTasks

    def download(self, file: DriveFile) -> Path:
        return self.tasks.download_notice(file.id)

    def discard(self, file: DriveFile) -> None:
        download_path(file.id).unlink(missing_ok=True)

    def extract(self, path: Path, file_name: str) -> Extraction:
        return self.tasks.extract_notice(path, file_name)

    def read_text_layer(self, path: Path, file_name: str) -> Extraction | None:
        return self.tasks.read_text_layer(path, file_name)

    def match(self, notice: Notice) -> MatchResult:
        return self.tasks.match_notice(notice)

    def upload(self, key: NoticeKey, case_id: int, path: Path, document_name: str) -> int:
        return self.tasks.upload_document(key, case_id, path, document_name)

    def create_task(self, key: NoticeKey, case_id: int, letter_type: str, notice_date: date | None, due: date) -> int:
        return self.tasks.create_follow_up_task(key, case_id, letter_type, notice_date, due)

    def move(self, key: NoticeKey, outcome: Outcome, to_folder_id: str, reason: str) -> None:
        self.tasks.move_notice(key, outcome, to_folder_id, reason)


@task(name="read-notice", task_run_name="read-{file.id}", retries=0, cache_policy=NO_CACHE, persist_result=False)
def read_notice(file: DriveFile, dry_run: bool = False) -> tuple[Reading | Skipped, RetryCounter]:
    """Claim, download and read the text layer of one notice; never raises for a notice (a failure is kept)."""
    current = services()
    with counting_call_retries() as retries, steps_commit_on_their_own():
        reading = current.intake.read(file, PrefectSteps(current.tasks), dry_run=dry_run, log=get_run_logger())
    return reading, retries


@task(name="process-notice", task_run_name="notice-{reading.file.id}", retries=0, cache_policy=NO_CACHE,
      persist_result=False)
def process_notice(reading: Reading, dry_run: bool = False, retries: RetryCounter | None = None) -> State:
    """The notice's report row (or Skipped when another run took it over) as the data of the task run's final state:
    never raises for a notice; a FAILED notice ends this task run Failed (see ``_ended``)."""
    current = services()
    with counting_call_retries(retries) as counted, steps_commit_on_their_own():
        result = current.intake.conclude(reading, PrefectSteps(current.tasks), dry_run=dry_run, log=get_run_logger())
    return _ended(result, counted)


@task(name="process-notice", task_run_name="notice-{file.id}", retries=0, cache_policy=NO_CACHE,
      persist_result=False)
def process_notice_now(file: DriveFile, dry_run: bool = False) -> State:
    """Read and file one notice in one go (``file_most_urgent_first`` off): no waiting for the other notices."""
    current = services()
    with counting_call_retries() as counted, steps_commit_on_their_own():
        result = current.intake.process(file, PrefectSteps(current.tasks), dry_run=dry_run, log=get_run_logger())
    return _ended(result, counted)


def _ended(result: ReportRow | Skipped, counted: RetryCounter) -> State:
    """A FAILED notice ends its task run Failed, its row still the state's data (the flow reports it and goes on
    with the others); every other outcome ends it Completed."""
    if isinstance(result, Skipped):
        return Completed(data=result, message=f"skipped: {result.reason.value}")
    row = result.model_copy(update=dict(task_retries=counted.task_retries, call_retries=counted.count))
    if row.outcome is Outcome.FAILED:
        return Failed(data=row, message=row.reason)
    return Completed(data=row, message=row.outcome.value)


@dataclass
class Processed:
    rows: list[ReportRow] = field(default_factory=list)
    skipped: Counter[SkipReason] = field(default_factory=Counter)

    def add(self, result: ReportRow | Skipped) -> None:
        if isinstance(result, Skipped):
            self.skipped[result.reason] += 1
        else:
            self.rows.append(result)


Finished = Callable[[ReportRow | Skipped], None]  # told of each notice as it finishes (progress, alerts)


def process_as_read(files: list[DriveFile], *, concurrency: int, dry_run: bool,
                    on_finished: Finished = lambda _: None) -> Processed:
    """Each notice read and filed by one task run, ``concurrency`` at a time, in listing order."""
    done = Processed()
    with ThreadPoolTaskRunner(max_workers=concurrency) as runner:
        futures = {runner.submit(process_notice_now, {"file": f, "dry_run": dry_run}): f for f in files}
        for future in as_completed(list(futures)):
            result = _result(future, futures[future], dry_run)
            done.add(result)
            on_finished(result)
    return done


def process_most_urgent_first(files: list[DriveFile], *, concurrency: int, dry_run: bool, today: date,
                              on_finished: Finished = lambda _: None,
                              on_read: Callable[[int], None] = lambda _: None) -> Processed:
    """Glance at every notice (``concurrency`` at a time), then work on them fewest days left first.

    The pool starts submissions in order, so with ``concurrency`` n a notice starts filing only after every more
    urgent one has started. ``on_read`` is told how many notices wait to be filed once all are read.
    """
    done = Processed()
    readings: list[tuple[int, Reading, RetryCounter]] = []
    position = {file.id: index for index, file in enumerate(files)}
    with ThreadPoolTaskRunner(max_workers=concurrency) as runner:
        futures = {runner.submit(read_notice, {"file": f, "dry_run": dry_run}): f for f in files}
        for future in as_completed(list(futures)):
            file = futures[future]
            result = _result(future, file, dry_run)
            if isinstance(result, tuple) and isinstance(result[0], Reading):
                readings.append((position[file.id], *result))
            else:
                finished = result[0] if isinstance(result, tuple) else result
                done.add(finished)
                on_finished(finished)
        on_read(len(readings))
        readings.sort(key=lambda item: urgency_key(item[1].days_left(today), item[0]))
        filing = {runner.submit(process_notice, {"reading": r, "dry_run": dry_run, "retries": c}): r.file
                  for _, r, c in readings}
        for future in as_completed(list(filing)):
            result = _result(future, filing[future], dry_run)
            done.add(result)
            on_finished(result)
    return done


def _result(future: Any, file: DriveFile, dry_run: bool) -> Any:
    """What the task run ended with; a FAILED notice's task run is Failed on purpose and carries its row."""
    try:
        result = future.result(raise_on_failure=False)
    except Exception as exc:  # noqa: BLE001 - the tasks catch notice errors; this is a crash of the task itself
        result = exc
    if isinstance(result, (ReportRow, Skipped, tuple)):
        return result
    return ReportRow(file_id=file.id, file_name=file.name, outcome=Outcome.FAILED,
                     reason=f"crashed: {type(result).__name__}", dry_run=dry_run)
