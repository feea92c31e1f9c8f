"""The Drive v3 emulator spoken to by the real google-api-python-client and google-auth service-account credentials.

These tests pin the emulator to Drive's protocol (paging, q, fields, Range, resumable uploads, moves, auth, error
shapes); test_drive_client.py then exercises mailroom.drive on top of it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os

import pytest
import requests
from google.auth.exceptions import RefreshError
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaInMemoryUpload, MediaIoBaseDownload

from mailroom.drive import FOLDER_MIME, build_drive_service
from mailroom_sandbox.drive.server import DriveEmulator
from mailroom_sandbox.http.faults import EndpointFaults, FaultConfig, RateLimitConfig
from mailroom_sandbox.drive.oauth import SandboxServiceAccount

MB = 1024 * 1024


def _reason(error: HttpError) -> str:
    return json.loads(error.content)["error"]["errors"][0]["reason"]


def _list_everything(svc, q: str, *, page_size: int = 1000, order_by: str | None = None) -> tuple[list[dict], int]:
    files, token, pages = [], None, 0
    while True:
        page = svc.files().list(q=q, pageSize=page_size, pageToken=token, orderBy=order_by,
                                fields="nextPageToken, files(id,name,md5Checksum)").execute(num_retries=0)
        files += page["files"]
        pages += 1
        token = page.get("nextPageToken")
        if not token:
            return files, pages


def test_paging_over_2500_files_returns_each_exactly_once_in_name_order(drive, drive_service):
    folder = drive.create_folder("bulk")
    seeded = {drive.add_file(f"notice-{i:05d}.pdf", folder, b"%PDF-" + str(i).encode()) for i in range(2500)}

    files, pages = _list_everything(drive_service, f"'{folder}' in parents and trashed = false", order_by="name")

    assert pages == 3
    assert [f["id"] for f in files if f["id"] in seeded] == [f["id"] for f in files]
    assert {f["id"] for f in files} == seeded and len(files) == 2500
    assert [f["name"] for f in files] == sorted(f["name"] for f in files)
    assert files[7]["md5Checksum"] == hashlib.md5(b"%PDF-7").hexdigest()


def test_files_moved_out_between_pages_do_not_make_paging_skip_the_rest(drive, drive_service):
    source, target = drive.create_folder("moving-src"), drive.create_folder("moving-dst")
    ids = {drive.add_file(f"n{i:03d}.pdf", source, b"x") for i in range(30)}
    q = f"'{source}' in parents"
    first = drive_service.files().list(q=q, pageSize=10, orderBy="name", fields="nextPageToken,files(id)").execute()
    for item in first["files"]:  # the pipeline files notices while it is still listing
        drive_service.files().update(fileId=item["id"], addParents=target, removeParents=source, body={}).execute()
    rest, _ = _list_everything(drive_service, q, page_size=10, order_by="name")
    page2 = drive_service.files().list(q=q, pageSize=10, orderBy="name", pageToken=first["nextPageToken"],
                             fields="files(id)").execute()

    assert {f["id"] for f in first["files"]} | {f["id"] for f in rest} == ids
    assert [f["id"] for f in page2["files"]] == [f["id"] for f in rest[:10]]


def test_page_size_over_1000_and_foreign_page_token_are_rejected(drive, drive_service):
    folder = drive.create_folder("limits")
    for i in range(3):
        drive.add_file(f"{i}.pdf", folder, b"x")
    with pytest.raises(HttpError) as too_big:
        drive_service.files().list(q=f"'{folder}' in parents", pageSize=1001).execute()
    token = drive_service.files().list(q=f"'{folder}' in parents", pageSize=1,
                                       fields="nextPageToken").execute()["nextPageToken"]
    with pytest.raises(HttpError) as foreign:
        drive_service.files().list(q="trashed = false", pageSize=1, pageToken=token).execute()

    assert too_big.value.resp.status == 400 and _reason(too_big.value) == "invalid"
    assert foreign.value.resp.status == 400 and _reason(foreign.value) == "invalid"


def test_query_operators_and_quote_escaping(drive, drive_service):
    folder = drive.create_folder("query")
    sub = drive.create_folder("CP 2000 notices", folder)
    tricky = drive.add_file("O'Brien \\ CP2000.pdf", folder, b"a")
    drive.add_file("HelloWorld.pdf", folder, b"b")
    drive.add_file("report.xlsx", folder, b"c", mime_type="application/vnd.ms-excel")
    trashed = drive.add_file("old.pdf", folder, b"d")
    drive_service.files().update(fileId=trashed, body={"trashed": True}).execute()

    def names(q: str) -> set[str]:
        return {f["name"] for f in _list_everything(drive_service, f"'{folder}' in parents and ({q})")[0]}

    assert names("name = 'O\\'Brien \\\\ CP2000.pdf'") == {"O'Brien \\ CP2000.pdf"}
    assert names("name contains 'hello'") == {"HelloWorld.pdf"}
    assert names("name contains 'World'") == set()  # Drive's contains is a word-prefix match on names
    assert names("name contains '2000'") == {"CP 2000 notices"}
    assert names(f"mimeType = '{FOLDER_MIME}'") == {"CP 2000 notices"}
    assert names("mimeType != 'application/pdf' and trashed = false") == {"CP 2000 notices", "report.xlsx"}
    assert names("trashed = true") == {"old.pdf"}
    assert names("not name contains 'report' and trashed = false and mimeType = 'application/pdf'") == {
        "O'Brien \\ CP2000.pdf", "HelloWorld.pdf"}
    top_level = {f["id"] for f in _list_everything(drive_service, "'root' in parents")[0]}
    assert tricky and sub and folder in top_level and sub not in top_level
    for bad in ("fullText contains 'x'", "name = 'unterminated", "name = bare", f"'{folder}' in parents and"):
        with pytest.raises(HttpError) as rejected:
            drive_service.files().list(q=bad).execute()
        assert rejected.value.resp.status == 400 and _reason(rejected.value) == "invalid"


def test_fields_partial_responses_and_defaults(drive, drive_service):
    folder = drive.create_folder("fields")
    file_id = drive.add_file("a.pdf", folder, b"abc")
    default = drive_service.files().get(fileId=file_id).execute()
    chosen = drive_service.files().get(fileId=file_id, fields="parents,md5Checksum,size,createdTime").execute()
    listed = drive_service.files().list(q=f"'{folder}' in parents", fields="files(id)").execute()

    assert set(default) == {"kind", "id", "name", "mimeType"}  # md5/size/parents only when asked for, like Drive
    assert chosen["parents"] == [folder] and chosen["size"] == "3" and chosen["md5Checksum"] == hashlib.md5(b"abc").hexdigest()
    assert set(chosen) == {"parents", "md5Checksum", "size", "createdTime"}
    assert listed == {"files": [{"id": file_id}]}
    with pytest.raises(HttpError) as bad:
        drive_service.files().get(fileId=file_id, fields="id,noSuchField").execute()
    assert bad.value.resp.status == 400 and _reason(bad.value) == "invalidParameter"


def test_order_by_created_time_desc(drive, drive_service):
    from datetime import datetime, timedelta, timezone

    folder = drive.create_folder("ordered")
    base = datetime(2025, 10, 1, tzinfo=timezone.utc)
    for day, name in [(3, "c.pdf"), (1, "a.pdf"), (2, "b.pdf")]:
        drive.add_file(name, folder, b"x", created_time=base + timedelta(days=day))
    files, _ = _list_everything(drive_service, f"'{folder}' in parents", order_by="createdTime desc")
    assert [f["name"] for f in files] == ["c.pdf", "b.pdf", "a.pdf"]


def test_3mb_download_in_256kb_chunks_is_byte_identical_with_matching_md5(drive, drive_service):
    content = os.urandom(3 * MB)
    file_id = drive.add_file("big.pdf", drive.create_folder("dl"), content)
    before = drive.stats()["calls"].get("files.get", {}).get("206", 0)
    sink = io.BytesIO()
    downloader = MediaIoBaseDownload(sink, drive_service.files().get_media(fileId=file_id), chunksize=256 * 1024)
    done = False
    while not done:
        _progress, done = downloader.next_chunk(num_retries=0)
    meta = drive_service.files().get(fileId=file_id, fields="md5Checksum,size").execute()

    assert sink.getvalue() == content
    assert hashlib.md5(sink.getvalue()).hexdigest() == meta["md5Checksum"] and meta["size"] == str(3 * MB)
    assert drive.stats()["calls"]["files.get"]["206"] - before == 12  # 3 MB / 256 KB partial responses


def test_range_forms_and_zero_byte_file(drive):
    folder = drive.create_folder("ranges")
    file_id = drive.add_file("r.pdf", folder, b"0123456789")
    empty_id = drive.add_file("empty.pdf", folder, b"")
    token = drive.auth.issue_token()
    url = f"{drive.url}/drive/v3/files/{{}}?alt=media"
    get = lambda fid, rng=None: requests.get(url.format(fid), timeout=5, headers={
        "Authorization": f"Bearer {token}", **({"Range": rng} if rng else {})})

    suffix, open_ended, whole, beyond, empty = (get(file_id, "bytes=-3"), get(file_id, "bytes=4-"), get(file_id),
                                                get(file_id, "bytes=10-20"), get(empty_id, "bytes=0-99"))
    assert (suffix.status_code, suffix.content, suffix.headers["Content-Range"]) == (206, b"789", "bytes 7-9/10")
    assert (open_ended.status_code, open_ended.content) == (206, b"456789")
    assert (whole.status_code, whole.content) == (200, b"0123456789")
    assert (beyond.status_code, beyond.headers["Content-Range"]) == (416, "bytes */10")
    assert (empty.status_code, empty.headers["Content-Range"]) == (416, "bytes */0")


def test_multipart_upload_folder_create_and_move_between_parents(drive, drive_service):
    root = drive.create_folder("moves")
    folder = drive_service.files().create(body={"name": "Matched", "mimeType": FOLDER_MIME, "parents": [root]},
                                fields="id,mimeType").execute()
    created = drive_service.files().create(body={"name": "m.pdf", "parents": [root]}, fields="id,md5Checksum,size",
                                 media_body=MediaInMemoryUpload(b"%PDF-1.7 \r\n\x00\xff", mimetype="application/pdf")
                                 ).execute()
    moved = drive_service.files().update(fileId=created["id"], addParents=folder["id"], removeParents=root, body={},
                               fields="parents").execute()
    with pytest.raises(HttpError) as not_writable:
        drive_service.files().update(fileId=created["id"], body={"parents": [root]}).execute()

    assert folder["mimeType"] == FOLDER_MIME
    assert created["md5Checksum"] == hashlib.md5(b"%PDF-1.7 \r\n\x00\xff").hexdigest() and created["size"] == "13"
    assert moved["parents"] == [folder["id"]]
    assert [f.id for f in drive.files_in(folder["id"])] == [created["id"]] and drive.files_in(root)[0].id == folder["id"]
    assert not_writable.value.resp.status == 403 and _reason(not_writable.value) == "fieldNotWritable"


def test_resumable_upload_resumes_after_an_injected_reset_without_resending_held_bytes(drive, drive_service):
    folder = drive.create_folder("resumable")
    content = os.urandom(3 * MB + 1234)
    media = MediaInMemoryUpload(content, mimetype="application/pdf", resumable=True, chunksize=MB)
    request = drive_service.files().create(body={"name": "up.pdf", "parents": [folder]}, media_body=media,
                                 fields="id,md5Checksum,size")
    chunk_calls = lambda: dict(drive.stats()["calls"].get("files.upload_chunk", {}))
    before = chunk_calls()
    status, response = request.next_chunk(num_retries=0)
    assert response is None and status.resumable_progress == MB

    drive.set_faults(FaultConfig(endpoints={"files.upload_chunk": EndpointFaults(reset=1.0)}))
    with pytest.raises(OSError):  # the connection was reset: no response at all
        request.next_chunk(num_retries=0)
    drive.set_faults(FaultConfig())
    status, response = request.next_chunk(num_retries=0)  # asks the session what it holds, then re-sends MB 2
    assert status.resumable_progress == 2 * MB
    while response is None:
        status, response = request.next_chunk(num_retries=0)
    after = chunk_calls()
    # chunk 1, reset chunk 2, status query, chunk 2 again, chunk 3 -> 308s; chunk 4 -> 200. A restart would add one.
    assert {k: after.get(k, 0) - before.get(k, 0) for k in ("308", "reset", "200")} == {"308": 4, "reset": 1, "200": 1}

    assert response["md5Checksum"] == hashlib.md5(content).hexdigest() and int(response["size"]) == len(content)
    assert drive.content(response["id"]) == content
    assert [f.id for f in drive.files_in(folder)] == [response["id"]]


def test_resumable_final_chunk_committed_but_response_lost_yields_one_file(drive, drive_service):
    folder = drive.create_folder("lost-final")
    content = os.urandom(300 * 1024)
    request = drive_service.files().create(body={"name": "final.pdf", "parents": [folder]}, fields="id,md5Checksum",
                                 media_body=MediaInMemoryUpload(content, mimetype="application/pdf",
                                                                resumable=True, chunksize=256 * 1024))
    request.next_chunk(num_retries=0)
    drive.set_faults(FaultConfig(endpoints={"files.upload_chunk": EndpointFaults(ambiguous=1.0, ambiguous_modes=["reset"])}))
    with pytest.raises(OSError):
        request.next_chunk(num_retries=0)
    drive.set_faults(FaultConfig())
    _status, response = request.next_chunk(num_retries=0)

    assert response["md5Checksum"] == hashlib.md5(content).hexdigest()
    assert [f.id for f in drive.files_in(folder)] == [response["id"]]


@pytest.mark.parametrize(
    ("faults", "status", "reason"),
    [
        (EndpointFaults(throttle=1.0), 403, "userRateLimitExceeded"),
        (EndpointFaults(http_429=1.0), 429, "rateLimitExceeded"),
        (EndpointFaults(http_500=1.0), 500, "backendError"),
    ],
)
def test_injected_errors_have_googles_json_shape(drive, drive_service, faults, status, reason):
    folder = drive.create_folder("shape")
    drive.set_faults(FaultConfig(endpoints={"files.list": faults}))
    with pytest.raises(HttpError) as caught:
        drive_service.files().list(q=f"'{folder}' in parents").execute(num_retries=0)
    body = json.loads(caught.value.content)["error"]
    assert caught.value.resp.status == status == body["code"]
    assert body["errors"][0]["reason"] == reason == caught.value.error_details[0]["reason"]
    assert body["message"]


def test_state_errors_not_found_permissions_and_storage_quota(drive, drive_service):
    locked = drive.create_folder("Read only")
    inside = drive.add_file("kept.pdf", locked, b"x")
    open_folder = drive.create_folder("open")
    drive.set_read_only(locked)
    small = DriveEmulator().start()
    requests.put(f"{small.url}/_sandbox/drive/quota", json={"bytes": 10}, timeout=5).raise_for_status()
    try:
        small_svc = build_drive_service(small.service_account_info(), api_endpoint=small.url, timeout=10)
        errors = []
        for call in (
            lambda: drive_service.files().get(fileId="1doesNotExist").execute(),
            lambda: drive_service.files().create(
                body={"name": "n", "mimeType": FOLDER_MIME, "parents": [locked]}).execute(),
            lambda: drive_service.files().update(
                fileId=inside, addParents=open_folder, removeParents=locked, body={}).execute(),
            lambda: small_svc.files().create(body={"name": "big.pdf"}, media_body=MediaInMemoryUpload(
                b"x" * 11, mimetype="application/pdf")).execute(),
        ):
            with pytest.raises(HttpError) as caught:
                call()
            errors.append((caught.value.resp.status, _reason(caught.value)))
    finally:
        small.stop()
    assert errors == [(404, "notFound"), (403, "insufficientFilePermissions"), (403, "insufficientFilePermissions"),
                      (403, "storageQuotaExceeded")]


def test_401_without_token_with_expired_token_and_transparent_refresh(drive, drive_service):
    url = f"{drive.url}/drive/v3/files"
    missing = requests.get(url, timeout=5)
    expired = requests.get(url, timeout=5, headers={"Authorization": f"Bearer {drive.auth.issue_token(lifetime=-1)}"})
    forged = requests.get(url, timeout=5, headers={"Authorization": "Bearer ya29.made-up"})

    assert missing.status_code == 401 and missing.json()["error"]["errors"][0]["reason"] == "required"
    for response in (expired, forged):
        assert response.status_code == 401 and response.json()["error"]["status"] == "UNAUTHENTICATED"
        assert response.json()["error"]["errors"][0]["reason"] == "authError"
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]

    issued = drive.stats()["drive"]["tokens_issued"]
    # server-side expiry through the admin API: google-auth gets a 401, refreshes, retries once
    assert requests.post(f"{drive.url}/_sandbox/drive/expire-tokens", timeout=5).json() == {"ok": True}
    drive_service.files().list(pageSize=1, fields="files(id)").execute(num_retries=0)
    assert drive.stats()["drive"]["tokens_issued"] == issued + 1


def test_assertion_signed_by_another_key_is_refused_by_the_token_endpoint(drive):
    info = dict(drive.service_account_info(), private_key=SandboxServiceAccount.generate().private_key_pem)
    impostor = build_drive_service(info, api_endpoint=drive.url, timeout=10)
    with pytest.raises(RefreshError) as refused:
        impostor.files().list().execute(num_retries=0)
    assert "invalid_grant" in str(refused.value)


@pytest.mark.parametrize(("throttle_status", "reason"), [(403, "userRateLimitExceeded"), (429, "rateLimitExceeded")])
def test_server_side_quota_answers_throttle_errors(throttle_status, reason):
    with DriveEmulator(rate_limit=RateLimitConfig(requests_per_second=0.5, burst=5),
                       throttle_status=throttle_status) as limited:
        service = build_drive_service(limited.service_account_info(), api_endpoint=limited.url, timeout=10)
        outcomes = []
        for _ in range(12):
            try:
                service.files().list(pageSize=1).execute(num_retries=0)
                outcomes.append(200)
            except HttpError as error:
                outcomes.append((error.resp.status, _reason(error)))
        stats = limited.stats()
    assert outcomes.count((throttle_status, reason)) >= 5
    assert stats["throttled"] == outcomes.count((throttle_status, reason))


def test_plain_build_with_api_endpoint_keeps_https_for_uploads_which_is_why_we_rewrite_root_url(drive):
    credentials = service_account.Credentials.from_service_account_info(
        drive.service_account_info(), scopes=["https://www.googleapis.com/auth/drive"])
    plain = build("drive", "v3", credentials=credentials, static_discovery=True,
                  client_options={"api_endpoint": drive.url + "/drive/v3/"})
    ours = build_drive_service(drive.service_account_info(), api_endpoint=drive.url)
    media = MediaInMemoryUpload(b"x", mimetype="application/pdf", resumable=True)

    assert plain.files().list(pageSize=1, fields="files(id)").execute(num_retries=0)["files"] is not None
    assert plain.files().create(body={}, media_body=media).uri.startswith("https://")
    assert ours.files().create(body={}, media_body=media).uri.startswith(drive.url + "/upload/drive/v3/files")
