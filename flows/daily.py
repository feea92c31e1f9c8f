"""The daily mailroom flow: IRS notices in Google Drive -> filed documents and follow-up tasks in Logiqs.

    python flows/daily.py --sandbox [--notices N --fault-rate F]   # the demo, on the built-in sandbox
    python flows/daily.py [--blocks NAME] [--limit N] [--dry-run]  # a real run with the configured blocks

Every notice ends MATCHED, UNMATCHED, PENDING_REVIEW (a review run asks a person) or FAILED, most urgent first;
the run ends Failed (after all others are processed) when any notice is FAILED. See docs/operations.md.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Annotated

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prefect import flow
from prefect.logging import get_run_logger
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import Field
from sqlalchemy.exc import SQLAlchemyError

from blocks.config import RunConfig, load_run_config
from blocks.limits import ensure_shared_limits
from flows.alerts import emit, emit_notice_alerts
from flows.artifacts import Progress, metrics_delta, publish_artifacts
from flows.engine_logs import quiet_deliberate_failures
from flows.fan_out import process_in_batches
from flows.notice import process_notice
from flows.run_results import forget_finished_results, in_a_window
from flows.urgent_first import process_most_urgent_first
from mailroom.alerts import review_pending_alert
from mailroom.drive import DriveFile
from mailroom.drive_binding import binding_of
from mailroom.errors import ConfigurationError, MailroomError
from mailroom.intake import Intake, Skipped
from mailroom.ledger import Ledger, default_ledger_path, open_ledger
from mailroom.notices import ExtractionLimits
from mailroom.outcomes import Outcome, SkipReason
from mailroom.pii import install_scrubber
from mailroom.process_memory import limit_malloc_arenas
from mailroom.report import ReportFiles, ReportRow, RunSummary, by_urgency
from mailroom.resilience import ResiliencePolicy, metrics_snapshot
from mailroom.review import ReviewPolicy
from mailroom.workdirs import RunWorkdir, sweep_dead, sweep_legacy
from tasks.context import Services, install_call_retry_logging, use_services
from tasks.context import services as current_services
from tasks.limits import shared_limits_installed
from tasks.options import RunTasks
from tasks.report import publish_report
from tasks.review import ReviewStart, start_review_run

DEPLOYMENT_NAME = "daily-mailroom"
# Prefect ships run logs to the API from handlers on its run loggers: filter there too, not only on the root.
SCRUBBED_LOGGERS = ("", "prefect", "prefect.flow_runs", "prefect.task_runs", "mailroom")

quiet_deliberate_failures()  # at import: a deployment's engine imports this module before it runs the flow


def _open_ledger(config: RunConfig) -> Ledger:
    s = config.settings
    try:
        return open_ledger(s.ledger_url, s.state_dir)
    except ConfigurationError as exc:  # a ledger_url that is not a database URL
        raise ConfigurationError(f"{config.settings_field('ledger_url')}: {exc}", service="ledger",
                                 operation="open") from None
    except (OSError, SQLAlchemyError) as exc:  # state dir not writable, a file that is not a ledger
        field = "ledger_url" if s.ledger_url else "state_dir"
        raise ConfigurationError(f"{config.settings_field(field)}: the ledger cannot be opened "
                                 f"({type(exc).__name__})", service="ledger", operation="open") from None


def run_workdir(stack: ExitStack, config: RunConfig, owner: str) -> Path:
    """This run's private download dir in the state dir, after removing those of runs that died."""
    state_dir = default_ledger_path(config.settings.state_dir).parent
    try:
        swept = sweep_dead(state_dir) + sweep_legacy()
        if swept:
            get_run_logger().info("removed %d download dir(s) left by runs that died", len(swept))
        return stack.enter_context(RunWorkdir(state_dir, owner))
    except OSError as exc:
        raise ConfigurationError(f"{config.settings_field('state_dir')}: no private work dir can be made in "
                                 f"{state_dir} ({type(exc).__name__})", service="ledger", operation="workdir") from None


def build_services(config: RunConfig, workdir: Path, owner: str) -> Services:
    """Everything the run's tasks need; a ConfigurationError naming the block and field if something is unusable."""
    s = config.settings
    call_level = dict(max_retries=s.call_max_retries, initial_delay=s.call_initial_delay, max_delay=s.call_max_delay)
    drive_policy = ResiliencePolicy("drive", calls_per_second=s.drive_calls_per_second, burst=s.drive_burst,
                                    **call_level)
    logiqs_policy = ResiliencePolicy("logiqs", calls_per_second=s.logiqs_calls_per_second, burst=s.logiqs_burst,
                                     **call_level)
    drive, logiqs = config.drive_client(drive_policy), config.logiqs_client(logiqs_policy)
    ledger = _open_ledger(config)
    return Services(
        drive=drive,
        logiqs=logiqs,
        settings=s,
        workdir=workdir,
        ledger=ledger,
        owner=owner,
        tasks=RunTasks.for_settings(s),
        intake=Intake(ledger, owner, s.matched_folder_id, s.unmatched_folder_id, s.lease_seconds,
                      max_bytes=ExtractionLimits().max_bytes, check_case_documents=s.check_case_documents,
                      review=ReviewPolicy.of(s), today=s.today()),
        drive_web_links=config.drive.api_endpoint is None,
    )


def _notices_to_process(config: RunConfig, services: Services, input_folder_id: str | None,
                        limit: int | None) -> tuple[list[DriveFile], list[str]]:
    """The notices waiting in the input folders, and those folders; binds the run's intake to its Drive."""
    s = services.settings
    root = input_folder_id or s.input_root_id
    outputs = [s.matched_folder_id, s.unmatched_folder_id, s.reports_folder_id]
    configured = dict(input_root_id=s.input_root_id, matched_folder_id=s.matched_folder_id,
                      unmatched_folder_id=s.unmatched_folder_id, reports_folder_id=s.reports_folder_id)
    if input_folder_id:
        configured["input_folder_id"] = input_folder_id
    checked = services.tasks.check_folders(configured, config.name)
    binding = binding_of(config.drive_account(), checked["input_root_id"])
    services.intake = replace(services.intake, drive=binding.token)  # the ledger rows this run may read as its own
    folders = services.tasks.discover_folders(root, s.folder_name_patterns, s.recursive, outputs)
    folder_ids = [f.id for f in folders]
    if input_folder_id and input_folder_id not in folder_ids:  # an explicit override is read even if not matching
        folder_ids.insert(0, input_folder_id)
    get_run_logger().info("%d input folder(s) under %s", len(folder_ids), root)
    return services.tasks.list_new_notices(folder_ids, limit), folder_ids


def _reconcile(services: Services, files: list[DriveFile], folder_ids: list[str]) -> list[ReportRow]:
    """Rows earlier runs left unfinished, settled before this run's notices (they join this run's report)."""
    try:
        return services.tasks.reconcile_unfinished([f.id for f in files], folder_ids)
    except Exception as exc:  # noqa: BLE001 - best effort: what is not settled now is settled by the next run
        get_run_logger().warning("unfinished ledger rows not reconciled this run: %s", type(exc).__name__)
        return []


def process_all(files: list, concurrency: int, dry_run: bool, today: date, *, progress: bool = True,
                most_urgent_first: bool = False, inline_steps: bool | None = None,
                ) -> tuple[list[ReportRow], list[SkipReason]]:
    """Every notice through ``process_notice`` with at most ``concurrency`` at once; returns rows and skip reasons.

    ``most_urgent_first``: every notice is read first, then filed fewest days left (from ``today``) first
    (``flows.urgent_first``; docs/operations.md, "Most urgent first").

    Only a window of ``2 x concurrency`` notices is submitted at a time, so a 10,000-notice run holds a few dozen
    futures (and their task-run states), not 10,000. A notice's events (FAILED, overdue) go out as soon as it
    finishes, not at the end of the run (in a fanned-out run, from the batch run that worked on it).

    ``inline_steps`` (default: from the count of ``files``, ``PipelineSettings.steps_inside_notices``): each
    notice's steps run inside its task run instead of as task runs of their own.
    """
    current = current_services()
    current.inline_steps = current.settings.steps_inside_notices(len(files)) if inline_steps is None else inline_steps
    if current.inline_steps:
        get_run_logger().info("each notice's steps run inside its task run, retried and logged there (more than "
                              "%d notices: steps_as_task_runs_up_to)", current.settings.steps_as_task_runs_up_to)
    rows: list[ReportRow] = []
    skips: list[SkipReason] = []
    meter = Progress(len(files), log=get_run_logger().info) if progress else None

    def record(result: ReportRow | Skipped) -> None:
        """One notice done: its row (alerts out at once) or why it was skipped, and the progress line."""
        if isinstance(result, Skipped):
            skips.append(result.reason)
        else:
            rows.append(result)
            emit_notice_alerts(result, today)
        if meter is not None:
            meter.advance(None if isinstance(result, Skipped) else result.outcome)

    if most_urgent_first:
        process_most_urgent_first(
            files, concurrency=concurrency, dry_run=dry_run, today=today, on_finished=record,
            on_read=lambda n: get_run_logger().info("%d notice(s) read; filing them most urgent first", n))
        return rows, skips
    with ThreadPoolTaskRunner(max_workers=concurrency) as runner:
        calls = ((file, {"file": file, "dry_run": dry_run}) for file in files)
        for file, future in in_a_window(runner, process_notice, calls, 2 * concurrency):
            try:  # a FAILED notice's task run is Failed on purpose and carries its row as the state's data
                row = future.result(raise_on_failure=False)
            except Exception as exc:
                row = exc
            if not isinstance(row, (ReportRow, Skipped)):  # a crash of the task itself, not a notice problem
                row = ReportRow(file_id=file.id, file_name=file.name, outcome=Outcome.FAILED,
                                reason=f"crashed: {type(row).__name__}", dry_run=dry_run)
            record(row)
            if (len(rows) + len(skips)) % concurrency == 0:
                forget_finished_results()  # else Prefect keeps ~19 KB per notice for the whole run
    return rows, skips


def _publish_report(rows: list[ReportRow], started: datetime, dry_run: bool) -> ReportFiles:
    """The report task never raises for a report problem; should the task itself crash, the run still goes on."""
    try:
        return publish_report(rows, started, flow_run.name or "local", dry_run)
    except Exception as exc:  # noqa: BLE001 - the artifacts below must still be published
        get_run_logger().error("publishing the report crashed: %s", type(exc).__name__)
        return ReportFiles(write_errors=[f"report not published ({type(exc).__name__})"])


def _cannot_start(message: str) -> State:
    message = f"Cannot start: {message}"
    get_run_logger().error("%s", message)
    return Failed(message=message)


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
    fan_out_deployment: str | None = None,
) -> RunSummary | State:
    """File today's IRS notices.

    Args:
        limit: process at most this many notices (oldest first).
        dry_run: read and match only; nothing is uploaded, created or moved (a local report is still written).
        input_folder_id: read this Drive folder (and its matching subfolders) instead of the configured root.
        concurrency: notices processed at once (default: the settings block's value).
        blocks: name of the block documents to use (LogiqsCredentials, DriveCredentials, MailroomSettings).
        fan_out_deployment: spread the notices over the work pool as runs of this deployment (e.g.
            process-notices/process-notices); default: the settings block's value (empty: this process does all).
    """
    install_scrubber(*SCRUBBED_LOGGERS)
    logger = get_run_logger()
    started = datetime.now(timezone.utc)
    try:
        config = load_run_config(blocks)
    except MailroomError as exc:
        return _cannot_start(str(exc))
    limit_malloc_arenas()  # before the task runner's threads exist (mailroom.process_memory)
    install_call_retry_logging()
    if config.settings.shared_rate_limits:  # the pool's shared limits exist before any worker asks them for a slot
        for line in ensure_shared_limits(config.settings):
            logger.info("shared rate limit %s", line)
    metrics_before = metrics_snapshot()
    run_id = str(flow_run.id or "local")
    with ExitStack() as stack:
        try:  # everything before the first notice: a problem here is the operator's to fix, and nothing is touched
            services = build_services(config, run_workdir(stack, config, run_id), owner=run_id)
            stack.enter_context(services.ledger)  # the ledger's connections end with the run
            stack.enter_context(use_services(services))
            # with shared_rate_limits, every call takes a slot of the pool's
            stack.enter_context(shared_limits_installed(config.settings))
            services.tasks.check_logiqs_access()
            files, folder_ids = _notices_to_process(config, services, input_folder_id, limit)
        except MailroomError as exc:  # bad key or block, missing scope or folder: nothing to retry, say why
            return _cannot_start(config.explain(exc))
        reconciled = [] if dry_run else _reconcile(services, files, folder_ids)
        logger.info("%d notice(s) to process%s", len(files), " (dry run)" if dry_run else "")
        fan_out = fan_out_deployment or config.settings.fan_out_deployment
        if fan_out:
            rows, skipped = process_in_batches(files, deployment=fan_out, settings=config.settings, run_id=run_id,
                                               blocks=blocks, dry_run=dry_run, concurrency=concurrency)
            skips = [SkipReason.HELD_BY_ANOTHER_RUN] * skipped  # a batch hands over how many, not why
        else:
            s = config.settings
            rows, skips = process_all(files, concurrency or s.concurrency, dry_run, s.today(),
                                      most_urgent_first=s.file_most_urgent_first)
        review = ReviewStart() if dry_run else start_review_run(blocks)  # never waits for the reviewer
        if review.notices:  # one event per run that left notices for a person (docs/operations.md, Alerts)
            emit(review_pending_alert(run_id, review.notices, review_run_id=review.run_id, review_url=review.url))
        rows = reconciled + by_urgency(rows)  # the report lists the most urgent notices first
        report = _publish_report(rows, started, dry_run)
    summary = RunSummary.of(rows, dry_run=dry_run, report=report, skips=skips)
    summary.review_run = review.label() or (f"not started: {review.problem}" if review.problem else None)
    publish_artifacts(rows, summary, metrics_delta(metrics_before, metrics_snapshot()))
    logger.info("%s; report: %s", summary.one_line(), report.local)
    if summary.failed:
        return Failed(
            message=f"{summary.failed} of {summary.total} notice(s) FAILED after all retries "
            f"(left in their input folders); see the Failed sheet of {report.local}",
            data=summary,
        )
    if report.write_errors:
        return Failed(message=f"Report incomplete ({'; '.join(report.write_errors)}): every notice is listed in "
                      f"the run's artifacts; local copy: {report.local}", data=summary)
    if report.upload_error:
        return Failed(message=f"Report not uploaded to Drive ({report.upload_error}); local copy {report.local}",
                      data=summary)
    return Completed(message=summary.one_line(), data=summary)


if __name__ == "__main__":
    from flows.cli import main

    raise SystemExit(main(daily_mailroom))
