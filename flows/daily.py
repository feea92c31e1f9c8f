"""The daily mailroom flow: IRS notices in Google Drive -> filed documents and follow-up tasks in Logiqs.

    python flows/daily.py --sandbox [--notices N --fault-rate F]   # the demo, on the built-in sandbox
    python flows/daily.py [--blocks NAME] [--limit N] [--dry-run]  # a real run with the configured blocks

Every notice ends MATCHED, UNMATCHED, PENDING_REVIEW (a review run asks a person) or FAILED, most urgent first;
the run ends Failed (after all others are processed) when any notice is FAILED. See docs/operations.md.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prefect import flow
from prefect.logging import get_run_logger
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State
from pydantic import Field

from blocks.config import RunConfig, load_run_config
from flows.alerts import emit, emit_notice_alerts
from flows.artifacts import Progress, metrics_delta, publish_artifacts
from flows.engine_logs import quiet_deliberate_failures
from flows.notice import Processed, process_as_read, process_most_urgent_first
from mailroom.alerts import review_pending_alert
from mailroom.errors import MailroomError
from mailroom.intake import Intake, Skipped
from mailroom.ledger import open_ledger
from mailroom.outcomes import SkipReason
from mailroom.pii import install_scrubber
from mailroom.report import ReportRow, RunSummary, by_urgency
from mailroom.resilience import ResiliencePolicy, metrics_snapshot
from mailroom.review import ReviewPolicy
from tasks.context import Services, install_call_retry_logging, use_services
from tasks.options import RunTasks
from tasks.report import publish_report
from tasks.review import ReviewStart, start_review_run

DEPLOYMENT_NAME = "daily-mailroom"
# Prefect ships run logs to the API from handlers on its run loggers: filter there too, not only on the root.
SCRUBBED_LOGGERS = ("", "prefect", "prefect.flow_runs", "prefect.task_runs", "mailroom")

quiet_deliberate_failures()  # at import: a deployment's engine imports this module before it runs the flow


@contextmanager
def private_workdir() -> Iterator[Path]:
    """Downloads live here: mode 0700 (mkdtemp), removed at the end of the run whatever happens."""
    path = Path(tempfile.mkdtemp(prefix="mailroom-run-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run_services(config: RunConfig, workdir: Path, owner: str) -> Services:
    """What the run's tasks use (the review flow builds the same, with its own intake options)."""
    s = config.settings
    ledger = open_ledger(s.ledger_url, s.state_dir)
    call_level = dict(max_retries=s.call_max_retries, initial_delay=s.call_initial_delay, max_delay=s.call_max_delay)
    drive_policy = ResiliencePolicy("drive", calls_per_second=s.drive_calls_per_second, burst=s.drive_burst,
                                    **call_level)
    logiqs_policy = ResiliencePolicy("logiqs", calls_per_second=s.logiqs_calls_per_second, burst=s.logiqs_burst,
                                     **call_level)
    return Services(
        drive=config.drive.client(drive_policy),
        logiqs=config.logiqs.client(logiqs_policy),
        settings=s,
        workdir=workdir,
        ledger=ledger,
        owner=owner,
        tasks=RunTasks.for_settings(s),
        intake=Intake(ledger, owner, s.matched_folder_id, s.unmatched_folder_id, s.lease_seconds,
                      review=ReviewPolicy.of(s), today=s.today()),
        drive_web_links=config.drive.api_endpoint is None,
    )


def _notices_to_process(services: Services, input_folder_id: str | None, limit: int | None) -> list:
    s = services.settings
    root = input_folder_id or s.input_root_id
    outputs = [s.matched_folder_id, s.unmatched_folder_id, s.reports_folder_id]
    services.tasks.check_folders({
        "input_folder_id parameter" if input_folder_id else "input_root_id setting": root,
        "matched_folder_id setting": s.matched_folder_id,
        "unmatched_folder_id setting": s.unmatched_folder_id,
        "reports_folder_id setting": s.reports_folder_id,
    })
    folders = services.tasks.discover_folders(root, s.folder_name_patterns, s.recursive, outputs)
    folder_ids = [f.id for f in folders]
    if input_folder_id and input_folder_id not in folder_ids:  # an explicit override is read even if not matching
        folder_ids.insert(0, input_folder_id)
    get_run_logger().info("%d input folder(s) under %s", len(folder_ids), root)
    return services.tasks.list_new_notices(folder_ids, limit)


def _process_all(files: list, concurrency: int, dry_run: bool, services: Services) -> Processed:
    """Every notice read (at most ``concurrency`` at once), then filed most urgent first (docs/operations.md).

    A notice's events (FAILED, overdue) go out as soon as it finishes, not at the end of the run.
    """
    today, log = services.settings.today(), get_run_logger()
    progress = Progress(len(files), log=log.info)

    def finished(result: ReportRow | Skipped) -> None:
        if isinstance(result, Skipped):
            progress.advance(None)
        else:
            progress.advance(result.outcome)
            emit_notice_alerts(result, today)

    if not services.settings.file_most_urgent_first:
        return process_as_read(files, concurrency=concurrency, dry_run=dry_run, on_finished=finished)
    return process_most_urgent_first(
        files, concurrency=concurrency, dry_run=dry_run, today=today, on_finished=finished,
        on_read=lambda n: log.info("%d notice(s) read; filing them most urgent first", n))


# Constraints live in the parameter types, so the UI form, `prefect deployment run` and the API refuse a bad value
# before a run is created (Prefect validates deployment parameters against the flow's schema).
Limit = Annotated[int, Field(ge=1)]
Concurrency = Annotated[int, Field(ge=1, le=64)]  # the settings block allows the same range
FolderId = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")]  # Drive ids: letters, digits, - and _
BlocksName = Annotated[str, Field(min_length=1)]


@flow(name="daily-mailroom", persist_result=False, log_prints=False)
def daily_mailroom(
    limit: Limit | None = None,
    dry_run: bool = False,
    input_folder_id: FolderId | None = None,
    concurrency: Concurrency | None = None,
    blocks: BlocksName = "default",
) -> RunSummary | State:
    """File today's IRS notices.

    Args:
        limit: process at most this many notices (oldest first).
        dry_run: read and match only; nothing is uploaded, created or moved (a local report is still written).
        input_folder_id: read this Drive folder (and its matching subfolders) instead of the configured root.
        concurrency: notices processed at once (default: the settings block's value).
        blocks: name of the block documents to use (LogiqsCredentials, DriveCredentials, MailroomSettings).
    """
    install_scrubber(*SCRUBBED_LOGGERS)
    logger = get_run_logger()
    started = datetime.now(timezone.utc)
    try:
        config = load_run_config(blocks)
    except MailroomError as exc:
        logger.error("%s", exc)
        return Failed(message=str(exc))
    install_call_retry_logging()
    metrics_before = metrics_snapshot()
    run_id = str(flow_run.id or "local")
    with private_workdir() as workdir:
        services = run_services(config, workdir, owner=run_id)
        with use_services(services), services.ledger:  # the ledger's connections end with the run
            try:
                services.tasks.check_logiqs_access()
                files = _notices_to_process(services, input_folder_id, limit)
            except MailroomError as exc:  # bad key, missing scope, missing folder: nothing to retry, say why
                message = f"Cannot start: {exc}"
                logger.error("%s", message)
                return Failed(message=message)
            logger.info("%d notice(s) to process%s", len(files), " (dry run)" if dry_run else "")
            done = _process_all(files, concurrency or config.settings.concurrency, dry_run, services)
            review = ReviewStart() if dry_run else start_review_run(blocks)  # never waits for the reviewer
            if review.notices:  # one event per run that left notices for a person (docs/operations.md, Alerts)
                emit(review_pending_alert(run_id, review.notices, review_run_id=review.run_id, review_url=review.url))
            rows = by_urgency(done.rows)  # the report lists the most urgent notices first
            report = publish_report(rows, started, flow_run.name or "local", dry_run)
    waiting = done.skipped.pop(SkipReason.WAITING_FOR_REVIEW, 0)
    summary = RunSummary.of(rows, dry_run=dry_run, report=report, skipped=sum(done.skipped.values()),
                            in_review=waiting)
    summary.review_run = review.label() or (f"not started: {review.problem}" if review.problem else None)
    publish_artifacts(rows, summary, metrics_delta(metrics_before, metrics_snapshot()))
    logger.info("%s; report: %s", summary.one_line(), report.xlsx)
    if summary.failed:
        return Failed(
            message=f"{summary.failed} of {summary.total} notice(s) FAILED after all retries "
            f"(left in their input folders); see the Failed sheet of {report.xlsx}",
            data=summary,
        )
    if report.upload_error:
        return Failed(message=f"Report not uploaded to Drive ({report.upload_error}); local copy {report.xlsx}",
                      data=summary)
    return Completed(message=summary.one_line(), data=summary)


if __name__ == "__main__":
    from flows.cli import main

    raise SystemExit(main(daily_mailroom))
