"""The Drive emulator's resources in Drive's shapes: files, shared drives, resumable sessions, and API errors.

Split from ``store`` (which re-exports every name) so each module stays readable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

FOLDER_MIME = "application/vnd.google-apps.folder"
# Fields a v3 File resource can be asked for through `fields=` (Drive rejects unknown ones with 400).
FILE_RESOURCE_FIELDS = {
    "kind", "id", "name", "mimeType", "parents", "createdTime", "modifiedTime", "trashed", "md5Checksum", "size",
    "description", "starred", "explicitlyTrashed", "version", "webViewLink", "webContentLink", "owners",
    "capabilities", "fileExtension", "originalFilename", "fullFileExtension", "quotaBytesUsed", "headRevisionId",
    "driveId", "sha1Checksum", "sha256Checksum", "iconLink", "thumbnailLink", "viewedByMeTime", "shared",
}
_USAGE_LIMITS_REASONS = {"userRateLimitExceeded", "rateLimitExceeded", "storageQuotaExceeded", "dailyLimitExceeded"}


class DriveApiError(Exception):
    """A Drive API failure in Google's shape: ``error.code``, ``error.message``, ``error.errors[0].reason``."""

    def __init__(self, status: int, reason: str, message: str, *, location: str | None = None) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.message = message
        self.location = location

    def body(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "domain": "usageLimits" if self.reason in _USAGE_LIMITS_REASONS else "global",
            "reason": self.reason,
            "message": self.message,
        }
        if self.location:
            detail.update(location=self.location, locationType="parameter")
        return {"error": {"code": self.status, "message": self.message, "errors": [detail]}}


def not_found(file_id: str) -> DriveApiError:
    return DriveApiError(404, "notFound", f"File not found: {file_id}.", location="fileId")


def invalid(location: str, message: str = "Invalid Value") -> DriveApiError:
    return DriveApiError(400, "invalid", message, location=location)


def cannot_add_parent() -> DriveApiError:
    """Since 2020 an item has one parent; Drive refuses a second one with this 403 (message as integrators quote it)."""
    return DriveApiError(403, "cannotAddParent", "Increasing the number of parents is not allowed.")


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class StoredFile:
    id: str
    name: str
    mime_type: str
    parents: list[str]
    created_time: datetime
    modified_time: datetime
    trashed: bool = False
    size: int | None = None
    md5: str | None = None
    read_only: bool = False  # the service account may read but not change it (or, for a folder, its children)
    drive_id: str | None = None  # the shared drive it lives in; None: My Drive

    @property
    def is_folder(self) -> bool:
        return self.mime_type == FOLDER_MIME

    def resource(self) -> dict[str, Any]:
        """The full v3 File resource; the server projects it through ``fields``."""
        data: dict[str, Any] = {
            "kind": "drive#file",
            "id": self.id,
            "name": self.name,
            "mimeType": self.mime_type,
            "parents": list(self.parents),
            "createdTime": _rfc3339(self.created_time),
            "modifiedTime": _rfc3339(self.modified_time),
            "trashed": self.trashed,
            "capabilities": {"canEdit": not self.read_only, "canAddChildren": self.is_folder and not self.read_only},
        }
        if not self.is_folder:
            data.update(md5Checksum=self.md5, size=str(self.size))  # Drive sends int64 as a JSON string
        if self.drive_id is not None:
            data["driveId"] = self.drive_id  # "Only populated for items in shared drives" (v3 File resource)
        return data


@dataclass
class SharedDrive:
    id: str  # also the id of its root folder, which has no parent
    name: str
    created_time: datetime

    def resource(self) -> dict[str, Any]:
        return {"kind": "drive#drive", "id": self.id, "name": self.name, "createdTime": _rfc3339(self.created_time),
                "hidden": False}


@dataclass
class UploadSession:
    metadata: dict[str, Any]
    mime_type: str
    total: int | None
    received: bytearray = field(default_factory=bytearray)
    file_id: str | None = None  # set once complete: a status query after a lost final response returns the file


def insufficient_permissions() -> DriveApiError:
    return DriveApiError(403, "insufficientFilePermissions", "The user does not have sufficient permissions for this file.")
