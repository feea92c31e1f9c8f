"""Google Drive v3 operations the pipeline needs, over google-api-python-client.

Every request goes through ``ResiliencePolicy(service="drive").call`` and is executed with ``num_retries=0``:
googleapiclient's own retry loop would multiply ours and hide the attempts from our metrics. Inside the policy, each
request runs under ``mailroom.drive_errors.google_errors``, so Google's exceptions leave this module as
``mailroom.errors`` classes and the policy never needs to know googleapiclient.

Design choices that are not obvious:
* Folder names are matched here, not with ``name contains``: Drive's ``contains`` on names is a word-*prefix*
  match, so ``name contains 'CP2000'`` would miss ``Notices_CP2000``.
* Downloads and uploads are chunked and each chunk is its own resilient call. A failed download chunk is simply
  asked for again (``Range``); a failed upload chunk makes googleapiclient ask the session how much it holds and
  resume from there, and a lost final response is answered by that same query -- so a resumable upload is safe to
  retry without creating a second file.
* httplib2 is not thread-safe; each thread gets its own authorized connection (Google's documented pattern).
* Shared drives: every request says ``supportsAllDrives=true`` (else a shared-drive item is a 404), listings add
  ``includeItemsFromAllDrives=true``, and a shared-drive folder's children are listed with ``corpora=drive`` +
  ``driveId`` (the folder's drive is remembered from the ``driveId`` Drive reports with it: no extra call).
* Listings lag behind writes; ``files.get`` does not. No write is decided from a listing: a move reads the current
  parents with ``files.get`` and checks the parents the update answers with (docs/sandbox-drive.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Collection, Iterable, Sequence
from urllib.parse import urlsplit

import google_auth_httplib2
from google.oauth2 import service_account
from googleapiclient import discovery_cache
from googleapiclient.discovery import build_from_document
from googleapiclient.http import HttpRequest, MediaFileUpload, MediaIoBaseDownload, build_http
from pydantic import BaseModel, ConfigDict, Field

from mailroom.drive_errors import google_errors
from mailroom.errors import PermanentError, TransientError

if TYPE_CHECKING:
    from mailroom.resilience import ResiliencePolicy

logger = logging.getLogger(__name__)

DRIVE_SCOPES = ("https://www.googleapis.com/auth/drive",)
FOLDER_MIME = "application/vnd.google-apps.folder"
PDF_MIME = "application/pdf"
FILE_FIELDS = "id,name,mimeType,parents,md5Checksum,size,createdTime,driveId"
PAGE_SIZE = 1000  # Drive's maximum: fewest round trips
DEFAULT_CHUNK = 256 * 1024
DEFAULT_UPLOAD_CHUNK = 8 * 256 * 1024  # resumable chunks must be multiples of 256 KiB


class DriveFile(BaseModel):
    """A Drive file or folder as the pipeline sees it. The name stays out of repr: names carry taxpayer names."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str = Field(repr=False)
    mime_type: str
    parents: list[str] = Field(default_factory=list)
    md5: str | None = None
    size: int | None = None
    created_time: datetime | None = None
    drive_id: str | None = None  # the shared drive it lives in; None: My Drive

    @property
    def is_folder(self) -> bool:
        return self.mime_type == FOLDER_MIME

    @property
    def is_pdf(self) -> bool:
        return self.mime_type == PDF_MIME or self.name.lower().endswith(".pdf")

    @classmethod
    def from_api(cls, resource: dict[str, Any]) -> "DriveFile":
        size = resource.get("size")
        return cls(
            id=resource["id"],
            name=resource.get("name", ""),
            mime_type=resource.get("mimeType", ""),
            parents=list(resource.get("parents") or []),
            md5=resource.get("md5Checksum"),
            size=int(size) if size is not None else None,
            created_time=resource.get("createdTime"),
            drive_id=resource.get("driveId"),
        )


class DriveAccess(BaseModel):
    """What the service account may do with a file or folder (Drive's ``capabilities``) and where it lives
    (``driveId``: set for an item in a shared drive). Read by ``python -m mailroom doctor``; nothing is written."""

    id: str
    mime_type: str
    trashed: bool = False
    drive_id: str | None = None
    capabilities: dict[str, bool] = Field(default_factory=dict)

    @property
    def is_folder(self) -> bool:
        return self.mime_type == FOLDER_MIME


def quote(value: str) -> str:
    """A ``q`` string literal: Drive wants ``\\'`` and ``\\\\`` escaped inside single quotes."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class _ThreadLocalHttp:
    """One authorized httplib2 connection per thread, all sharing the same service-account credentials."""

    def __init__(self, credentials: Any, timeout: float) -> None:
        self._credentials = credentials
        self._timeout = timeout
        self._local = threading.local()

    def http(self) -> google_auth_httplib2.AuthorizedHttp:
        http = getattr(self._local, "http", None)
        if http is None:
            transport = build_http()  # excludes 308 from redirects: Drive uses it for resumable uploads
            transport.timeout = self._timeout
            http = google_auth_httplib2.AuthorizedHttp(self._credentials, http=transport)
            self._local.http = http
        return http

    def request_builder(self, _http: Any, *args: Any, **kwargs: Any) -> HttpRequest:
        return HttpRequest(self.http(), *args, **kwargs)


def _service_base(api_endpoint: str) -> str:
    """Accept a bare origin (``http://127.0.0.1:8080``) or a full base (``.../drive/v3/``)."""
    parts = urlsplit(api_endpoint)
    path = parts.path if parts.path.strip("/") else "/drive/v3/"
    return f"{parts.scheme}://{parts.netloc}{path.rstrip('/')}/"


def build_drive_service(
    service_account_info: dict[str, Any],
    *,
    api_endpoint: str | None = None,
    timeout: float = 60.0,
    scopes: Sequence[str] = DRIVE_SCOPES,
) -> Any:
    """A Drive v3 Resource from the bundled (static) discovery document and service-account credentials.

    With ``api_endpoint`` the document's ``rootUrl`` is rewritten too: googleapiclient only swaps the *host* of
    media-upload URLs when ``api_endpoint`` is set, keeping ``https`` -- uploads to an ``http`` endpoint (the
    sandbox) would otherwise fail. ``token_uri`` comes from the info dict.
    """
    credentials = service_account.Credentials.from_service_account_info(service_account_info, scopes=list(scopes))
    document = json.loads(discovery_cache.get_static_doc("drive", "v3"))
    client_options = None
    if api_endpoint:
        base = _service_base(api_endpoint)
        parts = urlsplit(base)
        document["rootUrl"] = f"{parts.scheme}://{parts.netloc}/"
        client_options = {"api_endpoint": base}
    connections = _ThreadLocalHttp(credentials, timeout)
    return build_from_document(
        document,
        http=connections.http(),
        requestBuilder=connections.request_builder,
        client_options=client_options,
    )


class _HashingWriter:
    """File sink for MediaIoBaseDownload that hashes what it writes (no second read of the file)."""

    def __init__(self, handle: Any, digest: Any) -> None:
        self._handle = handle
        self._digest = digest

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        return self._handle.write(data)


class DriveClient:
    def __init__(self, service: Any, *, policy: "ResiliencePolicy | None" = None) -> None:
        if policy is None:
            from mailroom.resilience import ResiliencePolicy  # deferred: the resilience layer imports much more

            policy = ResiliencePolicy(service="drive")
        self._service = service
        self._policy = policy
        self._folder_drives: dict[str, str | None] = {}  # folder id -> its shared drive (None: My Drive), as seen

    # --- plumbing ---------------------------------------------------------------------------------------------
    def _call(self, step: Callable[..., Any], *, operation: str, idempotent: bool) -> Any:
        """One Drive request (``execute`` or a media ``next_chunk``) through the policy, Google's errors mapped."""

        def attempt() -> Any:
            with google_errors(idempotent=idempotent, now=self._policy.clock.time):
                return step(num_retries=0)

        return self._policy.call(attempt, operation=operation, idempotent=idempotent)

    def _execute(self, request: Any, *, operation: str, idempotent: bool = True) -> Any:
        return self._call(request.execute, operation=operation, idempotent=idempotent)

    def _list_all(self, q: str, *, order_by: str = "createdTime", in_folder: str | None = None) -> list[DriveFile]:
        """Every match, page by page. ``in_folder``: the query is about that folder's children, so a folder in a
        shared drive is searched in that drive alone (``corpora=drive``)."""
        drive_id = self._drive_of(in_folder) if in_folder is not None else None
        scope: dict[str, Any] = {"corpora": "drive", "driveId": drive_id} if drive_id else {}
        files: list[DriveFile] = []
        page_token: str | None = None
        while True:
            request = self._service.files().list(
                q=q,
                pageSize=PAGE_SIZE,
                pageToken=page_token,
                orderBy=order_by,
                fields=f"nextPageToken,incompleteSearch,files({FILE_FIELDS})",
                supportsAllDrives=True,
                includeItemsFromAllDrives=True,
                **scope,
            )
            page = self._execute(request, operation="drive.list")
            if page.get("incompleteSearch"):
                logger.warning("Drive says a listing was incomplete (in folder %s): the next run lists again", in_folder)
            files.extend(self._seen(DriveFile.from_api(item)) for item in page.get("files", []))
            page_token = page.get("nextPageToken")
            if not page_token:
                return files

    def _seen(self, file: DriveFile) -> DriveFile:
        if file.is_folder:
            self._folder_drives[file.id] = file.drive_id
        return file

    def _drive_of(self, folder_id: str) -> str | None:
        """The shared drive a folder lives in (None: My Drive): remembered from any answer about it, else asked."""
        if folder_id not in self._folder_drives:
            self.get(folder_id)
        return self._folder_drives.get(folder_id)

    def _child_folders(self, parent_id: str, name: str | None = None) -> list[DriveFile]:
        q = f"{quote(parent_id)} in parents and mimeType = '{FOLDER_MIME}' and trashed = false"
        if name is not None:
            q += f" and name = {quote(name)}"
        return self._list_all(q, in_folder=parent_id)

    # --- reads -----------------------------------------------------------------------------------------------
    def get(self, file_id: str) -> DriveFile:
        """The file as Drive holds it now (files.get is consistent; listings may lag behind writes)."""
        request = self._service.files().get(fileId=file_id, fields=FILE_FIELDS, supportsAllDrives=True)
        return self._seen(DriveFile.from_api(self._execute(request, operation="drive.get")))

    def get_capabilities(self, file_id: str) -> DriveAccess:
        """The item's kind, trash state, shared drive and ``capabilities`` (canAddChildren, canEdit...): read-only."""
        fields = "id,mimeType,trashed,driveId,capabilities"
        request = self._service.files().get(fileId=file_id, fields=fields, supportsAllDrives=True)
        item = self._execute(request, operation="drive.get_capabilities")
        return DriveAccess(id=item["id"], mime_type=item.get("mimeType", ""), trashed=bool(item.get("trashed")),
                           drive_id=item.get("driveId"), capabilities=dict(item.get("capabilities") or {}))

    def find_folders(
        self,
        root_id: str,
        *,
        name_patterns: Iterable[str] = ("CP2000", "CP 2000"),
        recursive: bool = True,
        exclude_ids: Collection[str] = (),
    ) -> list[DriveFile]:
        """Folders under ``root_id`` (the root included) whose name contains a pattern, case-insensitively.

        Descends through non-matching folders too (a CP2000 folder may sit under ``2025/October``); a folder with
        several parents is visited once; ``exclude_ids`` prunes subtrees such as the pipeline's own output folders.
        """
        patterns = [p.casefold() for p in name_patterns]

        def matches(folder: DriveFile) -> bool:
            return not patterns or any(p in folder.name.casefold() for p in patterns)

        root = self.get(root_id)
        found = [root] if matches(root) else []
        seen = {root.id, *exclude_ids}
        queue = [root.id]
        while queue:
            parent = queue.pop(0)
            for folder in self._child_folders(parent):
                if folder.id in seen:
                    continue
                seen.add(folder.id)
                if matches(folder):
                    found.append(folder)
                if recursive:
                    queue.append(folder.id)
        return found

    def list_pdfs(self, folder_id: str) -> list[DriveFile]:
        """Every non-trashed PDF directly in the folder (by MIME type or a ``.pdf`` name), oldest first."""
        q = f"{quote(folder_id)} in parents and trashed = false and mimeType != '{FOLDER_MIME}'"
        return [f for f in self._list_all(q, in_folder=folder_id) if f.is_pdf]

    def download(self, file_id: str, dest: Path, *, chunk_size: int = DEFAULT_CHUNK) -> DriveFile:
        """Download to ``dest`` in ``chunk_size`` ranges; the md5 must match Drive's or TransientError is raised.

        Bytes land in ``dest.part`` first and are renamed only when verified, so ``dest`` is never half-written.
        """
        meta = self.get(file_id)
        if meta.is_folder:
            raise PermanentError(f"drive file {file_id} is a folder", service="drive", operation="drive.download")
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(dest.name + ".part")
        digest = hashlib.md5(usedforsecurity=False)
        try:
            with open(partial, "wb") as handle:
                request = self._service.files().get_media(fileId=file_id, supportsAllDrives=True)
                downloader = MediaIoBaseDownload(_HashingWriter(handle, digest), request, chunksize=chunk_size)
                done = False
                while not done:
                    _progress, done = self._call(
                        downloader.next_chunk, operation="drive.download_chunk", idempotent=True
                    )
            if meta.md5 is not None and digest.hexdigest() != meta.md5:
                raise TransientError(
                    f"md5 mismatch downloading drive file {file_id}",
                    service="drive",
                    operation="drive.download",
                    reason="md5Mismatch",
                )
            os.replace(partial, dest)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        logger.debug("downloaded drive file %s (%s bytes)", file_id, meta.size)
        return meta

    # --- writes ----------------------------------------------------------------------------------------------
    def move(self, file_id: str, *, to_folder_id: str, current_parents: Sequence[str] | None = None) -> DriveFile:
        """Make ``to_folder_id`` the file's only parent. Safe to repeat: re-adding or re-removing is a no-op.

        Current parents come from ``files.get`` (or a caller that just read them), never from a listing: a lagging
        listing still shows a moved file in its old folder, and adding a parent without removing the real one is
        refused by Drive (403 ``cannotAddParent``). A move the update's answer does not confirm raises.
        """
        parents = list(current_parents) if current_parents is not None else self.get(file_id).parents
        remove = [p for p in parents if p != to_folder_id]
        params: dict[str, Any] = {"fileId": file_id, "addParents": to_folder_id, "body": {},
                                  "fields": FILE_FIELDS, "supportsAllDrives": True}
        if remove:
            params["removeParents"] = ",".join(remove)
        result = DriveFile.from_api(
            self._execute(self._service.files().update(**params), operation="drive.move", idempotent=True))
        if result.parents != [to_folder_id]:
            raise TransientError(f"drive file {file_id} has {len(result.parents)} parent(s) after a move to "
                                 f"{to_folder_id}, not just that one", service="drive", operation="drive.move",
                                 reason="move_unconfirmed")
        logger.debug("moved drive file %s to folder %s", file_id, to_folder_id)
        return result

    def ensure_folder(self, parent_id: str, name: str) -> str:
        """The id of the folder ``name`` under ``parent_id``, creating it once.

        The create carries an id reserved with files.generateIds, which makes it idempotent: if a lost response
        makes the policy send it again, Drive answers 409 instead of making a second folder.
        """
        existing = self._child_folders(parent_id, name)
        if existing:
            return existing[0].id
        reserve = self._service.files().generateIds(count=1, space="drive", type="files")
        folder_id = str(self._execute(reserve, operation="drive.generate_ids")["ids"][0])
        request = self._service.files().create(
            body={"id": folder_id, "name": name, "mimeType": FOLDER_MIME, "parents": [parent_id]},
            fields="id",
            supportsAllDrives=True,
        )
        try:
            self._execute(request, operation="drive.create_folder", idempotent=True)
        except PermanentError as exc:
            if exc.status != 409:
                raise
            logger.info("folder %s already existed: an earlier attempt's response was lost", folder_id)
        return folder_id

    def upload(
        self,
        path: Path,
        *,
        parent_id: str,
        name: str,
        mime_type: str,
        chunk_size: int = DEFAULT_UPLOAD_CHUNK,
    ) -> DriveFile:
        """Resumable upload. If the folder already holds a file of that name with the same md5, that file is returned
        (a task retried after a lost response must not leave two copies)."""
        path = Path(path)
        with open(path, "rb") as handle:
            md5 = hashlib.file_digest(handle, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()
        q = f"{quote(parent_id)} in parents and name = {quote(name)} and trashed = false"
        for existing in self._list_all(q, in_folder=parent_id):
            if existing.md5 == md5:
                return existing
        media = MediaFileUpload(str(path), mimetype=mime_type, resumable=True, chunksize=chunk_size)
        request = self._service.files().create(
            body={"name": name, "parents": [parent_id], "mimeType": mime_type},
            media_body=media,
            fields=FILE_FIELDS,
            supportsAllDrives=True,
        )
        try:
            response = None
            while response is None:
                # idempotent: each step either re-asks the session for its state or re-sends bytes it lacks
                _progress, response = self._call(request.next_chunk, operation="drive.upload_chunk", idempotent=True)
        finally:
            media.stream().close()
        uploaded = DriveFile.from_api(response)
        if uploaded.md5 is not None and uploaded.md5 != md5:
            raise TransientError(
                f"md5 mismatch after uploading drive file {uploaded.id}",
                service="drive", operation="drive.upload", reason="md5Mismatch",
            )
        return uploaded
