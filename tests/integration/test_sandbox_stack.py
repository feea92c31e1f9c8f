"""The sandbox stack end to end, through the real clients: what the corpus says is in Drive and Logiqs really is
there, faults start only after seeding, the profile is private, the CLI starts and stops cleanly."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from mailroom.drive import DriveClient, build_drive_service
from mailroom.errors import AuthError
from mailroom.logiqs import LogiqsClient
from mailroom_sandbox.corpus.models import FileKind, Reason
from mailroom_sandbox.http.faults import EndpointFaults, FaultConfig
from mailroom_sandbox.stack import Sandbox


def _port_open(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((parts.hostname, parts.port)) == 0


def test_corpus_files_and_folders_are_visible_through_the_drive_client(sandbox: Sandbox, tmp_path: Path) -> None:
    drive = DriveClient(build_drive_service(sandbox.service_account_info, api_endpoint=sandbox.drive_url))
    found = drive.find_folders(sandbox.folders.input_root)
    corpus = sandbox.corpus
    assert sorted(f.name for f in found) == sorted(f.name for f in corpus.folders if f.matches())
    listed = [pdf for folder in found for pdf in drive.list_pdfs(folder.id)]
    assert Counter(f.name for f in listed) == Counter(f.drive_name for f in corpus.in_scope())
    every_folder = drive.find_folders(sandbox.folders.input_root, name_patterns=())
    assert len(every_folder) == len(corpus.folders)
    assert sum(len(drive.list_pdfs(f.id)) for f in every_folder) == len(corpus.files)

    typed = corpus.of_kind(FileKind.TYPED)[0]
    got = drive.download(sandbox.drive_id(typed), tmp_path / "notice.pdf")
    assert got.md5 == typed.md5 == hashlib.md5((tmp_path / "notice.pdf").read_bytes()).hexdigest()
    assert got.name == typed.drive_name and got.parents == [sandbox.folder_ids[typed.folder_key]]
    for output in ("matched", "unmatched", "failed", "reports"):
        assert drive.list_pdfs(getattr(sandbox.folders, output)) == []


def test_the_case_book_is_findable_through_the_logiqs_client(sandbox_factory) -> None:
    sandbox = sandbox_factory(logiqs_rate_limit=None)  # ~30 calls: the server-side limit is tested elsewhere
    logiqs = LogiqsClient(sandbox.logiqs_url, sandbox.logiqs_api_key, sandbox.logiqs_secret)
    logiqs.check_access()
    notices = [f for f in sandbox.corpus.files if f.notice is not None]
    matched = [f for f in notices if f.expected_reason == Reason.MATCHED.value]
    assert matched
    for f in matched:
        candidates = logiqs.find_cases(f.notice.taxpayer_last_name, f.notice.ssn_last4, active_only=True)
        assert f.expected_case_id in {c.case_id for c in candidates}, f.key
        assert logiqs.get_case(f.expected_case_id).ssn_last4 == f.notice.ssn_last4
    for f in (f for f in notices if f.expected_reason == Reason.NO_CASE.value):
        assert logiqs.find_cases(f.notice.taxpayer_last_name, f.notice.ssn_last4) == []
    key, secret = sandbox.limited_api_key
    with pytest.raises(AuthError):
        LogiqsClient(sandbox.logiqs_url, key, secret).check_access()


def test_faults_start_only_after_seeding_and_change_at_runtime(sandbox_factory) -> None:
    always_500 = FaultConfig(seed=1, default=EndpointFaults(http_500=1.0))
    sandbox = sandbox_factory(faults=always_500)
    assert len(sandbox.file_ids) == len(sandbox.corpus.files)  # seeding met no fault
    find_case = f"{sandbox.logiqs_url}Case/FindCase"
    auth = (sandbox.logiqs_api_key, sandbox.logiqs_secret)
    body = {"LastName": "Nobody", "Last4SSN": "0000"}
    assert requests.post(find_case, json=body, auth=auth, timeout=5).status_code == 500
    sandbox.set_faults(0.0)
    assert requests.post(find_case, json=body, auth=auth, timeout=5).json()["Success"] is True
    stats = sandbox.stats()
    assert stats["logiqs"]["faults"] and set(stats) == {"drive", "logiqs"}
    sandbox.outage("logiqs", 30)
    assert requests.post(find_case, json=body, auth=auth, timeout=5).status_code == 503


def test_profile_is_private_and_complete_and_repr_hides_credentials(sandbox: Sandbox, tmp_path: Path) -> None:
    path = sandbox.write_profile(tmp_path / "profile.json")
    assert path.stat().st_mode & 0o777 == 0o600
    profile = json.loads(path.read_text())
    assert profile["drive_url"] == sandbox.drive_url and profile["logiqs_url"] == sandbox.logiqs_url
    assert set(profile["folders"]) == {"input_root", "matched", "unmatched", "failed", "reports"}
    assert profile["service_account_info"]["token_uri"].startswith(sandbox.drive_url)
    assert requests.get(profile["stats_urls"]["drive"], timeout=5).json()["service"] == "drive"
    assert (profile["logiqs_api_key"], profile["logiqs_secret"]) == (sandbox.logiqs_api_key, sandbox.logiqs_secret)
    assert profile["service_account_info"] == sandbox.service_account_info
    assert profile["limited_logiqs_api_key"] == list(sandbox.limited_api_key)
    assert profile["logiqs_search_dialect"] == sandbox.logiqs_dialect == "v4-findcase"
    for secret in (sandbox.logiqs_api_key, sandbox.logiqs_secret, sandbox.service_account_info["private_key"]):
        assert secret not in repr(sandbox)


def test_stop_frees_both_ports_and_the_temporary_workdir(sandbox_factory) -> None:
    sandbox = sandbox_factory(notices=12)
    urls, workdir = (sandbox.drive_url, sandbox.logiqs_url), sandbox.workdir
    assert all(_port_open(u) for u in urls) and workdir.is_dir()
    sandbox.stop()
    assert not any(_port_open(u) for u in urls) and not workdir.exists()
    sandbox.stop()  # idempotent


@pytest.mark.parametrize("entry_point", ["mailroom.sandbox", "mailroom_sandbox"])  # the documented one forwards
def test_cli_up_seeds_writes_the_profile_and_stops_on_ctrl_c(tmp_path: Path, entry_point: str) -> None:
    profile = tmp_path / "profile.json"
    command = [sys.executable, "-m", entry_point, "up", "--notices", "4", "--scanned-fraction", "0",
               "--fault-rate", "0.1", "--profile", str(profile), "--workdir", str(tmp_path / "work"),
               "--corpus-cache", str(tmp_path / "cache")]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not profile.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert profile.exists(), process.stdout.read() if process.poll() is not None else "no profile in 60 s"
        time.sleep(0.2)  # the profile is complete once the file is closed; give the print a moment
        data = json.loads(profile.read_text())
        stats = requests.get(data["stats_urls"]["logiqs"], timeout=5).json()
        assert stats["service"] == "logiqs"
        faults = requests.get(data["stats_urls"]["drive"].replace("stats", "faults"), timeout=5).json()
        assert faults["default"]["http_500"] > 0  # --fault-rate reached the emulators
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
    assert process.returncode == 0
    assert "python -m blocks.register --sandbox-profile" in output and "sandbox stopped" in output
    assert data["logiqs_secret"] not in output
    assert not _port_open(data["drive_url"]) and not _port_open(data["logiqs_url"])


def test_a_failed_start_leaves_no_server_running(corpus_cache, tmp_path: Path) -> None:
    broken = corpus_cache().model_copy()
    broken.root = tmp_path / "missing"  # every corpus file is missing: seeding Drive fails after both servers started
    threads_before = threading.active_count()
    sandbox = Sandbox(corpus=broken)
    with pytest.raises(FileNotFoundError):
        sandbox.start()
    assert sandbox.drive is None and sandbox.logiqs is None
    deadline = time.monotonic() + 5
    while threading.active_count() > threads_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= threads_before


def test_the_cli_and_the_stack_pick_the_logiqs_dialect(sandbox_factory) -> None:
    from mailroom_sandbox.__main__ import DIALECTS, _parser

    assert DIALECTS[_parser().parse_args(["up", "--logiqs-dialect", "v3"]).logiqs_dialect] == "v3-findcase"
    assert DIALECTS[_parser().parse_args(["up"]).logiqs_dialect] == "v4-findcase"
    sandbox = sandbox_factory(notices=2, logiqs_dialect="v3-findcase")
    body = {"LastName": "Nobody", "Last4SSN": "0000"}
    v3 = requests.post(sandbox.logiqs.url + "/publicapi/V3/Case/FindCase", json=body, timeout=5,
                       headers={"X-Api-Key": sandbox.logiqs_api_key})
    assert v3.status_code == 200 and v3.json() == {"matchFound": False, "caseData": None}
    v4 = requests.post(sandbox.logiqs_url + "Case/FindCase", json=body, timeout=5,
                       auth=(sandbox.logiqs_api_key, sandbox.logiqs_secret))
    assert v4.status_code == 404  # one dialect per tenant
