"""Most urgent first (docs/operations.md, "Most urgent first"): every notice glanced at, then filed fewest days left
first. ``read-notice`` task runs claim, download and read the text layer of each notice (cheap: enough to know its
response date, or to estimate it for a scan from its file name); ``process-notice`` task runs read the rest (OCR), find
the case and file or set aside each notice, in urgency order. ``flows.daily.process_all`` uses this when
``file_most_urgent_first`` is on; ``flows.notice.process_notice`` does both halves at once otherwise.
"""

from __future__ import annotations

import pickle
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.states import State
from prefect.task_runners import ThreadPoolTaskRunner

from flows.notice import notice_state
from flows.run_results import Lane, forget_finished_results, in_a_window, in_lanes
from mailroom.drive import DriveFile
from mailroom.intake import Reading, Skipped
from mailroom.notices import tesseract
from mailroom.outcomes import Outcome
from mailroom.report import ReportRow
from mailroom.urgency import urgency_key
from tasks.context import RetryCounter, counting_call_retries, services
from tasks.nesting import steps_commit_on_their_own
from tasks.steps import steps_of

# Scans filed at once: one per OCR engine, plus one doing its Logiqs calls while the engines read the next pages.
SCAN_LANE = tesseract.MAX_ENGINES + 1
Finished = Callable[[ReportRow | Skipped], None]  # told of each notice as it finishes (progress, alerts)


@task(name="read-notice", task_run_name="read-{file.id}", retries=0, cache_policy=NO_CACHE, persist_result=False)
def read_notice(file: DriveFile, dry_run: bool = False) -> tuple[Reading | Skipped, RetryCounter]:
    """Claim, download and read the text layer of one notice; never raises for a notice (a failure is kept)."""
    current = services()
    with counting_call_retries() as retries, steps_commit_on_their_own():
        reading = current.intake.read(file, steps_of(current), dry_run=dry_run, log=get_run_logger())
    return reading, retries


@task(name="process-notice", task_run_name="notice-{reading.file.id}", retries=0, cache_policy=NO_CACHE,
      persist_result=False)
def process_notice(reading: Reading, dry_run: bool = False, retries: RetryCounter | None = None) -> State:
    """The notice's report row (or Skipped when another run took it over) as the data of the task run's final state:
    never raises for a notice; a FAILED notice ends this task run Failed, its row still the state's data."""
    current = services()
    with counting_call_retries(retries) as counted, steps_commit_on_their_own():
        result = current.intake.conclude(reading, steps_of(current), dry_run=dry_run, log=get_run_logger())
    return notice_state(result, counted)


def process_most_urgent_first(files: list[DriveFile], *, concurrency: int, dry_run: bool, today: date,
                              on_finished: Finished, on_read: Callable[[int], None] = lambda _: None,
                              scan_lane: int | None = None) -> None:
    """Glance at every notice (``concurrency`` at a time), then work on them fewest days left first.

    The pool starts submissions in order, so with ``concurrency`` n a notice starts filing only after every more
    urgent one has started. Scans are filed in a lane of their own, ``scan_lane`` (default ``SCAN_LANE``) at a time
    and also most urgent first: their OCR is CPU-bound (one engine per core), and in the common pool a cluster of
    scans waiting for an engine held every slot while Logiqs sat idle (docs/operations.md, "Steps inside the
    notice"). ``on_read`` is told how many notices wait to be filed once all are read. The listing
    must be read whole before ordering, so every reading is held until its turn (its file's bytes are on disk), and
    held packed (``Waiting``).
    """
    waiting: list[Waiting] = []
    position = {file.id: index for index, file in enumerate(files)}
    finished = 0

    def done(result: ReportRow | Skipped) -> None:
        nonlocal finished
        on_finished(result)
        finished += 1
        if finished % concurrency == 0:
            forget_finished_results()  # else Prefect keeps ~19 KB per notice for the whole run

    with ThreadPoolTaskRunner(max_workers=concurrency) as runner:
        calls = ((f, {"file": f, "dry_run": dry_run}) for f in files)
        for read, (file, future) in enumerate(in_a_window(runner, read_notice, calls, 2 * concurrency), start=1):
            if read % concurrency == 0:
                forget_finished_results()
            result = _result(future, file, dry_run)
            if isinstance(result, tuple) and isinstance(result[0], Reading):
                waiting.append(Waiting.of(result[0], result[1], urgency_key(result[0].days_left(today),
                                                                              position[file.id])))
            else:
                done(result[0] if isinstance(result, tuple) else result)
        on_read(len(waiting))
        waiting.sort(key=lambda held: held.order, reverse=True)
        scans = [held for held in waiting if held.needs_ocr]
        waiting[:] = [held for held in waiting if not held.needs_ocr]

        def most_urgent_first(lane: list[Waiting]) -> Iterator[tuple[DriveFile, dict[str, Any]]]:
            while lane:  # popped as submitted: a filed notice's reading is not held to the end of the run
                reading, counted = lane.pop().unpacked()
                yield reading.file, {"reading": reading, "dry_run": dry_run, "retries": counted}

        scan_lane = scan_lane or SCAN_LANE
        with ThreadPoolTaskRunner(max_workers=scan_lane) as scan_runner:
            lanes = [Lane(runner, process_notice, most_urgent_first(waiting), 2 * concurrency),
                     Lane(scan_runner, process_notice, most_urgent_first(scans), scan_lane)]
            for file, future in in_lanes(lanes):
                done(_result(future, file, dry_run))


@dataclass(frozen=True, slots=True)
class Waiting:
    """A notice read and waiting for its turn to be filed: its order and lane, and the reading itself pickled.

    Most urgent first holds every reading of the run until the last one is read. As objects a reading took ~10 KB
    (a provenance object per field of its notice, its match's candidates), 22 KB per notice of RSS with Prefect's
    own share; pickled and compressed it is ~1.5 KB, ~0.3 ms to pack and unpack (docs/operations.md, "10,000
    typed notices, whole").
    Held in this process only, never persisted: it carries names.
    """

    order: tuple[int, int, int]
    needs_ocr: bool
    packed: bytes

    @classmethod
    def of(cls, reading: Reading, counted: RetryCounter, order: tuple[int, int, int]) -> "Waiting":
        packed = zlib.compress(pickle.dumps((reading, counted), protocol=pickle.HIGHEST_PROTOCOL))
        return cls(order, reading.needs_ocr, packed)

    def unpacked(self) -> tuple[Reading, RetryCounter]:
        # Bytes this process packed a moment ago, never read from outside it.
        return pickle.loads(zlib.decompress(self.packed))  # noqa: S301


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
