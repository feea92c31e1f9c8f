"""mailroom.drive.DriveClient under Drive's rules (tests/integration/test_drive_rules.py pins the emulator to them):
a mailroom kept in a shared drive, listings that lag behind moves, and throttles that give no Retry-After."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from mailroom.drive import DriveClient, build_drive_service
from mailroom.errors import PermanentError
from mailroom.resilience import FakeClock, ResiliencePolicy, metrics_snapshot, reset_registry
from mailroom_sandbox.drive.server import DriveEmulator
from mailroom_sandbox.http.core import Request
from mailroom_sandbox.http.faults import EndpointFaults, FaultConfig, RateLimitConfig


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_client(service, **options) -> DriveClient:
    policy = ResiliencePolicy("drive", max_retries=3, initial_delay=0.01, max_delay=0.05, use_breaker=False,
                              use_budget=False, sleep=lambda _seconds: None, **options)
    return DriveClient(service, policy=policy)


@pytest.fixture
def lagging() -> Iterator[tuple[DriveEmulator, ManualClock, object]]:
    clock = ManualClock()
    with DriveEmulator(rate_limit=RateLimitConfig(requests_per_second=None), lag_clock=clock) as emulator:
        yield emulator, clock, build_drive_service(emulator.service_account_info(), api_endpoint=emulator.url,
                                                   timeout=10)


def test_a_mailroom_in_a_shared_drive_sends_the_shared_drive_parameters_on_every_call(lagging, tmp_path):
    drive, _clock, service = lagging
    mail = drive.create_shared_drive("Mail")
    inbox = drive.create_folder("CP2000 inbox", mail)
    nested = drive.create_folder("CP 2000 late", inbox)
    matched, reports = drive.create_folder("MATCHED", mail), drive.create_folder("Reports", mail)
    notice = drive.add_file("n.pdf", nested, b"%PDF-1.4 shared")
    seen: list[Request] = []
    drive.server.add_request_hook(seen.append)
    client = make_client(service)

    folders = client.find_folders(inbox)
    pdfs = client.list_pdfs(nested)
    client.download(notice, tmp_path / "n.pdf")
    client.move(notice, to_folder_id=matched)
    (tmp_path / "r.csv").write_text("a,b\n")
    client.upload(tmp_path / "r.csv", parent_id=reports, name="r.csv", mime_type="text/csv")

    assert {f.id for f in folders} == {inbox, nested} and [f.id for f in pdfs] == [notice]
    assert pdfs[0].drive_id == mail and [f.id for f in drive.files_in(matched)] == [notice]
    api = [r for r in seen if r.endpoint.startswith("files.") and r.endpoint not in ("files.generateIds",
                                                                                      "files.upload_chunk")]
    assert api and all(r.query_value("supportsAllDrives") == "true" for r in api), [r.endpoint for r in api]
    listings = [r for r in seen if r.endpoint == "files.list"]
    assert len(listings) >= 3  # inbox, nested, the report name check
    for listing in listings:
        assert (listing.query_value("includeItemsFromAllDrives"), listing.query_value("corpora"),
                listing.query_value("driveId")) == ("true", "drive", mail)
    metadata_gets = [r for r in seen if r.endpoint == "files.get" and r.query_value("alt") != "media"]
    # the root, the download's md5, the move's parents, and the reports folder's drive (asked once: never listed)
    assert len(metadata_gets) == 4


def test_a_my_drive_folder_is_listed_without_a_drive_scope(drive, drive_service):
    inbox = drive.create_folder("plain inbox")
    drive.add_file("p.pdf", inbox, b"%PDF")
    seen: list[Request] = []
    drive.server.add_request_hook(seen.append)
    try:
        assert len(make_client(drive_service).list_pdfs(inbox)) == 1
    finally:
        drive.server._request_hooks.remove(seen.append)
    listing = [r for r in seen if r.endpoint == "files.list"][-1]
    assert listing.query_value("corpora") is None and listing.query_value("includeItemsFromAllDrives") == "true"


def test_moves_read_parents_with_files_get_so_a_stale_listing_never_makes_a_second_parent(lagging):
    drive, clock, service = lagging
    inbox, matched, unmatched = drive.create_folder("in"), drive.create_folder("matched"), drive.create_folder("un")
    notice = drive.add_file("n.pdf", inbox, b"%PDF")
    drive.set_listing_lag(30.0)
    client = make_client(service)

    client.move(notice, to_folder_id=matched)
    relisted = client.list_pdfs(inbox)  # the lagging listing still shows it in the inbox, old parents and all
    assert [f.id for f in relisted] == [notice] and relisted[0].parents == [inbox]

    again = client.move(notice, to_folder_id=unmatched)  # e.g. a rerun files it elsewhere: parents from files.get
    with pytest.raises(PermanentError) as stale:
        client.move(notice, to_folder_id=matched, current_parents=relisted[0].parents)  # what trusting it would do

    assert again.parents == [unmatched]
    assert (stale.value.status, stale.value.reason) == (403, "cannotAddParent")
    assert drive.stats()["drive"]["single_parent_violations"] == 1  # only the deliberate one
    clock.now += 30.0
    assert client.list_pdfs(inbox) == [] and [f.id for f in client.list_pdfs(unmatched)] == [notice]


def test_throttles_without_retry_after_back_off_exponentially(drive, drive_service):
    """Real Drive sends no Retry-After with 403 userRateLimitExceeded / 429: the policy's own backoff must do."""
    folder = drive.create_folder("throttled")
    clock = FakeClock()
    reset_registry(clock=clock)
    calls = {"n": 0}
    lock = threading.Lock()

    def calm_down_after_three(request: Request) -> None:
        if request.endpoint == "files.get":
            with lock:
                calls["n"] += 1
                if calls["n"] == 3:  # the first two gets were throttled; from the third on Drive answers
                    drive.set_faults(FaultConfig())

    drive.server.add_request_hook(calm_down_after_three)
    drive.set_faults(FaultConfig(endpoints={"files.get": EndpointFaults(throttle=0.5, http_429=0.5)}))
    try:
        client = DriveClient(drive_service, policy=ResiliencePolicy(
            "drive", max_retries=3, initial_delay=2.0, jitter=0.0, use_breaker=False, adaptive=False,
            clock=clock, sleep=clock.sleep))
        assert client.get(folder).id == folder
    finally:
        drive.server._request_hooks.remove(calm_down_after_three)
        drive.set_faults(FaultConfig())
    snap = metrics_snapshot()["drive"]["drive.get"]
    assert clock.sleeps == [2.0, 4.0]  # backoff, not a server hint
    assert (snap.throttles, snap.retry_after_waits, snap.successes) == (2, 0, 1)
