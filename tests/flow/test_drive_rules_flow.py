"""The daily flow where the firm keeps its mail: a shared drive whose listings lag behind writes, as real Drive's do.

Every notice reaches the outcome the manifest expects, the pipeline never asks Drive for a second parent, and a
second run started before the first run's moves show in the listings (the lag outlasts the test) meets every moved
notice again in its old folder: the ledger knows each one is finished, so nothing is downloaded, filed or moved twice.
"""

from __future__ import annotations

import pytest

from blocks.register import SandboxProfile, save_sandbox_blocks
from flows.records import summary_of
from mailroom.report import read_csv
from mailroom.resilience import reset_registry
from tests.flow.test_daily_flow import run_flow

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]

LAG_SECONDS = 3600.0  # longer than the test: the second run lists exactly what the first one saw


def test_shared_drive_with_lagging_listings_files_each_notice_once(prefect_server, sandbox_factory, tmp_path):
    sandbox = sandbox_factory(notices=8, seed=5, shared_drive=True, listing_lag=LAG_SECONDS)
    save_sandbox_blocks(SandboxProfile.of(sandbox), name="shared-lag", state_dir=str(tmp_path / "state"),
                        report_dir=str(tmp_path / "reports"), call_max_retries=1, call_initial_delay=0.05,
                        task_retries=1, task_retry_delay_seconds=0.1)
    expected = {sandbox.drive_id(f): f.expected_outcome.value for f in sandbox.corpus.in_scope()}
    assert sandbox.drive.store.get(sandbox.folders.input_root).drive_id == sandbox.shared_drive_id
    downloads: list[str] = []
    sandbox.drive.server.add_request_hook(
        lambda r: downloads.append(r.path_params["fileId"]) if r.query_value("alt") == "media" else None)

    first, _ = run_flow("shared-lag")
    rows = {row.file_id: row.outcome.value for row in read_csv(summary_of(first).report.csv)}
    assert first.is_completed(), first.message
    assert rows == expected
    after_first = sandbox.stats()
    filed = {f.id for f in sandbox.drive.files_in(sandbox.folders.matched)} | {
        f.id for f in sandbox.drive.files_in(sandbox.folders.unmatched)}
    assert filed == set(expected)
    assert after_first["drive"]["drive"]["listing_pending"] >= len(expected)  # every move still unlisted
    assert set(downloads) >= set(expected)
    downloads.clear()

    reset_registry()  # the next run is a new process
    second, _ = run_flow("shared-lag")
    summary = summary_of(second)
    after_second = sandbox.stats()

    assert second.is_completed(), second.message
    assert (summary.total, summary.skipped) == (0, len(expected))  # relisted (stale), met FINISHED in the ledger
    assert after_second["logiqs"]["documents_total"] == after_first["logiqs"]["documents_total"]
    assert after_second["logiqs"]["tasks_total"] == after_first["logiqs"]["tasks_total"]
    assert after_second["logiqs"]["duplicates"]["total"] == 0
    assert downloads == []  # not even read again: the ledger answered FINISHED before any download
    updates = after_second["drive"]["calls"]["files.update"]
    assert updates == after_first["drive"]["calls"]["files.update"], "the second run moved a file again"
    for stats in (after_first, after_second):
        assert stats["drive"]["drive"]["single_parent_violations"] == 0
