"""Google Drive verbs of the daily flow. Every call goes through the resilience policy inside ``DriveClient``."""

from __future__ import annotations

import re
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from mailroom.drive import DriveFile
from mailroom.drive_binding import check_folders as check_configured_folders
from mailroom.errors import PermanentError
from mailroom.effects import ensure_moved
from mailroom.ledger import NoticeKey
from mailroom.outcomes import Outcome
from mailroom.reconcile import Reconciler
from mailroom.report import ReportRow
from tasks.context import services
from tasks.retry import service_task


@service_task(name="check-folders", service="drive")
def check_folders(folders: dict[str, str], block_name: str) -> dict[str, DriveFile]:
    """Every configured folder exists, is a folder and is shared with the account (else: which setting to fix)."""
    return check_configured_folders(
        services().drive, folders,
        where=lambda name: (f"parameter {name}" if name == "input_folder_id"
                            else f"block mailroom-settings/{block_name}, field {name}"),
    )


@service_task(name="discover-folders", service="drive")
def discover_folders(root_id: str, name_patterns: list[str], recursive: bool, exclude_ids: list[str]) -> list[DriveFile]:
    """Input folders under the root whose names match; output folders are excluded even when they match."""
    folders = services().drive.find_folders(root_id, name_patterns=tuple(name_patterns), recursive=recursive)
    excluded = set(exclude_ids)
    return [folder for folder in folders if folder.id not in excluded]


@service_task(name="list-new-notices", service="drive")
def list_new_notices(folder_ids: list[str], limit: int | None = None) -> list[DriveFile]:
    """PDFs waiting in the input folders, oldest first, each once even if it has several parents."""
    seen: dict[str, DriveFile] = {}
    drive = services().drive
    for folder_id in folder_ids:
        for file in drive.list_pdfs(folder_id):
            seen.setdefault(file.id, file)
    ordered = sorted(seen.values(), key=lambda f: (f.created_time is None, f.created_time or 0, f.name, f.id))
    return ordered[:limit] if limit is not None else ordered


@service_task(name="get-notices", service="drive")
def get_notices(file_ids: list[str]) -> list[DriveFile]:
    """A batch's notices as they are now (name, md5), from their ids; a file gone since the listing is left out
    (another run moved it, or a person took it away): nothing to file."""
    from mailroom.errors import NotFoundError

    drive, found = services().drive, []
    for file_id in file_ids:
        try:
            found.append(drive.get(file_id))
        except NotFoundError:
            continue
    return found


_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")


def download_path(file_id: str) -> Path:
    """Where a notice's bytes live while it is worked on: the run's private (0700) directory.

    Named by the Drive file id, never by the file's name (which anyone dropping a file chooses); an id that is not
    Drive-shaped is refused rather than allowed to name a path.
    """
    if not _SAFE_ID.fullmatch(file_id):
        raise PermanentError("drive file id is not a plain id: refused as a download name", service="drive",
                             operation="download", reason="unsafe_file_id")
    return services().workdir / f"{file_id}.pdf"


def forget_download(file_id: str) -> None:
    """Delete a notice's bytes (and a recompressed copy: it holds the SSN too) once its row is written."""
    try:
        path = download_path(file_id)
    except PermanentError:  # an id refused as a file name: nothing was ever written under it
        return
    path.unlink(missing_ok=True)
    path.with_name(path.stem + ".fitted.pdf").unlink(missing_ok=True)


@service_task(name="download-notice", service="drive")
def download_notice(file_id: str) -> Path:
    """Chunked download into the run's private directory; the client verifies the md5 (mismatch is TRANSIENT)."""
    dest = download_path(file_id)
    services().drive.download(file_id, dest)
    return dest


@service_task(name="move-notice", service="drive")
def move_notice(key: NoticeKey, outcome: Outcome, to_folder_id: str, reason: str = "") -> None:
    """Move to the outcome folder and finish the notice in the ledger.

    Idempotent (same target, same result), so retries are safe; a MATCHED move is refused until the document and
    the task are confirmed, so the MATCHED folder never holds a notice whose filing is unconfirmed.
    """
    current = services()
    ensure_moved(current.ledger, current.drive, key, owner=current.owner, outcome=outcome, to_folder_id=to_folder_id,
                 reason=reason, lease_seconds=current.settings.lease_seconds)


@task(name="reconcile-unfinished", tags=["drive"], retries=0, cache_policy=NO_CACHE, persist_result=False)
def reconcile_unfinished(listed: list[str], input_folders: list[str]) -> list[ReportRow]:
    """Finish the ledger rows earlier runs left unfinished whose file is no longer in an input folder (see
    mailroom.reconcile); their rows join this run's report. Not retried: a row it could not settle waits for the
    next run, and a retry could not report the rows an earlier attempt settled."""
    current = services()
    s = current.settings

    def move_aside(record, folder_id: str, reason: str) -> None:  # noqa: ANN001 - a NoticeRecord
        ensure_moved(current.ledger, current.drive, record.key, owner=current.owner, outcome=Outcome.UNMATCHED,
                     to_folder_id=folder_id, reason=reason, lease_seconds=s.lease_seconds)

    reconciler = Reconciler(current.ledger, current.owner, s.matched_folder_id, s.unmatched_folder_id,
                            s.lease_seconds, drive=current.intake.drive)
    return reconciler.reconcile(current.drive.get, listed=listed, input_folders=input_folders, move=move_aside,
                                log=get_run_logger())


@service_task(name="upload-report", service="drive")
def upload_report(path: Path, parent_id: str, mime_type: str) -> DriveFile:
    return services().drive.upload(path, parent_id=parent_id, name=path.name, mime_type=mime_type)
