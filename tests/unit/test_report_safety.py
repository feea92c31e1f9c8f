"""The report with hostile file names: printable cells, no formula in xlsx or csv, and a report that cannot fail."""

from __future__ import annotations

import csv
import gc
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from mailroom.outcomes import Outcome, SkipReason
from mailroom.report import ReportRow, RunSummary, read_csv, summary_markdown, write_report
from mailroom.safe_text import FORMULA_TRIGGERS, from_spreadsheet_cell, printable, spreadsheet_cell

HOSTILE_NAMES = [
    "=cmd|' /C calc'!A0.pdf",
    "+SUM(1,2).pdf",
    "-2+3.pdf",
    "@SUM(A1).pdf",
    "\t=HYPERLINK(\"http://x\").pdf",
    "\r=1+1.pdf",
    "  =1+1 with leading spaces.pdf",
    "\uff1dfull-width equals.pdf",
    "bell\x07and escape\x1b[31m.pdf",
    "nul\x00inside.pdf",
    "CP2000 \u202efdp.exe",
    "'already quoted.pdf",
    "../../etc/passwd.pdf",
    "plain CP2000 SMITH.pdf",
]


def _rows() -> list[ReportRow]:
    return [ReportRow(file_id=f"f{i}", file_name=name, outcome=Outcome.UNMATCHED, reason=f"unreadable: {name}")
            for i, name in enumerate(HOSTILE_NAMES)]


def _starts_a_formula(value: str) -> bool:
    stripped = value.lstrip(" ")
    return bool(stripped) and stripped[0] in FORMULA_TRIGGERS


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_cell_is_printable_never_a_formula_and_reads_back(name):
    cell = spreadsheet_cell(name)
    assert not _starts_a_formula(cell)
    assert printable(cell) == cell  # nothing invisible left
    assert from_spreadsheet_cell(cell) == printable(name)


def test_control_and_bidi_characters_are_shown_not_hidden():
    assert printable("a\x07b\u202ec\td") == "a\\x07b\\u202ec\\x09d"
    assert printable("Ünïcødé 東京 ✓") == "Ünïcødé 東京 ✓"  # ordinary non-ASCII is untouched


def test_the_xlsx_holds_no_formula_and_the_csv_reads_back_the_rows(tmp_path: Path):
    rows = _rows()
    files = write_report(rows, tmp_path, "hostile")
    assert files.write_errors == [] and files.xlsx and files.csv

    book = load_workbook(files.xlsx)
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert not [text for text in texts if _starts_a_formula(text)]
    unmatched = {row[0]: row[1] for row in book["Unmatched"].iter_rows(min_row=2, values_only=True)}
    assert unmatched["f0"] == "'=cmd|' /C calc'!A0.pdf"
    assert unmatched["f10"] == "CP2000 \\u202efdp.exe"

    with files.csv.open(newline="", encoding="utf-8") as handle:
        raw = [value for record in csv.reader(handle) for value in record]
    assert not [value for value in raw if _starts_a_formula(value)]
    assert [r.model_dump() for r in read_csv(files.csv)] == [r.model_dump() for r in rows]


def test_a_report_that_cannot_be_written_is_named_and_the_other_file_still_written(tmp_path: Path, monkeypatch):
    unraisable: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: unraisable.append(type(u.exc_value).__name__))
    (tmp_path / "blocked.xlsx").mkdir()  # the xlsx cannot be saved where a directory sits
    files = write_report(_rows(), tmp_path, "blocked")
    gc.collect()
    assert unraisable == []  # the unsaved workbook's sheet writers were closed, not left to fail when collected

    assert files.xlsx is None and files.csv == tmp_path / "blocked.csv" and files.csv.is_file()
    assert files.write_errors == ["xlsx report not written (IsADirectoryError)"]
    assert "blocked.csv" in files.local
    markdown = summary_markdown(RunSummary.of(_rows(), report=files))
    assert "Report incomplete" in markdown and "xlsx report not written" in markdown


def test_nothing_writable_still_returns_what_failed(tmp_path: Path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    files = write_report(_rows(), not_a_dir, "r")
    assert (files.xlsx, files.csv) == (None, None) and len(files.write_errors) == 2
    assert files.local.startswith("no local copy")


def test_the_summary_tells_held_finished_earlier_and_duplicates_apart():
    rows = [
        ReportRow(file_id="a", file_name="a.pdf", outcome=Outcome.MATCHED),
        ReportRow(file_id="b", file_name="b.pdf", outcome=Outcome.UNMATCHED, duplicate_of="a",
                  reason="duplicate of a.pdf (a)"),
        ReportRow(file_id="c", file_name="c.pdf", outcome=Outcome.MATCHED, reconciled=True),
    ]
    skips = [SkipReason.HELD_BY_ANOTHER_RUN, SkipReason.FINISHED_EARLIER, SkipReason.FINISHED_EARLIER]
    summary = RunSummary.of(rows, skips=skips)

    assert (summary.duplicates, summary.reconciled, summary.skipped) == (1, 1, 3)
    assert summary.one_line() == (
        "3 notices: 2 MATCHED, 1 UNMATCHED (1 duplicate), 0 FAILED; 1 reconciled after a crash; "
        "skipped: 1 held by another run, 2 already finished earlier; retries: 0 task-level, 0 call-level"
    )
    markdown = summary_markdown(summary)
    assert "| held by another run | 1 |" in markdown and "| already finished earlier | 2 |" in markdown
