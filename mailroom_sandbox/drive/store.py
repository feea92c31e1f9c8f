"""The Drive emulator's state: files and folders, their bytes, listing with stable paging, resumable sessions.

Metadata lives in memory; file bytes live in a directory (one file per Drive id), so a 1,000-notice sandbox costs
disk, not RAM. Every method takes one lock: the HTTP server is threaded and the pipeline moves files while it lists.

Failures are raised as :class:`DriveApiError`, which carries Google's JSON error shape so the server only renders it.

Drive's rules the store enforces (sources in docs/sandbox-drive.md): an item has exactly one parent (a create with
two, or an ``addParents`` that is not a move, is 403 ``cannotAddParent``); shared drives hold items whose
``driveId`` is the drive's id, the drive's id being also its root folder's; listings may lag behind writes
(``consistency.ListingLag``).
"""

from __future__ import annotations

import functools
import hashlib
import random
import string
import threading
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from mailroom_sandbox.drive.consistency import ListingLag
from mailroom_sandbox.drive.resources import (  # noqa: F401 - re-exported: the server and tests import them from here
    FILE_RESOURCE_FIELDS,
    FOLDER_MIME,
    DriveApiError,
    SharedDrive,
    StoredFile,
    UploadSession,
    cannot_add_parent,
    insufficient_permissions,
    invalid,
    not_found,
)
from mailroom_sandbox.drive.query import compare_keys, decode_page_token, encode_page_token, parse_order_by, sort_key

_ID_ALPHABET = string.ascii_letters + string.digits + "-_"


class DriveStore:
    def __init__(
        self,
        content_dir: Path,
        *,
        quota_bytes: int | None = None,
        seed: int = 0,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        listing_lag: ListingLag | None = None,
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
        self.shared_drives: dict[str, SharedDrive] = {}
        self.lag = listing_lag or ListingLag()
        self.usage_bytes = 0
        self.counters = {"files_created": 0, "folders_created": 0, "updates": 0, "uploads_completed": 0,
                         "single_parent_violations": 0}
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
                "shared_drives": len(self.shared_drives),
                "listing_lag_seconds": self.lag.seconds,
                "listing_pending": self.lag.pending(),
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
        drive_id = self._files[parents[0]].drive_id if parents else None
        stored = StoredFile(self._claim_id(file_id), name, mime_type, parents, created, created, drive_id=drive_id)
        self._files[stored.id] = stored
        return stored

    def _refuse_second_parent(self) -> DriveApiError:
        self.counters["single_parent_violations"] += 1
        return cannot_add_parent()

    def _writable_parents(self, parent_ids: Iterable[str] | None, *, single: bool = True) -> list[str]:
        parents = [self.resolve(p) for p in (parent_ids or [self.root_id])]
        if single and len(set(parents)) > 1:
            raise self._refuse_second_parent()
        for parent_id in parents:
            parent = self._files.get(parent_id)
            if parent is None:
                raise not_found(parent_id)
            if not parent.is_folder:
                raise DriveApiError(400, "invalid", "The specified parent is not a folder.", location="parents")
            if parent.read_only:
                raise insufficient_permissions()
        return parents

    def create_folder(
        self, name: str, parent_ids: Iterable[str] | None = None, *, file_id: str | None = None
    ) -> StoredFile:
        with self._lock:
            parents = self._writable_parents(parent_ids)
            stored = self._insert(name, FOLDER_MIME, parents, self._clock(), file_id)
            self.counters["folders_created"] += 1
            self.lag.written(None, stored)
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
            self.lag.written(None, stored)
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
            before = replace(stored, parents=list(stored.parents))
            adding = [self.resolve(p) for p in add_parents]
            removing = [self.resolve(p) for p in remove_parents if self.resolve(p) in stored.parents]
            if stored.read_only or any(self._files[p].read_only for p in removing if p in self._files):
                raise insufficient_permissions()
            self._writable_parents(adding, single=False) if adding else None
            new_parents = [p for p in stored.parents if p not in removing]
            new_parents += [p for p in adding if p not in new_parents]
            if len(new_parents) > max(1, len(stored.parents)):  # adding without removing: not a move
                raise self._refuse_second_parent()
            if not new_parents:  # Drive v3 keeps every item somewhere; an orphaning removal is rejected
                raise DriveApiError(400, "invalid", "A file must have at least one parent.", location="removeParents")
            stored.parents = new_parents
            if name is not None:
                stored.name = name
            if trashed is not None:
                stored.trashed = trashed
            stored.modified_time = self._clock()
            self.counters["updates"] += 1
            new_drive = self._files[new_parents[0]].drive_id
            if new_drive != stored.drive_id:
                self._move_to_drive(stored, new_drive)
            self.lag.written(before, stored)
            return stored

    def _move_to_drive(self, moved: StoredFile, drive_id: str | None) -> None:
        """An item moved into (or out of) a shared drive takes its subtree along."""
        subtree, frontier = [moved], [moved.id]
        while frontier:
            parent = frontier.pop()
            children = [f for f in self._files.values() if parent in f.parents]
            subtree += children
            frontier += [c.id for c in children if c.is_folder]
        for item in subtree:
            item.drive_id = drive_id

    def add_legacy_parent(self, file_id: str, folder_id: str) -> None:
        """Seeding only: give a file a second parent the way pre-2020 Drive allowed (the API refuses it now)."""
        with self._lock:
            stored, folder = self.get(file_id), self.get(folder_id)
            if not folder.is_folder:
                raise ValueError("a parent must be a folder")
            stored.parents.append(folder.id)

    def create_shared_drive(self, name: str) -> SharedDrive:
        """A shared drive and its root folder (same id, no parent); the service account is a member (organizer)."""
        with self._lock:
            created = self._clock()
            root = self._insert(name, FOLDER_MIME, [], created)
            root.drive_id = root.id
            drive = self.shared_drives[root.id] = SharedDrive(root.id, name, created)
            return drive

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
            indexed = self.lag.visible(f for f in self._files.values() if f.id != self.root_id)
            matches = [f for f in indexed if f.id not in self.shared_drives and predicate(f)]
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
            self._writable_parents(metadata.get("parents"))  # refused now, not after the bytes were sent
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
