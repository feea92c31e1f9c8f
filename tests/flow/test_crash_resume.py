"""Crash-resume: the daily flow runs in a child process that is killed with SIGKILL at random points (chosen by the
number of Logiqs requests seen), rerun after each kill, then run to completion. The sandbox lives in the test
process, so it outlives every killed run and its counters are the evidence. Also: two flow processes started at
once (a manual run during the scheduled one) over the same folders and ledger. Both run once per ledger backend:
the default SQLite file in the state dir, and a PostgreSQL database named by the settings block's ``ledger_url``.
"""

from __future__ import annotations

import re

import pytest

from benchmarks.chaos import crash_resume
from mailroom.ledger import Outcome
from mailroom.sandbox.faults import FaultConfig

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
    """Two flow processes started together on the same folders and ledger: each notice is filed by one of them."""
    from concurrent.futures import ThreadPoolExecutor

    from benchmarks.chaos import run_flow_child, save_blocks, verify

    sandbox = sandbox_factory(notices=NOTICES, seed=32, scanned_fraction=0.0)
    sandbox.set_faults(FaultConfig.uniform(0.05, seed=32, ambiguous_rate=0.1))
    save_blocks(sandbox, "two-runs", tmp_path, **ledger_target.settings())
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(run_flow_child, "two-runs", prefect_server.api_url, tmp_path, log_name=f"run-{n}.log")
                   for n in range(2)]
        runs = [f.result() for f in futures]

    verdict = verify(sandbox)
    logs = [(tmp_path / f"run-{n}.log").read_text(errors="replace") for n in range(2)]
    print(f"\ntwo runs: {verdict.model_dump()} {runs}")
    assert [r.returncode for r in runs] == [0, 0], "\n".join(log[-2000:] for log in logs)
    assert verdict.exactly_once and verdict.lost == 0, verdict
    records = ledger_target.open().records()
    assert len(records) == verdict.in_scope and all(r.outcome is not None for r in records)
    # Each run reports only the notices it filed: together exactly the whole set, no notice in both.
    filed = [int(m) for log in logs for m in re.findall(r"(\d+) notices: ", log)[-1:]]
    assert sum(filed) == verdict.in_scope, filed
    assert any("skipped: BUSY" in log or "skipped: FINISHED" in log for log in logs), "the runs never overlapped"
