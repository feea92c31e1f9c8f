"""Rows a batch flow run hands to the run that reports, on both ledger databases (SQLite file, PostgreSQL)."""

from __future__ import annotations

import pytest

from mailroom import run_rows as run_rows_module
from mailroom.outcomes import Outcome
from mailroom.report import ReportRow
from mailroom.run_rows import RunRows


def _row(file_id: str, outcome: Outcome = Outcome.MATCHED, **values) -> ReportRow:
    return ReportRow(file_id=file_id, file_name=f"{file_id}.pdf", outcome=outcome, **values)


def test_rows_of_several_batches_come_back_in_order_per_run_and_are_forgotten(ledger_target, monkeypatch):
    monkeypatch.setattr(run_rows_module, "PAGE", 3)  # several pages even for a few rows
    with RunRows.open(ledger_target.url, None) as store, RunRows.open(ledger_target.url, None) as other_worker:
        assert store.add("run-1", 1, [_row("f3"), _row("f1", Outcome.UNMATCHED, reason="NO_MATCH: none")]) == 2
        other_worker.add("run-1", 0, [_row(f"e{n}") for n in range(4)])
        other_worker.add("run-2", 0, [_row("x")])
        rows = list(store.rows("run-1"))
        assert [r.file_id for r in rows] == ["e0", "e1", "e2", "e3", "f1", "f3"]
        assert rows[4].outcome is Outcome.UNMATCHED and rows[4].reason == "NO_MATCH: none"
        assert store.count("run-1") == 6 and store.file_ids("run-2") == {"x"}
        # a batch that ran again (its flow run retried) replaces its rows instead of doubling them
        store.add("run-1", 1, [_row("f1", Outcome.FAILED, reason="move: timeout")])
        assert store.count("run-1") == 6
        assert [r.outcome for r in store.rows("run-1") if r.file_id == "f1"] == [Outcome.FAILED]
        store.forget("run-1")
        assert store.count("run-1") == 0 and store.count("run-2") == 1


def test_a_row_cannot_carry_a_full_ssn_into_the_store(ledger_target):
    with RunRows.open(ledger_target.url, None) as store:
        store.add("run", 0, [_row("f", reason="taxpayer 123-45-6789 not found")])
        (row,) = store.rows("run")
    assert "123-45-6789" not in row.model_dump_json()
    with pytest.raises(ValueError):
        _row("g", ssn="123-45-6789")


def test_batch_runs_starting_together_create_the_table_once(postgres_url):
    """Eight 'batch runs' open the store on a new database at the same moment (a barrier, not timing luck)."""
    import threading

    barrier, errors = threading.Barrier(8), []

    def open_store() -> None:
        barrier.wait(timeout=60)
        try:
            RunRows.open(postgres_url, None).close()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
