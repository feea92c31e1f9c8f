"""Google Drive verbs of the daily flow. Every call goes through the resilience policy inside ``DriveClient``."""

from __future__ import annotations

from pathlib import Path

from mailroom.drive import DriveFile
from mailroom.effects import ensure_moved
from mailroom.errors import ConfigurationError, NotFoundError
from mailroom.ledger import NoticeKey
from mailroom.outcomes import Outcome
from tasks.context import services
from tasks.retry import service_task


@service_task(name="check-folders", service="drive")
def check_folders(folders: dict[str, str]) -> None:
    """Every folder the run needs exists and is visible, or one ConfigurationError names each one that is not.

    ``folders`` maps where the id came from (a setting or parameter name) to the id, so the message says what to fix.
    """
    drive = services().drive
    missing = []
    for source, folder_id in folders.items():
        try:
            drive.get(folder_id)
        except NotFoundError:
            missing.append(f"{source} {folder_id!r}")
    if missing:
        raise ConfigurationError(
            "Drive folder not found (or not shared with the service account): " + ", ".join(missing),
            service="drive", operation="check-folders",
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


def download_path(file_id: str) -> Path:
    """Where a notice's bytes live while it is worked on: the run's private (0700) directory."""
    return services().workdir / f"{file_id}.pdf"


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


@service_task(name="upload-report", service="drive")
def upload_report(path: Path, parent_id: str, mime_type: str) -> DriveFile:
    return services().drive.upload(path, parent_id=parent_id, name=path.name, mime_type=mime_type)
