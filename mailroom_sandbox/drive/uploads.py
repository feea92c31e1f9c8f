"""Uploads to the Drive emulator: ``uploadType=multipart``, ``media`` and ``resumable`` (session URI, ``PUT`` chunks
with ``Content-Range``, 308 + ``Range`` while incomplete, a status query after an interrupted chunk, the file's
metadata once complete -- also to a status query after a lost final response, so a resumed upload never makes a
second file). Split from ``server`` to keep each module readable; the server owns the routes and their guards."""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from mailroom_sandbox.drive.store import DriveStore, StoredFile, invalid
from mailroom_sandbox.http.core import Request, Response, parse_multipart

_CONTENT_RANGE = re.compile(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$")


class UploadRoutes:
    def __init__(
        self,
        store: DriveStore,
        file_response: Callable[[StoredFile, str | None], Response],
        check_parents: Callable[[Any, Request], None],
        upload_url: Callable[[], str],
    ) -> None:
        self.store = store
        self._file_response = file_response
        self._check_parents = check_parents
        self._upload_url = upload_url
        self._upload_fields: dict[str, str | None] = {}  # the `fields` of a session's first request

    def start(self, request: Request) -> Response:
        upload_type = request.query_value("uploadType")
        if upload_type == "multipart":
            parts = parse_multipart(request)
            if len(parts) != 2:
                raise invalid("body", "Multipart upload needs a metadata part and a media part.")
            meta = metadata(parts[0].data)
            self._check_parents(meta.get("parents"), request)
            mime = str(meta.get("mimeType") or parts[1].content_type)
            stored = self.store.create_file(str(meta.get("name") or "Untitled"), meta.get("parents"),
                                            parts[1].data, mime, file_id=meta.get("id"))
            return self._file_response(stored, request.query_value("fields"))
        if upload_type == "media":
            mime = request.header("Content-Type") or "application/octet-stream"
            stored = self.store.create_file("Untitled", None, request.body, mime)
            return self._file_response(stored, request.query_value("fields"))
        if upload_type == "resumable":
            meta = metadata(request.body)
            self._check_parents(meta.get("parents"), request)
            length = request.header("X-Upload-Content-Length")
            mime = request.header("X-Upload-Content-Type") or "application/octet-stream"
            session_id = self.store.start_upload(meta, mime, int(length) if length else None)
            self._upload_fields[session_id] = request.query_value("fields")
            location = f"{self._upload_url()}?uploadType=resumable&upload_id={session_id}"
            return Response(200, b"", {"Location": location, "X-GUploader-UploadID": session_id})
        raise invalid("uploadType")

    def chunk(self, request: Request) -> Response:
        session_id = request.query_value("upload_id") or ""
        upload = self.store.session(session_id)
        content_range = request.header("Content-Range")
        match = _CONTENT_RANGE.match(content_range.strip()) if content_range else None
        if content_range is None:  # the whole content in one PUT (googleapiclient does this for an empty file)
            upload = self.store.put_chunk(session_id, 0, request.body, len(request.body))
        elif match is None:
            raise invalid("Content-Range")
        else:
            total = int(match.group(3)) if match.group(3) != "*" else None
            if match.group(1) is not None:
                upload = self.store.put_chunk(session_id, int(match.group(1)), request.body, total)
            elif total == 0 and upload.file_id is None:  # "bytes */0": an empty file is complete with no bytes
                upload = self.store.put_chunk(session_id, 0, b"", 0)
        if upload.file_id is not None:
            return self._file_response(self.store.get(upload.file_id), self._upload_fields.get(session_id))
        received = len(upload.received)
        headers = {"Range": f"bytes=0-{received - 1}"} if received else {}
        return Response(308, b"", {**headers, "X-GUploader-UploadID": session_id})


def metadata(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        meta = json.loads(body)
    except ValueError as exc:
        raise invalid("body", "Invalid JSON payload received.") from exc
    if not isinstance(meta, dict):
        raise invalid("body", "Invalid JSON payload received.")
    return meta
