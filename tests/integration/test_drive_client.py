"""mailroom.drive.DriveClient against the Drive emulator: real googleapiclient, real google-auth, real
ResiliencePolicy; only the policy's sleep is replaced so injected faults do not cost wall time."""

from __future__ import annotations

import hashlib
import os

import pytest

from mailroom.drive import FOLDER_MIME, DriveClient, DriveFile, build_drive_service
from mailroom.errors import (
    ErrorClass,
    MailroomError,
    NotFoundError,
    PermanentError,
    ThrottledError,
    TransientError,
)
from mailroom.resilience import ResiliencePolicy
from mailroom_sandbox.drive.server import DriveEmulator
from mailroom_sandbox.http.faults import EndpointFaults, FaultConfig, RateLimitConfig

MB = 1024 * 1024


def make_client(service, *, max_retries: int = 6, sleeps: list[float] | None = None) -> DriveClient:
    policy = ResiliencePolicy(
        "drive", max_retries=max_retries, initial_delay=0.01, max_delay=0.05, use_breaker=False, use_budget=False,
        sleep=(sleeps.append if sleeps is not None else (lambda _seconds: None)),
    )
    return DriveClient(service, policy=policy)


def test_find_folders_recursive_by_pattern_with_root_and_exclusions(drive, drive_service):
    root = drive.create_folder("Inbox CP2000")
    direct = drive.create_folder("CP2000 October", root)
    nested = drive.create_folder("late cp 2000 batch", direct)
    year = drive.create_folder("2025", root)
    deep = drive.create_folder("October CP 2000", year)
    drive.create_folder("Other letters", root)
    output = drive.create_folder("Matched CP2000", root)
    drive.create_folder("CP2000 inside output", output)
    client = make_client(drive_service)
    # a folder with two parents (kept from before Drive's single-parent rule) is reported once
    drive.add_legacy_parent(deep, root)

    found = client.find_folders(root, exclude_ids=[output])
    shallow = client.find_folders(root, recursive=False, exclude_ids=[output])
    everything = client.find_folders(year, name_patterns=())

    assert [f.id for f in found][0] == root
    assert sorted(f.id for f in found) == sorted([root, direct, nested, deep])
    assert sorted(f.id for f in shallow) == sorted([root, direct, deep])
    assert sorted(f.id for f in everything) == sorted([year, deep])
    assert all(isinstance(f, DriveFile) and f.is_folder for f in found)


def test_list_pdfs_pages_and_filters(drive, drive_service):
    folder = drive.create_folder("list-pdfs")
    pdf_ids = {drive.add_file(f"CP2000 DTD 10.14.2025_SMITH - {i:04d}.pdf", folder, b"%PDF-" + bytes([i % 256]))
               for i in range(1100)}
    pdf_ids.add(drive.add_file("SCAN 0001.PDF", folder, b"%PDF-scan", mime_type="application/octet-stream"))
    drive.add_file("summary.xlsx", folder, b"xlsx", mime_type="application/vnd.ms-excel")
    drive.create_folder("sub.pdf", folder)  # a folder is never a notice, whatever its name
    trashed = drive.add_file("gone.pdf", folder, b"x")
    drive_service.files().update(fileId=trashed, body={"trashed": True}).execute(num_retries=0)
    pages_before = sum(drive.stats()["calls"].get("files.list", {}).values())

    files = make_client(drive_service).list_pdfs(folder)

    assert {f.id for f in files} == pdf_ids and len(files) == len(pdf_ids)
    assert sum(drive.stats()["calls"]["files.list"].values()) - pages_before == 2
    sample = next(f for f in files if f.name.endswith("0007.pdf"))
    assert sample.parents == [folder] and sample.size == 6 and sample.md5 == hashlib.md5(b"%PDF-\x07").hexdigest()
    assert sample.created_time is not None and sample.mime_type == "application/pdf"
    assert "SMITH" not in repr(sample)  # names carry taxpayer names: kept out of reprs and logs


def test_download_3mb_in_256kb_chunks_survives_seeded_faults_and_verifies_md5(drive, drive_service, tmp_path):
    content = os.urandom(3 * MB)
    file_id = drive.add_file("big.pdf", drive.create_folder("dl"), content)
    drive.set_faults(FaultConfig(seed=11, endpoints={"files.get": EndpointFaults(reset=0.15, http_503=0.1)}))
    sleeps: list[float] = []

    meta = make_client(drive_service, sleeps=sleeps).download(file_id, tmp_path / "out" / "big.pdf")

    assert (tmp_path / "out" / "big.pdf").read_bytes() == content
    assert meta.md5 == hashlib.md5(content).hexdigest() and meta.size == 3 * MB
    faults = drive.stats()["faults_by_endpoint"].get("files.get", {})
    assert sum(faults.values()) >= 1 and len(sleeps) == sum(faults.values())  # each fault cost one retry
    assert list((tmp_path / "out").iterdir()) == [tmp_path / "out" / "big.pdf"]


def test_download_with_corrupted_bytes_raises_transient_and_leaves_nothing(drive, drive_service, tmp_path):
    file_id = drive.add_file("bad.pdf", drive.create_folder("corrupt"), b"%PDF-original")
    (drive.store.content_dir / file_id).write_bytes(b"%PDF-tampered")  # Drive serving bytes that fail its md5
    with pytest.raises(TransientError) as caught:
        make_client(drive_service).download(file_id, tmp_path / "bad.pdf")
    assert caught.value.reason == "md5Mismatch" and caught.value.error_class is ErrorClass.TRANSIENT
    assert list(tmp_path.iterdir()) == []


def test_move_removes_every_parent_and_is_repeatable(drive, drive_service):
    inbox, other, matched = drive.create_folder("in"), drive.create_folder("also-in"), drive.create_folder("matched")
    file_id = drive.add_file("n.pdf", inbox, b"x")
    drive.add_legacy_parent(file_id, other)  # a pre-2020 file with two parents: the move must remove both
    client = make_client(drive_service)

    moved = client.move(file_id, to_folder_id=matched)
    again = client.move(file_id, to_folder_id=matched)

    assert moved.parents == [matched] and again.parents == [matched]
    assert drive.files_in(inbox) == [] and drive.files_in(other) == []
    assert drive.stats()["drive"]["single_parent_violations"] == 0
    assert [f.id for f in drive.files_in(matched)] == [file_id]


def test_move_survives_a_lost_response(drive, drive_service):
    inbox, done = drive.create_folder("lost-in"), drive.create_folder("lost-done")
    file_id = drive.add_file("n.pdf", inbox, b"x")
    drive.set_faults(FaultConfig(endpoints={"files.update": EndpointFaults(ambiguous=1.0, ambiguous_modes=["reset"])}))
    client = make_client(drive_service, max_retries=0)
    with pytest.raises(MailroomError):
        client.move(file_id, to_folder_id=done)  # committed, then the connection was reset
    drive.set_faults(FaultConfig())
    assert make_client(drive_service).move(file_id, to_folder_id=done, current_parents=[inbox]).parents == [done]


@pytest.mark.parametrize("loss", ["reset", "503"])
def test_ensure_folder_creates_exactly_once_even_when_the_create_response_is_lost(drive, drive_service, loss):
    parent = drive.create_folder(f"reports-{loss}")
    drive.set_faults(FaultConfig(endpoints={"files.create": EndpointFaults(ambiguous=1.0, ambiguous_modes=[loss])}))
    client = make_client(drive_service)

    first = client.ensure_folder(parent, "2025-10 'daily'")
    drive.set_faults(FaultConfig())
    second = client.ensure_folder(parent, "2025-10 'daily'")

    folders = [f for f in drive.files_in(parent) if f.mime_type == FOLDER_MIME]
    assert first == second and [f.id for f in folders] == [first]
    # the retry of the committed create was answered 409 (same reserved id), not turned into a second folder
    assert drive.stats()["calls"]["files.create"].get("409", 0) >= 1


def test_resumable_upload_resumes_after_injected_resets_and_is_not_duplicated(drive, drive_service, tmp_path):
    folder = drive.create_folder("uploads")
    source = tmp_path / "report.xlsx"
    source.write_bytes(os.urandom(3 * MB + 5))
    drive.set_faults(FaultConfig(seed=3, endpoints={"files.upload_chunk": EndpointFaults(reset=0.3)}))
    client = make_client(drive_service)

    uploaded = client.upload(source, parent_id=folder, name="report.xlsx", mime_type="application/vnd.ms-excel",
                             chunk_size=512 * 1024)
    drive.set_faults(FaultConfig())
    repeated = client.upload(source, parent_id=folder, name="report.xlsx", mime_type="application/vnd.ms-excel")

    calls = drive.stats()["calls"]["files.upload_chunk"]
    assert calls.get("reset", 0) >= 1
    assert drive.content(uploaded.id) == source.read_bytes() and uploaded.md5 == hashlib.md5(source.read_bytes()).hexdigest()
    assert repeated.id == uploaded.id and [f.id for f in drive.files_in(folder)] == [uploaded.id]
    # 7 chunks; after a reset the client asks the session what it holds (one 308) and re-sends only the rest
    assert 7 < calls["308"] + calls.get("200", 0) <= 7 + calls["reset"]


def test_permanent_errors_are_classified_and_not_retried(drive, drive_service):
    locked, target = drive.create_folder("locked"), drive.create_folder("target")
    file_id = drive.add_file("k.pdf", locked, b"x")
    drive.set_read_only(locked)
    sleeps: list[float] = []
    client = make_client(drive_service, sleeps=sleeps)

    with pytest.raises(NotFoundError) as missing:
        client.get("1doesNotExist")
    with pytest.raises(PermanentError) as forbidden:
        client.move(file_id, to_folder_id=target)

    assert missing.value.status == 404 and missing.value.reason == "notFound"
    assert forbidden.value.status == 403 and forbidden.value.reason == "insufficientFilePermissions"
    assert sleeps == []


def test_storage_quota_exceeded_is_permanent(tmp_path):
    with DriveEmulator(quota_bytes=1000) as small:
        client = make_client(build_drive_service(small.service_account_info(), api_endpoint=small.url, timeout=10))
        folder = small.create_folder("reports")
        source = tmp_path / "big.xlsx"
        source.write_bytes(b"x" * 1001)
        with pytest.raises(PermanentError) as caught:
            client.upload(source, parent_id=folder, name="big.xlsx", mime_type="application/vnd.ms-excel")
    assert (caught.value.status, caught.value.reason) == (403, "storageQuotaExceeded")
    assert caught.value.error_class is ErrorClass.PERMANENT


@pytest.mark.parametrize("throttle_status", [403, 429])
def test_server_quota_is_classified_throttled(throttle_status):
    with DriveEmulator(rate_limit=RateLimitConfig(requests_per_second=0.5, burst=2), throttle_status=throttle_status) as limited:
        client = make_client(build_drive_service(limited.service_account_info(), api_endpoint=limited.url, timeout=10),
                             max_retries=0)
        folder = limited.create_folder("q")
        with pytest.raises(ThrottledError) as caught:
            for _ in range(10):
                client.get(folder)
        throttled = limited.stats()["throttled"]
    assert caught.value.error_class is ErrorClass.THROTTLED and caught.value.status == throttle_status
    assert caught.value.reason in ("userRateLimitExceeded", "rateLimitExceeded") and throttled >= 1


def test_one_client_shared_by_eight_threads_downloads_every_file_intact(drive, drive_service, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    folder = drive.create_folder("threads")
    contents = {drive.add_file(f"t{i}.pdf", folder, os.urandom(300 * 1024 + i)): i for i in range(16)}
    client = make_client(drive_service, max_retries=0)  # no retry may hide a garbled shared connection (httplib2)

    with ThreadPoolExecutor(max_workers=8) as pool:
        metas = list(pool.map(lambda fid: client.download(fid, tmp_path / f"{fid}.pdf"), contents))

    assert [m.id for m in metas] == list(contents)
    for file_id in contents:
        assert (tmp_path / f"{file_id}.pdf").read_bytes() == drive.content(file_id)


def test_zero_byte_and_exact_multiple_downloads(drive, drive_service, tmp_path):
    folder = drive.create_folder("edges")
    empty = drive.add_file("empty.pdf", folder, b"")  # the corpus has zero-byte "notices"; Drive answers 416
    exact = drive.add_file("exact.pdf", folder, os.urandom(512 * 1024))
    client = make_client(drive_service)

    empty_meta = client.download(empty, tmp_path / "empty.pdf")
    exact_meta = client.download(exact, tmp_path / "exact.pdf")

    assert (tmp_path / "empty.pdf").read_bytes() == b"" and empty_meta.size == 0
    assert (tmp_path / "exact.pdf").read_bytes() == drive.content(exact) and exact_meta.size == 512 * 1024
