"""The Drive emulator's state: files and folders, their bytes, listing with stable paging, resumable sessions.

Metadata lives in memory; file bytes live in a directory (one file per Drive id), so a 1,000-notice sandbox costs
disk, not RAM. Every method takes one lock: the HTTP server is threaded and the pipeline moves files while it lists.

Failures are raised as :class:`DriveApiError`, which carries Google's JSON error shape so the server only renders it.
"""

from __future__ import annotations

import functools
import hashlib
import random
import string
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from mailroom_sandbox.drive.query import compare_keys, decode_page_token, encode_page_token, parse_order_by, sort_key

FOLDER_MIME = "application/vnd.google-apps.folder"
_ID_ALPHABET = string.ascii_letters + string.digits + "-_"
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
        return data


@dataclass
class UploadSession:
    metadata: dict[str, Any]
    mime_type: str
    total: int | None
    received: bytearray = field(default_factory=bytearray)
    file_id: str | None = None  # set once complete: a status query after a lost final response returns the file


class DriveStore:
    def __init__(
        self,
        content_dir: Path,
        *,
        quota_bytes: int | None = None,
        seed: int = 0,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.content_dir = Path(content_dir)
        self.content_dir.mkdir(parents=True, exist_ok=True)
        self.quota_bytes = quota_bytes
        self._clock = clock
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._files: dict[str, StoredFile] = {}
        self._sessions: dict[str, UploadSession] = {}
        self._reserved_ids: set[str] = set()  # handed out by files.generateIds, usable once in a create
        self.usage_bytes = 0
        self.counters = {"files_created": 0, "folders_created": 0, "updates": 0, "uploads_completed": 0}
        self.root_id = self._insert("My Drive", FOLDER_MIME, [], self._clock()).id

    # --- identity and lookup ----------------------------------------------------------------------------
    def _new_id(self, length: int = 33) -> str:
        return "1" + "".join(self._rng.choice(_ID_ALPHABET) for _ in range(length - 1))

    def resolve(self, file_id: str) -> str:
        return self.root_id if file_id == "root" else file_id

    def get(self, file_id: str) -> StoredFile:
        with self._lock:
            stored = self._files.get(self.resolve(file_id))
            if stored is None:
                raise not_found(file_id)
            return stored

    def read(self, file_id: str, start: int, end: int) -> bytes:
        """Bytes ``start..end`` inclusive (the caller has already clamped them to the size)."""
        stored = self.get(file_id)
        with open(self.content_dir / stored.id, "rb") as handle:
            handle.seek(start)
            return handle.read(end - start + 1)

    def files_in(self, folder_id: str) -> list[StoredFile]:
        folder_id = self.resolve(folder_id)
        with self._lock:
            return sorted(  # copies: callers on other threads must not see (or make) half-done changes
                (replace(f, parents=list(f.parents)) for f in self._files.values()
                 if folder_id in f.parents and not f.trashed),
                key=lambda f: (f.created_time, f.id),
            )

    def summary(self) -> dict[str, int]:
        with self._lock:
            items = [f for f in self._files.values() if f.id != self.root_id]
            return {
                **self.counters,
                "files": sum(1 for f in items if not f.is_folder),
                "folders": sum(1 for f in items if f.is_folder),
                "bytes_stored": self.usage_bytes,
                "open_upload_sessions": sum(1 for u in self._sessions.values() if u.file_id is None),
            }

    # --- writes -------------------------------------------------------------------------------------------
    def generate_ids(self, count: int) -> list[str]:
        with self._lock:
            ids = [self._new_id() for _ in range(count)]
            self._reserved_ids.update(ids)
            return ids

    def _claim_id(self, file_id: str | None) -> str:
        """A client-chosen id makes a create idempotent: the second create with it gets 409 instead of a copy."""
        if file_id is None:
            return self._new_id()
        if file_id in self._files:
            raise DriveApiError(409, "duplicate", "A file already exists with the provided ID.", location="id")
        if file_id not in self._reserved_ids:
            raise DriveApiError(400, "invalid", "The provided file ID is not usable.", location="id")
        self._reserved_ids.discard(file_id)
        return file_id

    def _insert(
        self, name: str, mime_type: str, parents: list[str], created: datetime, file_id: str | None = None
    ) -> StoredFile:
        stored = StoredFile(self._claim_id(file_id), name, mime_type, parents, created, created)
        self._files[stored.id] = stored
        return stored

    def _writable_parents(self, parent_ids: Iterable[str] | None) -> list[str]:
        parents = [self.resolve(p) for p in (parent_ids or [self.root_id])]
        for parent_id in parents:
            parent = self._files.get(parent_id)
            if parent is None:
                raise not_found(parent_id)
            if not parent.is_folder:
                raise DriveApiError(400, "invalid", "The specified parent is not a folder.", location="parents")
            if parent.read_only:
                raise _insufficient_permissions()
        return parents

    def create_folder(
        self, name: str, parent_ids: Iterable[str] | None = None, *, file_id: str | None = None
    ) -> StoredFile:
        with self._lock:
            parents = self._writable_parents(parent_ids)
            stored = self._insert(name, FOLDER_MIME, parents, self._clock(), file_id)
            self.counters["folders_created"] += 1
            return stored

    def create_file(
        self,
        name: str,
        parent_ids: Iterable[str] | None,
        content: bytes,
        mime_type: str = "application/pdf",
        created_time: datetime | None = None,
        *,
        file_id: str | None = None,
    ) -> StoredFile:
        with self._lock:
            parents = self._writable_parents(parent_ids)
            if self.quota_bytes is not None and self.usage_bytes + len(content) > self.quota_bytes:
                raise DriveApiError(403, "storageQuotaExceeded", "The user's Drive storage quota has been exceeded.")
            stored = self._insert(name, mime_type, parents, created_time or self._clock(), file_id)
            (self.content_dir / stored.id).write_bytes(content)
            stored.size = len(content)
            stored.md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
            self.usage_bytes += len(content)
            self.counters["files_created"] += 1
            return stored

    def update(
        self,
        file_id: str,
        *,
        name: str | None = None,
        add_parents: Iterable[str] = (),
        remove_parents: Iterable[str] = (),
        trashed: bool | None = None,
    ) -> StoredFile:
        with self._lock:
            stored = self.get(file_id)
            adding = [self.resolve(p) for p in add_parents]
            removing = [self.resolve(p) for p in remove_parents if self.resolve(p) in stored.parents]
            if stored.read_only or any(self._files[p].read_only for p in removing if p in self._files):
                raise _insufficient_permissions()
            self._writable_parents(adding) if adding else None
            new_parents = [p for p in stored.parents if p not in removing]
            new_parents += [p for p in adding if p not in new_parents]
            if not new_parents:  # Drive v3 keeps every item somewhere; an orphaning removal is rejected
                raise DriveApiError(400, "invalid", "A file must have at least one parent.", location="removeParents")
            stored.parents = new_parents
            if name is not None:
                stored.name = name
            if trashed is not None:
                stored.trashed = trashed
            stored.modified_time = self._clock()
            self.counters["updates"] += 1
            return stored

    def set_read_only(self, file_id: str, read_only: bool = True) -> None:
        with self._lock:
            self.get(file_id).read_only = read_only

    # --- listing --------------------------------------------------------------------------------------------
    def list(
        self,
        predicate: Callable[[StoredFile], bool],
        *,
        order_by: str | None,
        page_size: int,
        page_token: str | None,
        query_fingerprint: str,
    ) -> tuple[list[StoredFile], str | None]:
        """One page of matches in a stable order, resuming *after* the last item of the previous page.

        The token remembers the last sort key rather than an offset, so files moved out of a folder between pages
        (the pipeline files notices while it lists) never make the listing skip a file that is still there.
        """
        order = parse_order_by(order_by)
        compare = functools.partial(compare_keys, order)
        fingerprint = hashlib.sha1(f"{query_fingerprint}|{order_by}".encode()).hexdigest()[:12]
        with self._lock:
            matches = [f for f in self._files.values() if f.id != self.root_id and predicate(f)]
            keyed = sorted(((sort_key(f, order), f) for f in matches), key=functools.cmp_to_key(
                lambda a, b: compare(a[0], b[0])
            ))
        if page_token:
            last_key = decode_page_token(page_token, fingerprint)
            keyed = [(key, f) for key, f in keyed if compare(key, last_key) > 0]
        page = keyed[:page_size]
        next_token = None
        if len(keyed) > page_size:
            next_token = encode_page_token(page[-1][0], fingerprint)
        return [f for _, f in page], next_token

    # --- resumable uploads ------------------------------------------------------------------------------------
    def start_upload(self, metadata: dict[str, Any], mime_type: str, total: int | None) -> str:
        with self._lock:
            self._writable_parents(metadata.get("parents"))
            if self.quota_bytes is not None and total is not None and self.usage_bytes + total > self.quota_bytes:
                raise DriveApiError(403, "storageQuotaExceeded", "The user's Drive storage quota has been exceeded.")
            session_id = "".join(self._rng.choice(_ID_ALPHABET) for _ in range(40))
            self._sessions[session_id] = UploadSession(metadata, mime_type, total)
            return session_id

    def session(self, session_id: str) -> UploadSession:
        with self._lock:
            upload = self._sessions.get(session_id)
            if upload is None:
                raise DriveApiError(404, "notFound", "Upload session not found.", location="upload_id")
            return upload

    def put_chunk(self, session_id: str, start: int, data: bytes, total: int | None) -> UploadSession:
        """Append a chunk; bytes the session already holds are ignored (a client re-sending after a reset)."""
        with self._lock:
            upload = self.session(session_id)
            if upload.file_id is not None:
                return upload
            if start > len(upload.received):
                raise DriveApiError(400, "badRequest", "Invalid Content-Range: upload offset does not match.")
            upload.received += data[len(upload.received) - start :]
            if total is not None:
                upload.total = total
            if upload.total is not None and len(upload.received) >= upload.total:
                meta = upload.metadata
                stored = self.create_file(
                    str(meta.get("name") or "Untitled"),
                    meta.get("parents"),
                    bytes(upload.received[: upload.total]),
                    str(meta.get("mimeType") or upload.mime_type or "application/octet-stream"),
                    file_id=meta.get("id"),
                )
                upload.file_id = stored.id
                upload.received = bytearray()  # the bytes now live in the store
                self.counters["uploads_completed"] += 1
            return upload


def _insufficient_permissions() -> DriveApiError:
    return DriveApiError(403, "insufficientFilePermissions", "The user does not have sufficient permissions for this file.")
