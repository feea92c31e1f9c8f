"""One sandbox run over everything anyone with access to a Drive folder can drop in (the corpus's hostile files):
formula and control-character names, a right-to-left override, ``../`` names, zero-byte, truncated, encrypted, non-PDF
and oversize files, a duplicate upload and a letter scanned twice. The run Completes, the xlsx opens in openpyxl with
no formula in it, every file has exactly one row with a reason, and each letter is filed once."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from openpyxl import load_workbook

from benchmarks.chaos import MARKER
from blocks.register import SandboxProfile, save_sandbox_blocks
from flows.records import summary_of
from mailroom.report import read_csv
from mailroom.safe_text import FORMULA_TRIGGERS
from tests.flow.test_daily_flow import FULL_SSN, TEST_SETTINGS, run_flow

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]


@pytest.fixture(scope="module")
def hostile_run(prefect_server, tmp_path_factory):
    from mailroom_sandbox.stack import Sandbox

    workdir = tmp_path_factory.mktemp("hostile-run")
    with Sandbox(notices=4, seed=23, scanned_fraction=0.0, include_hostile_files=True, corpus_cache=None,
                 workdir=workdir / "sandbox") as sandbox:
        save_sandbox_blocks(SandboxProfile.of(sandbox), name="hostile", state_dir=str(workdir / "state"),
                            report_dir=str(workdir / "reports"), **TEST_SETTINGS)
        state, _runs = run_flow("hostile")
        yield sandbox, state


def _starts_a_formula(value: str) -> bool:
    stripped = value.lstrip(" ")
    return bool(stripped) and stripped[0] in FORMULA_TRIGGERS


def test_the_run_completes_and_its_xlsx_holds_no_formula(hostile_run):
    _, state = hostile_run
    assert state.is_completed(), state.message
    summary = summary_of(state)
    assert summary.report.write_errors == [] and summary.report.xlsx is not None

    book = load_workbook(summary.report.xlsx)
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert not [cell.value for cell in cells if isinstance(cell.value, str) and _starts_a_formula(cell.value)]
    names = {row[1] for sheet in book for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert "'=cmd|' /C calc'!A0" in " ".join(names)  # the formula is there, as text
    assert any("\\u202e" in name for name in names) and not any("\u202e" in name for name in names)
    everything = summary.report.csv.read_text(encoding="utf-8") + " ".join(str(c.value) for c in cells)
    assert not FULL_SSN.findall(everything.replace("87139-0114", ""))


def test_every_file_has_one_row_with_a_reason_and_the_outcome_the_manifest_expects(hostile_run):
    sandbox, state = hostile_run
    rows = read_csv(summary_of(state).report.csv)
    by_id = {row.file_id: row for row in rows}
    ids = dict(sandbox.file_ids)
    in_scope = sandbox.corpus.in_scope()
    assert len(rows) == len(by_id) == len(in_scope)
    assert all(row.reason for row in rows)
    copies = {f.key for f in in_scope if f.duplicate_of} | {f.duplicate_of for f in in_scope if f.duplicate_of}
    for file in in_scope:
        if file.key not in copies:
            row = by_id[ids[file.key]]
            assert row.outcome.value == file.expected_outcome.value, (file.key, file.trouble, row.reason)
            if file.expected_reason.startswith("bad_file:"):
                failure = file.expected_reason.removeprefix("bad_file:").upper()
                assert row.reason.startswith(f"unreadable ({failure})"), (file.key, row.reason)
    too_large = next(f for f in in_scope if f.expected_reason == "bad_file:too_large")
    assert by_id[ids[too_large.key]].reason.endswith("(not downloaded)")


def test_a_duplicate_upload_and_a_rescanned_letter_are_filed_once_and_the_copy_says_of_what(hostile_run):
    sandbox, state = hostile_run
    summary = summary_of(state)
    rows = {row.file_id: row for row in read_csv(summary.report.csv)}
    ids = dict(sandbox.file_ids)
    store = sandbox.logiqs.store
    documents = Counter(m.group(1) for d in store.documents if (m := MARKER.search(d.comment or "")))
    tasks = Counter(m.group(1) for t in store.tasks if (m := MARKER.search(t.comments or "")))
    groups = [(f.duplicate_of, f.key) for f in sandbox.corpus.files if f.duplicate_of]
    assert len(groups) == 2 and summary.duplicates == 2

    for original_key, copy_key in groups:
        pair = [ids[original_key], ids[copy_key]]
        outcomes = sorted(rows[file_id].outcome.value for file_id in pair)
        assert outcomes == ["MATCHED", "UNMATCHED"], [rows[i].reason for i in pair]
        filed, copy = sorted(pair, key=lambda file_id: rows[file_id].outcome.value)  # whichever claimed it first
        assert rows[copy].duplicate_of == filed and rows[copy].reason.startswith("duplicate of "), rows[copy].reason
        assert (documents[filed], tasks[filed], documents[copy], tasks[copy]) == (1, 1, 0, 0)
    assert sandbox.logiqs.stats()["duplicates"]["total"] == 0
    assert re.search(r"UNMATCHED \(2 duplicates\)", summary.one_line())


def test_a_restarted_sandbox_with_the_same_ids_is_filed_again_not_skipped_as_finished(prefect_server, tmp_path):
    """Same seed, same Drive ids, same ledger (default location in one state dir): the second Drive is a new Drive."""
    from benchmarks.chaos import verify
    from mailroom_sandbox.stack import Sandbox

    seen_ids = []
    for _ in range(2):
        with Sandbox(notices=3, seed=9, scanned_fraction=0.0, include_bad_files=False) as sandbox:
            save_sandbox_blocks(SandboxProfile.of(sandbox), name="restarted", state_dir=str(tmp_path / "state"),
                                report_dir=str(tmp_path / "reports"), **TEST_SETTINGS)
            seen_ids.append(dict(sandbox.file_ids))
            state, _ = run_flow("restarted")
            summary = summary_of(state)
            verdict = verify(sandbox)
            assert state.is_completed(), state.message
            assert (summary.total, summary.finished_earlier) == (verdict.in_scope, 0), summary.one_line()
            assert verdict.exactly_once and verdict.matched + verdict.unmatched == verdict.in_scope, verdict
    assert seen_ids[0] == seen_ids[1]  # the restart really reused every id
