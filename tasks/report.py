"""Publishing the run report: always kept locally, uploaded to the Drive reports folder unless dry-run."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from mailroom.errors import MailroomError
from mailroom.report import ReportFiles, ReportRow, report_stem, write_report
from tasks.context import services
from tasks.nesting import steps_commit_on_their_own
from tasks.timing import STEP_TIMES

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@task(name="publish-report", tags=["report"], retries=0, cache_policy=NO_CACHE, persist_result=False)
def publish_report(rows: list[ReportRow], started: datetime, run_name: str, dry_run: bool) -> ReportFiles:
    """Never raises for a report problem: what could not be written or uploaded is named on the ReportFiles."""
    current = services()
    with STEP_TIMES.inside("write-report"):
        files = write_report(rows, Path(current.settings.report_dir), report_stem(started, run_name))
    if dry_run:
        return files
    upload = current.tasks.upload_report
    written = [(path, mime) for path, mime in ((files.xlsx, XLSX_MIME), (files.csv, "text/csv")) if path is not None]
    try:
        with steps_commit_on_their_own():  # a retried csv upload must not relabel the finished xlsx upload
            uploaded = [upload(path, current.settings.reports_folder_id, mime) for path, mime in written]
    except MailroomError as exc:  # the local copy stands; the flow reports the upload failure in its final state
        files.upload_error = str(exc)
        return files
    if uploaded:
        files.drive_file_id = uploaded[0].id
        if current.drive_web_links:
            files.drive_link = f"https://drive.google.com/file/d/{uploaded[0].id}/view"
    return files
