"""One notice as a task run over ``mailroom.intake``'s rules (its steps are nested task runs: ``tasks.steps``)."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.states import Completed, Failed, State

from mailroom.drive import DriveFile
from mailroom.intake import Skipped
from mailroom.outcomes import Outcome
from mailroom.report import ReportRow
from tasks.context import RetryCounter, counting_call_retries, services
from tasks.nesting import steps_commit_on_their_own
from tasks.steps import steps_of


@task(name="process-notice", task_run_name="notice-{file.id}", retries=0, cache_policy=NO_CACHE, persist_result=False)
def process_notice(file: DriveFile, dry_run: bool = False) -> State:
    """The notice's report row (or Skipped when another run holds it) as the data of the task run's final state.

    Never raises for a notice: a FAILED notice ends this task run Failed (its row is still the state's data, so the
    flow reports it and goes on with the others); every other outcome ends it Completed.
    """
    current = services()
    with counting_call_retries() as retries, steps_commit_on_their_own():
        result = current.intake.process(file, steps_of(current), dry_run=dry_run, log=get_run_logger())
    return notice_state(result, retries)


def notice_state(result: ReportRow | Skipped, retries: RetryCounter) -> State:
    """A notice's row (with its retry counts) or Skipped as a final state: Failed for a FAILED notice, else
    Completed; the row is the state's data either way, so the flow reports it and goes on."""
    if isinstance(result, Skipped):
        return Completed(data=result, message=f"skipped: {result.reason.value}")
    row = result.model_copy(update=dict(task_retries=retries.task_retries, call_retries=retries.count))
    if row.outcome is Outcome.FAILED:
        return Failed(data=row, message=row.reason)
    return Completed(data=row, message=row.outcome.value)
