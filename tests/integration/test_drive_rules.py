"""Drive's rules that a first real run meets, as the emulator enforces them for the real google-api-python-client:
one parent per item, throttles without Retry-After, shared drives, and listings that lag behind writes.
Sources for each rule: docs/sandbox-drive.md."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaInMemoryUpload

from mailroom.drive import FOLDER_MIME, build_drive_service
from mailroom_sandbox.drive.server import DriveEmulator
from mailroom_sandbox.http.faults import EndpointFaults, FaultConfig, RateLimitConfig


class ManualClock:
    """The emulator's lag clock, moved by hand: a lag is crossed without sleeping."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _error(caught: pytest.ExceptionInfo[HttpError]) -> tuple[int, str]:
    return caught.value.resp.status, json.loads(caught.value.content)["error"]["errors"][0]["reason"]


def _ids(service, q: str, **params) -> set[str]:
    return {f["id"] for f in service.files().list(q=q, fields="files(id)", **params).execute(num_retries=0)["files"]}


# --- one parent per item -------------------------------------------------------------------------------------------


def test_a_second_parent_is_refused_403_cannot_add_parent_but_a_move_is_fine(drive, drive_service):
    inbox, other, done = drive.create_folder("sp-in"), drive.create_folder("sp-other"), drive.create_folder("sp-done")
    file_id = drive.add_file("n.pdf", inbox, b"x")
    before = drive.stats()["drive"]["single_parent_violations"]
    refused = []
    for call in (
        lambda: drive_service.files().update(fileId=file_id, addParents=other, body={}).execute(num_retries=0),
        lambda: drive_service.files().create(
            body={"name": "two", "mimeType": FOLDER_MIME, "parents": [inbox, other]}).execute(num_retries=0),
        lambda: drive_service.files().create(body={"name": "two.pdf", "parents": [inbox, other]}, media_body=(
            MediaInMemoryUpload(b"%PDF", mimetype="application/pdf", resumable=True))).execute(num_retries=0),
    ):
        with pytest.raises(HttpError) as caught:
            call()
        refused.append(_error(caught))
    moved = drive_service.files().update(fileId=file_id, addParents=done, removeParents=inbox, body={},
                                         fields="parents").execute(num_retries=0)

    assert refused == [(403, "cannotAddParent")] * 3
    assert drive.stats()["drive"]["single_parent_violations"] == before + 3
    assert moved["parents"] == [done] and [f.id for f in drive.files_in(other)] == []


# --- throttles -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("retry_after", [False, True], ids=["like-drive", "with-hint"])
def test_throttles_carry_no_retry_after_unless_switched_on(retry_after):
    with DriveEmulator(rate_limit=RateLimitConfig(requests_per_second=None), throttle_retry_after=retry_after) as em:
        folder = em.create_folder("t")
        service = build_drive_service(em.service_account_info(), api_endpoint=em.url, timeout=10)
        service.files().list().execute(num_retries=0)  # the token is fetched before any throttling starts

        def answer(call) -> tuple[int, str | None]:
            with pytest.raises(HttpError) as caught:
                call()
            return caught.value.resp.status, caught.value.resp.get("retry-after")

        em.set_faults(FaultConfig(endpoints={"files.get": EndpointFaults(throttle=1.0, retry_after_seconds=2),
                                             "files.list": EndpointFaults(http_429=1.0, retry_after_seconds=2)}))
        injected = [answer(lambda: service.files().get(fileId=folder).execute(num_retries=0)),
                    answer(lambda: service.files().list().execute(num_retries=0))]
        em.set_faults(FaultConfig())
        em.set_rate_limit(RateLimitConfig(requests_per_second=0.001, burst=1))  # one request, then ~17 min empty
        service.files().get(fileId=folder).execute(num_retries=0)
        quota = answer(lambda: service.files().get(fileId=folder).execute(num_retries=0))
        switched = requests.put(f"{em.url}/_sandbox/drive/retry-after", json={"enabled": not retry_after}, timeout=5)
        after_switch = answer(lambda: service.files().get(fileId=folder).execute(num_retries=0))

    assert [status for status, _ in injected + [quota]] == [403, 429, 403]
    assert all((hint is not None) == retry_after for _, hint in injected + [quota])
    assert switched.json() == {"ok": True} and (after_switch[1] is None) == retry_after


# --- shared drives -------------------------------------------------------------------------------------------------


@pytest.fixture
def shared(drive) -> dict[str, str]:
    mail = drive.create_shared_drive("Mail room")
    scans = drive.create_folder("CP2000 scans", mail)
    return {"drive": mail, "scans": scans, "notice": drive.add_file("n.pdf", scans, b"%PDF-shared"),
            "mine": drive.add_file("mine.pdf", drive.create_folder("my-drive-folder"), b"%PDF-mine")}


def test_shared_drive_items_are_invisible_without_the_all_drives_parameters(drive, drive_service, shared):
    q = f"'{shared['scans']}' in parents"
    with pytest.raises(HttpError) as plain_get:
        drive_service.files().get(fileId=shared["notice"]).execute(num_retries=0)
    with pytest.raises(HttpError) as plain_move:
        drive_service.files().update(fileId=shared["mine"], addParents=shared["scans"], body={}).execute(num_retries=0)

    assert _error(plain_get) == (404, "notFound") and _error(plain_move) == (404, "notFound")
    assert _ids(drive_service, q) == set()
    assert _ids(drive_service, q, supportsAllDrives=True) == set()  # items also need includeItemsFromAllDrives
    assert _ids(drive_service, q, supportsAllDrives=True, includeItemsFromAllDrives=True) == {shared["notice"]}
    got = drive_service.files().get(fileId=shared["notice"], fields="id,parents,driveId",
                                    supportsAllDrives=True).execute(num_retries=0)
    assert got == {"id": shared["notice"], "parents": [shared["scans"]], "driveId": shared["drive"]}
    mine = drive_service.files().get(fileId=shared["mine"], fields="id,driveId").execute(num_retries=0)
    assert "driveId" not in mine  # only items in shared drives carry one


def test_corpora_drive_searches_one_shared_drive_and_checks_its_parameters(drive, drive_service, shared):
    everything = dict(supportsAllDrives=True, includeItemsFromAllDrives=True)
    in_drive = _ids(drive_service, "trashed = false", corpora="drive", driveId=shared["drive"], **everything)
    all_drives = _ids(drive_service, "trashed = false", corpora="allDrives", **everything)
    refusals = []
    for params in (dict(corpora="drive", **everything), dict(driveId=shared["drive"], **everything),
                   dict(corpora="drive", driveId=shared["drive"], supportsAllDrives=True),
                   dict(corpora="drive", driveId="0AnotADrive", **everything)):
        with pytest.raises(HttpError) as caught:
            drive_service.files().list(**params).execute(num_retries=0)
        refusals.append(_error(caught))

    assert in_drive == {shared["scans"], shared["notice"]}
    assert {shared["scans"], shared["notice"], shared["mine"]} <= all_drives
    assert refusals == [(400, "invalid"), (400, "invalid"), (403, "teamDriveIncludeItemsRequired"), (404, "notFound")]


def test_drives_get_and_list_and_the_drive_root_as_a_folder(drive, drive_service, shared):
    listed = drive_service.drives().list(pageSize=100).execute(num_retries=0)["drives"]
    got = drive_service.drives().get(driveId=shared["drive"]).execute(num_retries=0)
    root = drive_service.files().get(fileId=shared["drive"], fields="id,name,mimeType,driveId",
                                     supportsAllDrives=True).execute(num_retries=0)
    with pytest.raises(HttpError) as missing:
        drive_service.drives().get(driveId="0AnotADrive").execute(num_retries=0)

    assert {"kind": "drive#drive", "id": shared["drive"], "name": "Mail room"} in listed
    assert got == {"kind": "drive#drive", "id": shared["drive"], "name": "Mail room"}
    assert root == {"id": shared["drive"], "name": "Mail room", "mimeType": FOLDER_MIME, "driveId": shared["drive"]}
    assert _error(missing) == (404, "notFound")


def test_a_file_moved_into_a_shared_drive_takes_its_drive_id(drive, drive_service, shared):
    moved = drive_service.files().update(fileId=shared["mine"], addParents=shared["scans"],
                                         removeParents=drive.store.get(shared["mine"]).parents[0], body={},
                                         fields="parents,driveId", supportsAllDrives=True).execute(num_retries=0)
    assert moved == {"parents": [shared["scans"]], "driveId": shared["drive"]}


# --- listings lag behind writes ------------------------------------------------------------------------------------


@pytest.fixture
def lagging() -> Iterator[tuple[DriveEmulator, ManualClock, object]]:
    clock = ManualClock()
    with DriveEmulator(rate_limit=RateLimitConfig(requests_per_second=None), lag_clock=clock) as emulator:
        service = build_drive_service(emulator.service_account_info(), api_endpoint=emulator.url, timeout=10)
        yield emulator, clock, service


def test_a_move_shows_in_listings_only_after_the_lag_while_files_get_is_immediate(lagging):
    drive, clock, service = lagging
    inbox, done = drive.create_folder("in"), drive.create_folder("done")
    old = drive.add_file("old.pdf", inbox, b"seeded before the lag: listed at once")
    drive.set_listing_lag(5.0)
    new = service.files().create(body={"name": "new.pdf", "parents": [inbox]}, fields="id").execute()["id"]
    service.files().update(fileId=old, addParents=done, removeParents=inbox, body={}).execute(num_retries=0)

    stale = service.files().list(q=f"'{inbox}' in parents", fields="files(id,parents)").execute()["files"]
    assert stale == [{"id": old, "parents": [inbox]}]  # the old listing, parents included; `new` not there yet
    assert _ids(service, f"'{done}' in parents") == set()
    assert service.files().get(fileId=old, fields="parents").execute() == {"parents": [done]}
    assert drive.stats()["drive"]["listing_pending"] == 2

    clock.now += 5.0
    assert _ids(service, f"'{inbox}' in parents") == {new}
    assert _ids(service, f"'{done}' in parents") == {old}
    assert drive.stats()["drive"]["listing_pending"] == 0
    requests.put(f"{drive.url}/_sandbox/drive/listing-lag", json={"seconds": 0}, timeout=5).raise_for_status()
    assert drive.stats()["drive"]["listing_lag_seconds"] == 0
