"""Shared drives as the Drive v3 API exposes them to an app, and the drives.get / drives.list routes.

What an app must send, per Google's "Implement shared drive support" guide and the v3 discovery document
(docs/sandbox-drive.md lists the sources and which rules are assumed):

* ``supportsAllDrives=true`` on files.get / create / update / list (and uploads): without it, an item in a shared
  drive does not exist for the request (404 ``notFound``, also for a shared-drive folder named as a parent).
* files.list returns shared-drive items only with ``includeItemsFromAllDrives=true`` (and ``supportsAllDrives``).
* ``corpora``: ``user`` (default: My Drive plus, when included, the shared drives the account is a member of),
  ``drive`` (one shared drive, named by ``driveId``), ``allDrives``; ``domain`` is read as ``user`` (one account).
  ``driveId`` is required with ``corpora=drive`` and only then; ``drive``/``allDrives`` need
  ``includeItemsFromAllDrives=true``.
"""

from __future__ import annotations

import base64
from typing import Callable

from mailroom_sandbox.drive.query import apply_fields, check_fields, parse_fields
from mailroom_sandbox.drive.resources import DriveApiError, SharedDrive, StoredFile, invalid, not_found
from mailroom_sandbox.http.core import Request, Response

CORPORA = ("user", "domain", "drive", "allDrives")
_DRIVE_FIELDS = {"kind", "id", "name", "createdTime", "hidden", "colorRgb", "backgroundImageLink", "capabilities",
                 "restrictions", "themeId", "orgUnitId"}


def flag(request: Request, name: str) -> bool:
    """A boolean query parameter as Google reads it (``true``/``false``, any case)."""
    return (request.query_value(name) or "").strip().lower() == "true"


def supports_all_drives(request: Request) -> bool:
    return flag(request, "supportsAllDrives") or flag(request, "supportsTeamDrives")  # the deprecated spelling too


def require_visible(stored: StoredFile, request: Request, asked_as: str | None = None) -> StoredFile:
    """The item, or 404 as Drive answers an app that did not say it supports shared drives."""
    if stored.drive_id is not None and not supports_all_drives(request):
        raise not_found(asked_as or stored.id)
    return stored


def list_scope(request: Request, shared_drives: dict[str, SharedDrive]) -> Callable[[StoredFile], bool]:
    """Which items a files.list request searches, from corpora / driveId / includeItemsFromAllDrives."""
    corpora = request.query_value("corpora") or "user"
    drive_id = request.query_value("driveId") or request.query_value("teamDriveId")
    include = (flag(request, "includeItemsFromAllDrives") or flag(request, "includeTeamDriveItems"))
    if corpora not in CORPORA:
        raise invalid("corpora")
    if (corpora == "drive") != (drive_id is not None):
        raise DriveApiError(400, "invalid", "The driveId parameter must be specified if and only if corpora is set "
                            "to drive.", location="driveId")
    if corpora in ("drive", "allDrives") and not include:
        raise DriveApiError(403, "teamDriveIncludeItemsRequired", "The includeItemsFromAllDrives parameter must be "
                            f"set to true when corpora is set to {corpora}.", location="includeItemsFromAllDrives")
    shared = include and supports_all_drives(request)
    if drive_id is not None:
        if drive_id not in shared_drives or not shared:
            raise DriveApiError(404, "notFound", f"Shared drive not found: {drive_id}", location="driveId")
        return lambda f: f.drive_id == drive_id
    return lambda f: f.drive_id is None or shared


def drives_get(request: Request, shared_drives: dict[str, SharedDrive]) -> Response:
    drive = shared_drives.get(request.path_params["driveId"])
    if drive is None:
        raise DriveApiError(404, "notFound", f"Shared drive not found: {request.path_params['driveId']}",
                            location="driveId")
    fields = parse_fields(request.query_value("fields") or "kind,id,name")
    check_fields(fields, {name: None for name in _DRIVE_FIELDS})
    return Response.json(apply_fields(drive.resource(), fields))


def drives_list(request: Request, shared_drives: dict[str, SharedDrive]) -> Response:
    """The shared drives the account is a member of (all of them here), oldest first, at most 100 a page."""
    if request.query_value("q"):
        raise DriveApiError(400, "invalid", "Searching shared drives (q) is not emulated.", location="q")
    try:
        page_size = int(request.query_value("pageSize") or 10)
        start = int(base64.urlsafe_b64decode(request.query_value("pageToken") or "MA==").decode() or 0)
    except ValueError as exc:
        raise invalid("pageToken") from exc
    if not 1 <= page_size <= 100:
        raise invalid("pageSize")
    drives = sorted(shared_drives.values(), key=lambda d: (d.created_time, d.id))
    page = drives[start : start + page_size]
    body: dict = {"kind": "drive#driveList", "drives": [d.resource() for d in page]}
    if start + page_size < len(drives):
        body["nextPageToken"] = base64.urlsafe_b64encode(str(start + page_size).encode()).decode()
    fields = parse_fields(request.query_value("fields") or "kind,nextPageToken,drives(kind,id,name)")
    check_fields(fields, {"kind": None, "nextPageToken": None, "drives": _DRIVE_FIELDS})
    return Response.json(apply_fields(body, fields))
