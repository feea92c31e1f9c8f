"""Crash-resume: the daily flow runs in a child process that is killed with SIGKILL at random points (chosen by the
number of Logiqs requests seen), rerun after each kill, then run to completion. The sandbox lives in the test
process, so it outlives every killed run and its counters are the evidence. Also: two flow processes started at
once (a manual run during the scheduled one) over the same folders and ledger. Both run once per ledger backend:
the default SQLite file in the state dir, and a PostgreSQL database named by the settings block's ``ledger_url``.
"""

from __future__ import annotations

import re
import time

import pytest

from benchmarks.chaos import crash_resume
from mailroom.ledger import Outcome
from mailroom_sandbox.http.faults import FaultConfig

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]

NOTICES = 10
KILLS = 3


def test_kill_9_at_random_points_then_rerun_files_every_notice_once(prefect_server, sandbox_factory, tmp_path,
                                                                   ledger_target):
    sandbox = sandbox_factory(notices=NOTICES, seed=31, scanned_fraction=0.0)
    # A few lost responses too, so a kill can also land while a lookup-before-retry is pending.
    sandbox.set_faults(FaultConfig.uniform(0.05, seed=31, ambiguous_rate=0.1))

    verdict, runs = crash_resume(sandbox, prefect_server.api_url, tmp_path, kills=KILLS, seed=31,
                                 **ledger_target.settings())

    log = (tmp_path / "flow-child.log").read_text(errors="replace")
    print(f"\ncrash-resume: {verdict.model_dump()}\n" + "\n".join(f"  {r}" for r in runs))
    assert sum(r.killed for r in runs) >= KILLS - 1, "the kills did not happen: the test proved nothing"
    assert runs[-1].returncode == 0, log[-3000:]
    assert verdict.exactly_once, verdict
    assert verdict.matched + verdict.unmatched == verdict.in_scope
    ledger = ledger_target.open()
    records = ledger.records()
    assert len(records) == verdict.in_scope
    assert {r.outcome for r in records} == {Outcome.MATCHED, Outcome.UNMATCHED}
    assert sum(r.outcome is Outcome.MATCHED for r in records) == verdict.matched
    resumed = [r for r in records if r.runs > 1]
    assert resumed, "no notice was ever taken over from a killed run"
    assert all("dead holder" in " ".join(ledger.history(r.key)) or r.runs > 1 for r in resumed)


def test_a_manual_run_during_the_scheduled_one_files_every_notice_once(prefect_server, sandbox_factory, tmp_path,
                                                                      ledger_target):
    """Two flow processes over the same folders and ledger, forced to overlap: the Drive emulator holds the first
    notice download until the other run has found that notice held (BUSY) in the ledger. Each notice is filed by one
    of them, and the verdict does not depend on how fast either run is."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from benchmarks.chaos import run_flow_child, save_blocks, verify

    sandbox = sandbox_factory(notices=NOTICES, seed=32, scanned_fraction=0.0)
    sandbox.set_faults(FaultConfig.uniform(0.05, seed=32, ambiguous_rate=0.1))
    save_blocks(sandbox, "two-runs", tmp_path, **ledger_target.settings())
    held: list[str] = []  # the file id of the first download, held until released
    lock, released = threading.Lock(), threading.Event()

    def hold_first_download(request) -> None:
        if request.endpoint != "files.get" or request.query_value("alt") != "media":
            return
        file_id = request.path_params["fileId"]
        with lock:
            if not held:
                held.append(file_id)
        if held[0] == file_id:
            released.wait(timeout=240)

    sandbox.drive.server.add_request_hook(hold_first_download)
    logs = [tmp_path / f"run-{n}.log" for n in range(2)]
    busy_seen = False
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(run_flow_child, "two-runs", prefect_server.api_url, tmp_path, log_name=log.name)
                   for log in logs]
        deadline = time.monotonic() + 240
        while not busy_seen and time.monotonic() < deadline and not all(f.done() for f in futures):
            time.sleep(0.2)
            busy_seen = bool(held) and any(
                f"notice {held[0]} skipped: BUSY" in log.read_text(errors="replace") for log in logs if log.exists()
            )
        released.set()
        runs = [f.result() for f in futures]

    verdict = verify(sandbox)
    texts = [log.read_text(errors="replace") for log in logs]
    print(f"\ntwo runs: {verdict.model_dump()} {runs}")
    assert busy_seen, "the second run never met the held notice: the overlap was not forced"
    assert [r.returncode for r in runs] == [0, 0], "\n".join(text[-2000:] for text in texts)
    assert verdict.exactly_once and verdict.lost == 0, verdict
    records = ledger_target.open().records()
    assert len(records) == verdict.in_scope and all(r.outcome is not None for r in records)
    # Each run reports only the notices it filed: together exactly the whole set, no notice in both.
    filed = [int(m) for text in texts for m in re.findall(r"(\d+) notices: ", text)[-1:]]
    assert sum(filed) == verdict.in_scope, filed
