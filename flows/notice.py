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
    with counting_call_retries() as retries:
        reading = current.intake.read(file, PrefectSteps(current.tasks), dry_run=dry_run, log=get_run_logger())
    return reading, retries


@task(name="process-notice", task_run_name="notice-{reading.file.id}", retries=0, cache_policy=NO_CACHE,
      persist_result=False)
def process_notice(reading: Reading, dry_run: bool = False, retries: RetryCounter | None = None
                   ) -> ReportRow | Skipped:  # fmt: skip
    """The notice's report row, or Skipped when another run took it over: never raises for a notice."""
    current = services()
    with counting_call_retries(retries) as counted:
        result = current.intake.conclude(reading, PrefectSteps(current.tasks), dry_run=dry_run, log=get_run_logger())
    counts = dict(task_retries=counted.task_retries, call_retries=counted.count)
    return result if isinstance(result, Skipped) else result.model_copy(update=counts)


@task(name="process-notice", task_run_name="notice-{file.id}", retries=0, cache_policy=NO_CACHE,
      persist_result=False)
def process_notice_now(file: DriveFile, dry_run: bool = False) -> ReportRow | Skipped:
    """Read and file one notice in one go (``file_most_urgent_first`` off): no waiting for the other notices."""
    current = services()
    with counting_call_retries() as counted:
        result = current.intake.process(file, PrefectSteps(current.tasks), dry_run=dry_run, log=get_run_logger())
    counts = dict(task_retries=counted.task_retries, call_retries=counted.count)
    return result if isinstance(result, Skipped) else result.model_copy(update=counts)


@dataclass
class Processed:
    rows: list[ReportRow] = field(default_factory=list)
    skipped: Counter[SkipReason] = field(default_factory=Counter)

    def add(self, result: ReportRow | Skipped) -> None:
        if isinstance(result, Skipped):
            self.skipped[result.reason] += 1
        else:
            self.rows.append(result)


def process_as_read(files: list[DriveFile], *, concurrency: int, dry_run: bool,
                    on_progress: Callable[[], None] = lambda: None) -> Processed:
    """Each notice read and filed by one task run, ``concurrency`` at a time, in listing order."""
    done = Processed()
    with ThreadPoolTaskRunner(max_workers=concurrency) as runner:
        futures = {runner.submit(process_notice_now, {"file": f, "dry_run": dry_run}): f for f in files}
        for future in as_completed(list(futures)):
            done.add(_result(future, futures[future], dry_run))
            on_progress()
            on_progress()  # both steps of the notice at once
    return done


def process_most_urgent_first(files: list[DriveFile], *, concurrency: int, dry_run: bool, today: date,
                              on_progress: Callable[[], None] = lambda: None) -> Processed:
    """Glance at every notice (``concurrency`` at a time), then work on them fewest days left first.

    The pool starts submissions in order, so with ``concurrency`` n a notice starts filing only after every more
    urgent one has started. ``on_progress`` is called once per notice read and once per notice done.
    """
    done = Processed()
    readings: list[tuple[int, Reading, RetryCounter]] = []
    position = {file.id: index for index, file in enumerate(files)}
    with ThreadPoolTaskRunner(max_workers=concurrency) as runner:
        futures = {runner.submit(read_notice, {"file": f, "dry_run": dry_run}): f for f in files}
        for future in as_completed(list(futures)):
            file = futures[future]
            result = _result(future, file, dry_run)
            on_progress()
            if isinstance(result, tuple) and isinstance(result[0], Reading):
                readings.append((position[file.id], *result))
            else:
                done.add(result[0] if isinstance(result, tuple) else result)
                on_progress()
        readings.sort(key=lambda item: urgency_key(item[1].days_left(today), item[0]))
        filing = {runner.submit(process_notice, {"reading": r, "dry_run": dry_run, "retries": c}): r.file
                  for _, r, c in readings}
        for future in as_completed(list(filing)):
            done.add(_result(future, filing[future], dry_run))
            on_progress()
    return done


def _result(future: Any, file: DriveFile, dry_run: bool) -> Any:
    try:
        return future.result()
    except Exception as exc:  # the tasks catch notice errors; this is a crash of the task itself
        return ReportRow(file_id=file.id, file_name=file.name, outcome=Outcome.FAILED,
                         reason=f"crashed: {type(exc).__name__}", dry_run=dry_run)
