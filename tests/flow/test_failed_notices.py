"""A notice that still fails after every retry ends FAILED, stays in its input folder, is listed in the report, and
the run ends Failed only after the others were processed; the next run finishes it without filing anything twice."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context

import pytest

from blocks.register import SandboxProfile, save_sandbox_blocks
from flows.records import summary_of
from mailroom.report import Outcome, read_csv
from mailroom.resilience import reset_registry
from mailroom_sandbox.http.faults import EndpointFaults, FaultConfig
from tests.flow.test_daily_flow import run_flow

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]


def _wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_failed_notices_stay_in_place_and_the_next_run_finishes_them(prefect_server, tmp_path):
    from mailroom_sandbox.stack import Sandbox

    # Typed notices only: what fails here is Logiqs, after reading; scans would add OCR time to both runs and prove
    # nothing more (scans through the flow: test_daily_flow, test_urgency_flow). Still 5 to file, 7 that end UNMATCHED.
    with Sandbox(notices=8, seed=4, scanned_fraction=0.0) as sandbox:
        save_sandbox_blocks(SandboxProfile.of(sandbox), name="failtest", state_dir=str(tmp_path / "state"),
                            report_dir=str(tmp_path / "reports"), call_max_retries=0, task_retries=1,
                            task_retry_delay_seconds=0.1, review_enabled=False)  # outcomes as the manifest says
        expected = {sandbox.drive_id(f): f.expected_outcome.value for f in sandbox.corpus.in_scope()}
        assert {"MATCHED", "UNMATCHED"} <= set(expected.values()), "the corpus changed: pick another seed"
        with ThreadPoolExecutor(1) as pool:
            first_run = pool.submit(copy_context().run, run_flow, "failtest")  # with this test's Prefect settings
            # Once the access check has probed Task/Task, Logiqs refuses every follow-up task: no notice can
            # complete MATCHED in this run (the first real task is created seconds later, after download+match).
            _wait_for(lambda: first_run.done() or sum(sandbox.stats()["logiqs"]["calls"].get("Task/Task", {}).values()))
            assert not first_run.done(), first_run.result()
            sandbox.set_faults(FaultConfig(seed=1, endpoints={"Task/Task": EndpointFaults(http_503=1.0)}),
                               services=("logiqs",))
            state, runs = first_run.result(timeout=240)

        summary = summary_of(state)
        rows = {row.file_id: row for row in read_csv(summary.report.csv)}
        assert set(rows) == set(expected)  # every notice reported exactly once, FAILED ones included
        failed = {fid for fid, row in rows.items() if row.outcome is Outcome.FAILED}
        assert {fid for fid, outcome in expected.items() if outcome == "MATCHED"} <= failed
        assert not any(row.outcome is Outcome.MATCHED for row in rows.values())
        assert any(row.outcome is Outcome.UNMATCHED for row in rows.values())  # the others were processed
        assert state.is_failed()
        assert f"{summary.failed} of {summary.total} notice(s) FAILED" in state.message
        assert str(summary.report.xlsx) in state.message
        parents = {fid: sandbox.drive.store.get(fid).parents for fid in failed}
        assert all(sandbox.folders.matched not in p and sandbox.folders.unmatched not in p for p in parents.values())
        assert all(rows[fid].failed_step and rows[fid].reason for fid in failed)
        # In the UI: a FAILED notice's own task run is Failed (with its reason), the others' are Completed, and the
        # steps that finished before the failing one stay Completed (no "RolledBack" labels).
        notice_runs = {run.name.removeprefix("notice-"): run for run in runs if run.name.startswith("notice-")}
        assert set(notice_runs) == set(expected)
        assert {fid for fid, run in notice_runs.items() if run.state_type.value == "FAILED"} == failed
        assert all(notice_runs[fid].state.message == rows[fid].reason for fid in failed)
        assert "RolledBack" not in {run.state_name for run in runs}
        assert {run.state_name for run in runs if run.task_key.startswith(("download", "upload_document"))} == {
            "Completed"}

        sandbox.set_faults(0)
        reset_registry()  # the next run is a new process: it inherits no circuit this run opened
        state, _ = run_flow("failtest")

        assert state.is_completed(), state.message
        rerun = {row.file_id: row.outcome.value for row in read_csv(summary_of(state).report.csv)}
        assert rerun == {fid: expected[fid] for fid in failed}  # only the FAILED ones were left to do
        stats = sandbox.stats()["logiqs"]
        matched = sum(outcome == "MATCHED" for outcome in expected.values())
        assert stats["documents_total"] == stats["tasks_total"] == matched
        assert stats["duplicates"]["total"] == 0
        assert {f.id for f in sandbox.drive.files_in(sandbox.folders.matched)} == {
            fid for fid, outcome in expected.items() if outcome == "MATCHED"}
