"""Google Drive v3 emulator on the sandbox HTTP core (``http.core.EmulatorServer``).

Serves what mailroom touches, for the real google-api-python-client and google-auth service-account credentials:
``POST /token`` (JWT-bearer grant), files.list/get/create/update and drives.get/list under ``/drive/v3/``,
``alt=media`` downloads with ``Range``, and multipart / resumable uploads under ``/upload/drive/v3/files``. Errors
use Google's JSON shape. Drive's rules that bite a first real run are on by default: one parent per item (403
``cannotAddParent``), shared-drive items invisible without ``supportsAllDrives``, throttles without ``Retry-After``;
listings can lag behind writes (``listing_lag``). Where it differs from the real service: docs/sandbox-drive.md.

Seeding API (no HTTP, for tests and the sandbox stack)::

    with DriveEmulator(faults=FaultConfig.uniform(0.1, seed=7)) as drive:
        inbox = drive.create_folder("Inbox")
        drive.add_file("CP2000 DTD 10.14.2025_SMITH - 0012.pdf", inbox, pdf_bytes)
        mail = drive.create_shared_drive("Mail")          # a shared drive: its id is also its root folder's
        scans = drive.create_folder("Scans", mail)
        drive.set_listing_lag(2.0)                        # from now on listings show each file as it was 2 s ago
        service = build_drive_service(drive.service_account_info(), api_endpoint=drive.url)
"""

from __future__ import annotations

import re
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from mailroom_sandbox.drive import shared
from mailroom_sandbox.drive.consistency import ListingLag
from mailroom_sandbox.drive.oauth import AuthFailure, SandboxServiceAccount, TokenAuthority
from mailroom_sandbox.drive.query import (
    QueryError,
    apply_fields,
    check_fields,
    compile_query,
    parse_fields,
)
from mailroom_sandbox.drive.store import (
    FILE_RESOURCE_FIELDS,
    FOLDER_MIME,
    DriveApiError,
    DriveStore,
    StoredFile,
    invalid,
)
from mailroom_sandbox.drive.uploads import UploadRoutes, metadata
from mailroom_sandbox.http.core import EmulatorServer, Request, Response
from mailroom_sandbox.http.emulator import Emulator
from mailroom_sandbox.http.faults import FaultConfig, RateLimitConfig

FILES_PATH = "/drive/v3/files"
DRIVES_PATH = "/drive/v3/drives"
UPLOAD_PATH = "/upload/drive/v3/files"
_DEFAULT_FILE_FIELDS = "kind,id,name,mimeType"
_LIST_FIELDS: dict[str, set[str] | None] = {
    "kind": None, "nextPageToken": None, "incompleteSearch": None, "files": FILE_RESOURCE_FIELDS,
}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")

# How the core's error kinds look in Drive's words: (status, reason, message).
_CORE_ERRORS: dict[str, tuple[int, str, str]] = {
    "http_429": (429, "rateLimitExceeded", "Rate Limit Exceeded"),
    "throttle": (403, "userRateLimitExceeded", "User Rate Limit Exceeded"),
    "http_500": (500, "backendError", "Backend Error"),
    "http_502": (502, "badGateway", "Bad Gateway"),
    "http_503": (503, "backendError", "Service Unavailable"),
    "http_504": (504, "backendError", "Gateway Timeout"),
    "outage": (503, "backendError", "Service Unavailable"),
    "ambiguous_503": (503, "backendError", "Service Unavailable"),
    "internal": (500, "internalError", "Internal Error"),
    "bad_request": (400, "badRequest", "Bad Request"),
    "not_found": (404, "notFound", "Not Found"),
    "method_not_allowed": (405, "httpMethodNotAllowed", "Method Not Allowed"),
    "too_large": (413, "uploadTooLarge", "The request is too large."),
}


class DriveEmulator(Emulator):
    """A Google Drive v3 look-alike on a free 127.0.0.1 port.

    ``rate_limit`` is Drive's per-user quota (real Drive: about 12,000 requests/minute); requests over it are
    answered 403 ``userRateLimitExceeded`` (or 429 ``rateLimitExceeded`` with ``throttle_status=429``). Like real
    Drive, throttle answers carry no ``Retry-After`` unless ``throttle_retry_after=True``. ``listing_lag``: seconds a
    write takes to show in files.list (``lag_clock`` is the monotonic clock it is measured on, for tests).
    """

    def __init__(
        self,
        faults: FaultConfig | None = None,
        rate_limit: RateLimitConfig | None = None,
        *,
        quota_bytes: int | None = None,
        token_lifetime: float = 3600.0,
        throttle_status: int = 403,
        throttle_retry_after: bool = False,
        listing_lag: float = 0.0,
        lag_clock: Callable[[], float] = time.monotonic,
        content_dir: Path | None = None,
        seed: int = 0,
        port: int = 0,
    ) -> None:
        if throttle_status not in (403, 429):
            raise ValueError("throttle_status must be 403 (userRateLimitExceeded) or 429 (rateLimitExceeded)")
        self._throttle_status = throttle_status
        self._tempdir = None if content_dir else tempfile.TemporaryDirectory(prefix="mailroom-drive-")
        self.store = DriveStore(Path(content_dir or self._tempdir.name), quota_bytes=quota_bytes, seed=seed,
                                listing_lag=ListingLag(listing_lag, clock=lag_clock))
        self.account = SandboxServiceAccount.generate()
        self.auth = TokenAuthority("", token_lifetime=token_lifetime)  # token_uri is known once the port is
        self.auth.register(self.account)
        self._auth_failures = 0
        self.server = EmulatorServer(
            "drive",
            faults=faults,
            rate_limit=rate_limit or RateLimitConfig(requests_per_second=200, burst=200),
            error_renderer=self._render_core_error,
            retry_after_header=throttle_retry_after,
            port=port,
        )
        self._install_routes()
        self.server.add_stats_provider(self._drive_stats)
        # runtime chaos knobs next to the core's faults/outage/rate-limit ones (never faulted or counted)
        self.server.add_admin_route("POST", "drive/expire-tokens", lambda r: self._admin_ok(self.expire_tokens))
        self.server.add_admin_route("PUT", "drive/quota", lambda r: self._admin_ok(
            lambda: self.set_quota((r.json() or {}).get("bytes"))))
        self.server.add_admin_route("PUT", "drive/listing-lag", lambda r: self._admin_ok(
            lambda: self.set_listing_lag(float((r.json() or {})["seconds"]))))
        self.server.add_admin_route("PUT", "drive/retry-after", lambda r: self._admin_ok(
            lambda: self.set_throttle_retry_after(bool((r.json() or {})["enabled"]))))

    # --- lifecycle and seeding -------------------------------------------------------------------------------
    def start(self) -> "DriveEmulator":
        super().start()
        self.auth.token_uri = self.token_uri
        return self

    def stop(self) -> None:
        super().stop()
        if self._tempdir is not None:
            self._tempdir.cleanup()

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    def service_account_info(self) -> dict[str, str]:
        return self.account.info(self.token_uri)

    def create_folder(self, name: str, parent_id: str | None = None) -> str:
        return self.store.create_folder(name, [parent_id] if parent_id else None).id

    def add_file(
        self,
        name: str,
        parent_id: str | None,
        content: bytes,
        mime_type: str = "application/pdf",
        created_time: datetime | None = None,
    ) -> str:
        return self.store.create_file(name, [parent_id] if parent_id else None, content, mime_type, created_time).id

    def create_shared_drive(self, name: str) -> str:
        """A shared drive the service account is a member of; returns its id (also the id of its root folder)."""
        return self.store.create_shared_drive(name).id

    def add_legacy_parent(self, file_id: str, folder_id: str) -> None:
        """Give a file a second parent, as files from before Drive's 2020 single-parent change may still have."""
        self.store.add_legacy_parent(file_id, folder_id)

    def set_listing_lag(self, seconds: float) -> None:
        """From now on a write shows in files.list only ``seconds`` after it happened (0: at once)."""
        self.store.lag.set(seconds)

    def set_throttle_retry_after(self, enabled: bool) -> None:
        """Send ``Retry-After`` with throttle answers (real Drive does not; the switch keeps that case tested)."""
        self.server.retry_after_header = enabled

    def files_in(self, folder_id: str) -> list[StoredFile]:
        return self.store.files_in(folder_id)

    def content(self, file_id: str) -> bytes:
        stored = self.store.get(file_id)
        return self.store.read(file_id, 0, (stored.size or 0) - 1) if stored.size else b""

    def set_read_only(self, file_id: str, read_only: bool = True) -> None:
        self.store.set_read_only(file_id, read_only)

    def expire_tokens(self) -> None:
        """Every issued access token stops working now; clients must refresh (google-auth does so on a 401)."""
        self.auth.expire_all_tokens()

    def set_quota(self, quota_bytes: int | None) -> None:
        self.store.quota_bytes = None if quota_bytes is None else int(quota_bytes)

    @staticmethod
    def _admin_ok(action: Callable[[], None]) -> Response:
        action()
        return Response.json({"ok": True})

    def _drive_stats(self) -> dict[str, Any]:
        return {
            "drive": {
                **self.store.summary(),
                "auth_failures": self._auth_failures,
                "tokens_issued": self.auth.tokens_issued,
            }
        }

    # --- HTTP plumbing ---------------------------------------------------------------------------------------
    def _render_core_error(self, kind: str, status: int, retry_after: float | None) -> Response:
        if kind == "rate_limit":
            status, reason, message = (
                (403, "userRateLimitExceeded", "User Rate Limit Exceeded")
                if self._throttle_status == 403
                else (429, "rateLimitExceeded", "Rate Limit Exceeded")
            )
        else:
            status, reason, message = _CORE_ERRORS.get(kind, (status, "backendError", "Backend Error"))
        return _error(DriveApiError(status, reason, message))

    def _install_routes(self) -> None:
        route = self.server.add_route
        route("POST", "/token", self._token, name="oauth.token")
        route("GET", FILES_PATH, self._api(self._list), name="files.list")
        route("POST", FILES_PATH, self._api(self._create), name="files.create")
        route("GET", FILES_PATH + "/generateIds", self._api(self._generate_ids), name="files.generateIds")
        route("GET", FILES_PATH + "/{fileId}", self._api(self._get), name="files.get")
        route("PATCH", FILES_PATH + "/{fileId}", self._api(self._update), name="files.update")
        route("GET", DRIVES_PATH, self._api(lambda r: shared.drives_list(r, self.store.shared_drives)),
              name="drives.list")
        route("GET", DRIVES_PATH + "/{driveId}", self._api(lambda r: shared.drives_get(r, self.store.shared_drives)),
              name="drives.get")
        uploads = UploadRoutes(self.store, self._file_response, self._check_parents, lambda: self.url + UPLOAD_PATH)
        route("POST", UPLOAD_PATH, self._api(uploads.start), name="files.upload")
        route("PUT", UPLOAD_PATH, self._api(uploads.chunk), name="files.upload_chunk")

    def _api(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        """Bearer-token check, then the handler; Drive's and q/fields errors become Google JSON errors."""

        def guarded(request: Request) -> Response:
            try:
                self.auth.authenticate(request.header("Authorization"))
            except AuthFailure as failure:
                self._auth_failures += 1
                return Response.json(failure.body, status=401, headers=failure.headers)
            try:
                return handler(request)
            except DriveApiError as exc:
                return _error(exc)
            except QueryError as exc:
                reason = "invalidParameter" if exc.location == "fields" else "invalid"
                return _error(DriveApiError(400, reason, str(exc), location=exc.location))

        return guarded

    def _token(self, request: Request) -> Response:
        result = self.auth.exchange(request.body)
        return Response.json(result.body, status=result.status, headers={"Cache-Control": "no-store"})

    # --- files.list / get / create / update ------------------------------------------------------------------
    def _list(self, request: Request) -> Response:
        q = request.query_value("q")
        page_size = _int_param(request, "pageSize", 100)
        if not 1 <= page_size <= 1000:
            raise invalid("pageSize")
        fields = parse_fields(request.query_value("fields") or f"kind,incompleteSearch,nextPageToken,files({_DEFAULT_FILE_FIELDS})")
        check_fields(fields, _LIST_FIELDS)
        in_scope, matches = shared.list_scope(request, self.store.shared_drives), compile_query(q, resolve=self.store.resolve)
        files, next_token = self.store.list(
            lambda f: in_scope(f) and matches(f),
            order_by=request.query_value("orderBy"),
            page_size=page_size,
            page_token=request.query_value("pageToken"),
            query_fingerprint=f"{q or ''}|{request.query_value('driveId')}",
        )
        body: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False,
                                "files": [f.resource() for f in files]}
        if next_token:
            body["nextPageToken"] = next_token
        return Response.json(apply_fields(body, fields))

    def _visible(self, file_id: str, request: Request) -> StoredFile:
        return shared.require_visible(self.store.get(file_id), request, file_id)

    def _check_parents(self, parent_ids: Any, request: Request) -> None:
        """A shared-drive folder named as a parent does not exist for an app without ``supportsAllDrives``."""
        for parent_id in parent_ids or []:
            if isinstance(parent_id, str):
                self._visible(parent_id, request)

    def _get(self, request: Request) -> Response:
        stored = self._visible(request.path_params["fileId"], request)
        if request.query_value("alt") == "media":
            return self._media(stored, request.header("Range"))
        return self._file_response(stored, request.query_value("fields"))

    def _file_response(self, stored: StoredFile, fields_param: str | None) -> Response:
        fields = parse_fields(fields_param or _DEFAULT_FILE_FIELDS)
        check_fields(fields, {name: None for name in FILE_RESOURCE_FIELDS})
        return Response.json(apply_fields(stored.resource(), fields))

    def _media(self, stored: StoredFile, range_header: str | None) -> Response:
        if stored.is_folder or stored.mime_type.startswith("application/vnd.google-apps."):
            raise DriveApiError(403, "fileNotDownloadable",
                                "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
                                location="alt")
        size = stored.size or 0
        headers = {"Content-Type": stored.mime_type, "Accept-Ranges": "bytes"}
        match = _RANGE.match((range_header or "").strip())
        if not match or match.groups() == ("", ""):
            body = self.store.read(stored.id, 0, size - 1) if size else b""
            return Response(200, body, headers)
        first, last = match.groups()
        start, end = (size - int(last), size - 1) if first == "" else (int(first), int(last) if last else size - 1)
        start, end = max(start, 0), min(end, size - 1)
        if start >= size or start > end:
            return Response(416, b"", {**headers, "Content-Range": f"bytes */{size}"})
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return Response(206, self.store.read(stored.id, start, end), headers)

    def _generate_ids(self, request: Request) -> Response:
        count = _int_param(request, "count", 10)
        if not 1 <= count <= 1000:
            raise invalid("count")
        return Response.json({"kind": "drive#generatedIds", "space": "drive", "ids": self.store.generate_ids(count)})

    def _create(self, request: Request) -> Response:
        meta = metadata(request.body)
        self._check_parents(meta.get("parents"), request)
        if meta.get("mimeType") == FOLDER_MIME:
            stored = self.store.create_folder(str(meta.get("name") or "Untitled"), meta.get("parents"),
                                              file_id=meta.get("id"))
        else:
            stored = self.store.create_file(str(meta.get("name") or "Untitled"), meta.get("parents"), b"",
                                            str(meta.get("mimeType") or "application/octet-stream"),
                                            file_id=meta.get("id"))
        return self._file_response(stored, request.query_value("fields"))

    def _update(self, request: Request) -> Response:
        meta = metadata(request.body)
        if "parents" in meta:
            raise DriveApiError(403, "fieldNotWritable", "The resource body includes fields which are not directly "
                                "writable. Use the addParents and removeParents parameters instead.")
        self._visible(request.path_params["fileId"], request)
        self._check_parents(_id_list(request.query_value("addParents")), request)
        stored = self.store.update(
            request.path_params["fileId"],
            name=meta.get("name"),
            add_parents=_id_list(request.query_value("addParents")),
            remove_parents=_id_list(request.query_value("removeParents")),
            trashed=meta.get("trashed"),
        )
        return self._file_response(stored, request.query_value("fields"))


def _error(exc: DriveApiError) -> Response:
    return Response.json(exc.body(), status=exc.status)


def _id_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_value(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise invalid(name) from exc
