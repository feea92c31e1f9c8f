"""Oversize notices through the daily flow: a readable 10 MB colour scan of a matched notice is recompressed and
filed (MATCHED, a document within Logiqs' 6 MB, its hash in the ledger); a notice whose weight no recompression
removes is set aside UNMATCHED with the reason; the next run does nothing with either."""

from __future__ import annotations

import hashlib

import pytest

from blocks.register import SandboxProfile, save_sandbox_blocks
from flows.records import summary_of
from mailroom.ledger import Ledger, default_ledger_path
from mailroom.report import Outcome, read_csv
from mailroom.resilience import reset_registry
from mailroom_sandbox.corpus.heavy import colour_scan, with_attachment
from mailroom_sandbox.corpus.models import FileKind
from mailroom_sandbox.http.core import parse_multipart
from tests.flow.test_daily_flow import run_flow

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]

MB = 1024 * 1024
LOGIQS_LIMIT = 6 * MB


def test_a_10_mb_scan_is_filed_recompressed_and_an_unfittable_one_is_set_aside(prefect_server, sandbox_factory,
                                                                               tmp_path):
    sandbox = sandbox_factory(notices=8, seed=5)
    typed_matched = [f for f in sandbox.corpus.in_scope()
                     if f.kind is FileKind.TYPED and f.expected_outcome.value == "MATCHED"]
    heavy_source, unfit_source = typed_matched[:2]
    drive = sandbox.drive
    big = colour_scan(sandbox.corpus.path(heavy_source).read_bytes(), seed=11)
    unfit = with_attachment(sandbox.corpus.path(unfit_source).read_bytes(), seed=12)
    assert len(big) > 10_000_000 and len(unfit) > LOGIQS_LIMIT
    heavy_id = drive.add_file(heavy_source.drive_name, sandbox.folder_ids[heavy_source.folder_key], big)
    unfit_id = drive.add_file(unfit_source.drive_name, sandbox.folder_ids[unfit_source.folder_key], unfit)
    for replaced in (heavy_source, unfit_source):  # the scanner's heavy copies replace the light ones
        drive.store.update(sandbox.drive_id(replaced), trashed=True)
    uploads: list[tuple[int, str]] = []  # (bytes, sha256) of every document that reached Logiqs
    sandbox.logiqs.server.add_request_hook(lambda r: uploads.extend(
        (len(p.data), hashlib.sha256(p.data).hexdigest()) for p in parse_multipart(r) if p.filename
    ) if r.method == "POST" and "multipart" in (r.header("Content-Type") or "") else None)
    save_sandbox_blocks(SandboxProfile.of(sandbox), name="oversize", state_dir=str(tmp_path / "state"),
                        report_dir=str(tmp_path / "reports"), call_max_retries=1, call_initial_delay=0.05,
                        task_retries=1, task_retry_delay_seconds=0.1)

    first, _ = run_flow("oversize")

    rows = {row.file_id: row for row in read_csv(summary_of(first).report.csv)}
    assert first.is_completed(), first.message
    assert rows[heavy_id].outcome is Outcome.MATCHED and rows[heavy_id].case_id == heavy_source.expected_case_id
    assert rows[unfit_id].outcome is Outcome.UNMATCHED
    assert rows[unfit_id].reason.startswith(f"case {unfit_source.expected_case_id} matched but the document "
                                            "cannot be filed: document is 7.")
    assert "over the 6 MB Logiqs upload limit" in rows[unfit_id].reason
    filed = [d for d in sandbox.logiqs.store.documents if d.case_id == heavy_source.expected_case_id]
    assert [d.file_name for d in filed] == [rows[heavy_id].document_name] and filed[0].size <= LOGIQS_LIMIT
    assert not [d for d in sandbox.logiqs.store.documents if d.case_id == unfit_source.expected_case_id]
    assert max(size for size, _ in uploads) <= LOGIQS_LIMIT  # nothing over the limit was ever sent
    ledger = Ledger(default_ledger_path(tmp_path / "state"))
    heavy_record = next(r for r in ledger.records() if r.key.file_id == heavy_id)
    assert (filed[0].size, heavy_record.document_sha256) in uploads  # the hash of the copy Logiqs holds
    assert heavy_record.document_sha256 != hashlib.sha256(big).hexdigest()
    assert {f.id for f in drive.files_in(sandbox.folders.matched)} >= {heavy_id}
    assert {f.id for f in drive.files_in(sandbox.folders.unmatched)} >= {unfit_id}
    before = sandbox.stats()

    reset_registry()  # the next run is a new process
    second, _ = run_flow("oversize")

    after = sandbox.stats()
    assert second.is_completed(), second.message
    assert summary_of(second).total == 0  # nothing left in the input folders: not even listed
    assert after["logiqs"]["documents_total"] == before["logiqs"]["documents_total"]
    assert after["logiqs"]["tasks_total"] == before["logiqs"]["tasks_total"]
    assert after["drive"]["calls"]["files.update"] == before["drive"]["calls"]["files.update"]
    assert after["drive"]["drive"]["single_parent_violations"] == 0
