"""The daily run's notices spread over the work pool: batches as flow runs of the ``process-notices`` deployment.

The parent lists, starts one deployment run per batch (``run_deployment(..., timeout=0)``, linked as subflow runs
in the UI), waits until every batch run is final, and reads the rows the batches stored (``mailroom.run_rows``).
Every notice still ends in one known state: a batch run that crashed or never ran reports its notices FAILED (their
files stay in the input folders and their ledger leases expire, so the next run takes them up); a notice a batch
skipped because another run held it is counted as skipped, like in the one-process run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.deployments import run_deployment
from prefect.logging import get_run_logger

from mailroom.drive import DriveFile
from mailroom.ledger import Ledger, NoticeKey, open_ledger
from mailroom.outcomes import Outcome
from mailroom.pipeline_settings import PipelineSettings
from mailroom.report import ReportRow
from mailroom.run_rows import RunRows

POLL_SECONDS = 2.0
WAIT_LIMIT_SECONDS = 12 * 3600.0  # batch runs not final by then (no worker picked them up): their notices FAILED


def batches(files: Sequence[DriveFile], size: int) -> list[list[DriveFile]]:
    return [list(files[start:start + size]) for start in range(0, len(files), size)]


def process_in_batches(
    files: Sequence[DriveFile], *, deployment: str, settings: PipelineSettings, run_id: str, blocks: str,
    dry_run: bool, concurrency: int | None = None, wait_limit: float = WAIT_LIMIT_SECONDS,
) -> tuple[list[ReportRow], int]:
    """Rows of every notice processed by the batch runs, plus how many were skipped (another run held them)."""
    logger = get_run_logger()
    RunRows.open(settings.ledger_url, settings.state_dir).close()  # the table exists before any batch writes to it
    groups = batches(files, settings.batch_size)
    started: dict[UUID, tuple[int, list[DriveFile]]] = {}
    for number, group in enumerate(groups):
        run = run_deployment(
            deployment, timeout=0, flow_run_name=f"batch-{number:03d}-of-{len(groups):03d}",
            parameters=dict(file_ids=[f.id for f in group], parent_run_id=run_id, batch=number, blocks=blocks,
                            dry_run=dry_run, concurrency=concurrency,
                            inline_steps=settings.steps_inside_notices(len(files))),
        )
        started[run.id] = (number, group)
    logger.info("%d notice(s) in %d batch run(s) of %s", len(files), len(groups), deployment)
    final = _wait_until_final(list(started), wait_limit, logger)
    with RunRows.open(settings.ledger_url, settings.state_dir) as store:
        rows = list(store.rows(run_id))
        store.forget(run_id)
    with open_ledger(settings.ledger_url, settings.state_dir) as ledger:
        return account_for_every_notice(rows, started.values(), final_states=[final.get(i) for i in started],
                                        dry_run=dry_run, ledger=ledger)


def account_for_every_notice(
    rows: list[ReportRow], batches_started: Any, *, final_states: list[tuple[str, str] | None], dry_run: bool,
    ledger: Ledger | None = None,
) -> tuple[list[ReportRow], int]:
    """The rows the batches handed over, plus a row for each notice of a batch run that did not complete: what the
    ledger says it reached (a crash can come after a notice was filed), else FAILED. A notice without a row in a
    completed batch was skipped (held or finished by another run, or gone)."""
    reported = {row.file_id for row in rows}
    rows = list(rows)
    skipped = 0
    for (number, group), state in zip(batches_started, final_states):
        for file in group:
            if file.id in reported:
                continue
            if state is not None and state[0] == "COMPLETED":
                skipped += 1
                continue
            state_name = state[1] if state else "not finished"
            ended = f"its batch flow run ({number}) ended {state_name}"
            record = ledger.get(NoticeKey(file_id=file.id, md5=file.md5 or "no-md5")) if ledger else None
            if record is not None and record.outcome in (Outcome.MATCHED, Outcome.UNMATCHED):
                rows.append(ReportRow(file_id=file.id, file_name=file.name, outcome=record.outcome, dry_run=dry_run,
                                      case_id=record.case_id, document_id=record.document_id,
                                      task_id=record.task_id, reason=f"{record.reason} ({ended} before reporting)"))
                continue
            rows.append(ReportRow(file_id=file.id, file_name=file.name, outcome=Outcome.FAILED, dry_run=dry_run,
                                  failed_step="batch", reason=f"batch: {ended}"))
    return rows, skipped


def _wait_until_final(ids: list[UUID], wait_limit: float, logger: Any) -> dict[UUID, tuple[str, str]]:
    """state type and name of every run, once all are final (or the wait limit is reached)."""
    deadline = time.monotonic() + wait_limit
    final: dict[UUID, tuple[str, str]] = {}
    last_said = 0.0
    with get_client(sync_client=True) as client:
        while len(final) < len(ids) and time.monotonic() < deadline:
            waiting = [i for i in ids if i not in final]
            for start in range(0, len(waiting), 200):
                chunk = waiting[start:start + 200]
                runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=chunk)),
                                             limit=len(chunk))
                for run in runs:
                    if run.state is not None and run.state.is_final():
                        final[run.id] = (run.state.type.value, run.state.name)
            if len(final) < len(ids):
                if time.monotonic() - last_said > 30:
                    logger.info("%d of %d batch run(s) finished", len(final), len(ids))
                    last_said = time.monotonic()
                time.sleep(POLL_SECONDS)
    return final
