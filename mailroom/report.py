"""The run report: one row per notice, written as xlsx (sheets Matched / Unmatched / Failed) and csv.

The same rows feed the Prefect UI artifacts (``notice_table``), so the report and the UI cannot disagree.
Rows carry identifiers and masked values only: a full SSN cannot be stored in a row (free text goes through
``mailroom.pii.scrub``). Text from outside (Drive file names) is made printable in the row and formula-proof in
every spreadsheet cell (``mailroom.safe_text``), and writing the report never takes a run down: a file that cannot
be written is named in ``ReportFiles.write_errors`` and the other one is still written.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import re
from collections import Counter
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from pydantic import BaseModel, Field, field_validator

from mailroom.outcomes import Outcome, SkipReason
from mailroom.pii import scrub
from mailroom.urgency import Urgency, urgency, urgency_key
from mailroom.safe_text import from_spreadsheet_cell, printable, spreadsheet_cell

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

logger = logging.getLogger(__name__)


class ReportRow(BaseModel):
    file_id: str
    file_name: str
    outcome: Outcome
    reason: str = ""
    case_id: int | None = None
    document_name: str | None = None
    document_id: int | None = None
    task_id: int | None = None
    letter_type: str | None = None
    tax_year: int | None = None
    notice_date: date | None = None
    response_due_date: date | None = None
    days_left: int | None = Field(None, description="days from the run's date to the response date; < 0 overdue")
    ssn: str | None = Field(None, description="masked, e.g. ***-**-1234")
    match_score: float | None = None
    task_retries: int = Field(0, description="Prefect-level retries of this notice's tasks")
    call_retries: int = Field(0, description="Call-level retries absorbed inside those tasks")
    failed_step: str | None = None
    reviewed_by: str | None = Field(None, description="MATCHED/UNMATCHED by a reviewer's decision: who (as typed)")
    reviewed_at: datetime | None = Field(None, description="when the reviewer submitted the decision (UTC)")
    duplicate_of: str | None = Field(
        None, description="the notice this one copies: a Drive file id, or logiqs-document:<id> already on the case"
    )
    reconciled: bool = Field(False, description="finished at the start of a later run, from the ledger and Drive")
    dry_run: bool = False

    @field_validator("reason", "file_name", "document_name", "reviewed_by", mode="after")
    @classmethod
    def _no_full_ssn(cls, value: str | None) -> str | None:
        return scrub(value) if value else value

    @field_validator("file_id", "file_name", "reason", "document_name", "letter_type", "failed_step", "duplicate_of",
                     mode="after")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return printable(value) if value else value

    @field_validator("ssn", mode="after")
    @classmethod
    def _masked(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"\*\*\*-\*\*-\d{4}", value):
            raise ValueError("ssn must be masked as ***-**-NNNN")
        return value

    @property
    def retries(self) -> int:
        return self.task_retries + self.call_retries

    @property
    def urgency(self) -> Urgency:
        return urgency(self.days_left)


COLUMNS: tuple[str, ...] = tuple(ReportRow.model_fields)
SHEETS: dict[Outcome, str] = {Outcome.MATCHED: "Matched", Outcome.UNMATCHED: "Unmatched", Outcome.FAILED: "Failed",
                               Outcome.PENDING_REVIEW: "Review"}


def _cell(value: Any) -> Any:
    """A report value as a spreadsheet cell: enums by value, every string formula-proof."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime) and value.tzinfo is not None:  # openpyxl cannot store time zones
        return value.replace(tzinfo=None)
    return spreadsheet_cell(value) if isinstance(value, str) else value


def write_xlsx(rows: Iterable[ReportRow], path: Path) -> Path:
    """One pass over ``rows``, each appended to its outcome's sheet; openpyxl's write-only mode streams them to
    disk, so a 10,000-notice report does not hold 10,000 rows of cell objects in memory."""
    workbook = Workbook(write_only=True)
    sheets = {}
    for outcome, title in SHEETS.items():
        sheet = workbook.create_sheet(title)
        sheet.freeze_panes = "A2"
        for index, column in enumerate(COLUMNS, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(12, min(48, len(column) + 4))
        header = []
        for column in COLUMNS:
            cell = WriteOnlyCell(sheet, value=column)
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        sheets[outcome] = sheet
    try:
        for row in rows:
            sheets[row.outcome].append([_cell(getattr(row, column)) for column in COLUMNS])
        path.parent.mkdir(parents=True, exist_ok=True)
        workbook.save(path)
    except BaseException:
        _close_unsaved(sheets.values())
        raise
    return path


def _close_unsaved(sheets: Iterable[WriteOnlyWorksheet]) -> None:
    """A workbook that was never saved leaves each sheet's row writer open on a temp file that openpyxl closes
    first; the writer, collected later, then fails on the closed file in whatever code runs at that moment."""
    for sheet in sheets:
        if not sheet.closed:
            with contextlib.suppress(Exception):
                sheet.close()


def write_csv(rows: Iterable[ReportRow], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(["" if getattr(row, c) is None else _cell(getattr(row, c)) for c in COLUMNS])
    return path


def read_csv(path: Path) -> list[ReportRow]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            ReportRow.model_validate(
                {key: (from_spreadsheet_cell(value) if value != "" else None) for key, value in record.items()}
            )
            for record in csv.DictReader(handle)
        ]


class ReportFiles(BaseModel):
    xlsx: Path | None = None  # None: not written (see write_errors)
    csv: Path | None = None
    drive_file_id: str | None = None
    drive_link: str | None = None
    upload_error: str | None = None
    write_errors: list[str] = Field(default_factory=list, description="report files that could not be written")

    @property
    def local(self) -> str:
        """The local copies, for a message: both paths, or what is missing."""
        written = [str(path) for path in (self.xlsx, self.csv) if path is not None]
        return " and ".join(written) if written else "no local copy (" + "; ".join(self.write_errors) + ")"


def write_report(rows: Iterable[ReportRow], directory: Path, stem: str) -> ReportFiles:
    """Write the csv, then the xlsx. Never raises: a file that fails is left out and named in ``write_errors``
    (its exception type only: a message could quote a cell, and cells hold taxpayer names)."""
    rows = list(rows)
    files = ReportFiles()
    for kind, writer in (("csv", write_csv), ("xlsx", write_xlsx)):
        target = directory / f"{stem}.{kind}"
        try:
            setattr(files, kind, writer(rows, target))
        except Exception as exc:  # noqa: BLE001 - the run's other results must still be published
            files.write_errors.append(f"{kind} report not written ({type(exc).__name__})")
            logger.error("%s report %s not written: %s", kind, target.name, type(exc).__name__)
            if target.is_file():
                target.unlink(missing_ok=True)  # never leave half a report behind
    return files


def report_stem(started: datetime, run_name: str) -> str:
    safe_name = re.sub(r"[^A-Za-z0-9_-]+", "-", run_name).strip("-") or "run"
    return f"mailroom-{started:%Y-%m-%d-%H%M%S}-{safe_name}"


class RunSummary(BaseModel):
    """What a run did, in numbers: shown in the UI, printed by the CLI, returned by the flow.

    ``total`` counts the notices this run reports (its rows). Skipped notices are not in its report, and each kind
    of skip is counted apart: the run that holds them reports them, or an earlier run already did.
    """

    total: int = 0
    matched: int = 0
    unmatched: int = 0
    failed: int = 0
    pending_review: int = Field(0, description="set aside for a reviewer by this run")
    overdue: int = Field(0, description="notices of this run past their response date")
    due_this_week: int = Field(0, description="notices of this run due within 7 days (not overdue)")
    in_review: int = Field(0, description="left alone: waiting for a reviewer since an earlier run")
    review_run: str | None = Field(None, description="the review flow run asking about PENDING_REVIEW notices")
    duplicates: int = Field(0, description="UNMATCHED as a copy of a notice filed (or being filed): no new effects")
    reconciled: int = Field(0, description="finished from the ledger and Drive after a crash (listed once, here)")
    held_by_another_run: int = Field(0, description="skipped: another run (or review run) holds them and reports them")
    finished_earlier: int = Field(0, description="skipped: an earlier run finished and reported them")
    lease_taken_over: int = Field(0, description="skipped: this run stalled and another run took them over")
    task_retries: int = 0
    call_retries: int = 0
    dry_run: bool = False
    report: ReportFiles | None = None

    @property
    def skipped(self) -> int:
        return self.held_by_another_run + self.finished_earlier + self.lease_taken_over

    @classmethod
    def of(cls, rows: Iterable[ReportRow], *, dry_run: bool = False, report: ReportFiles | None = None,
           skips: Iterable[SkipReason] = (), in_review: int = 0) -> "RunSummary":
        rows = list(rows)
        counts = Counter(row.outcome for row in rows)
        urgencies = Counter(row.urgency for row in rows)
        skipped = Counter(SkipReason(reason) for reason in skips)
        return cls(
            total=len(rows),
            matched=counts[Outcome.MATCHED],
            unmatched=counts[Outcome.UNMATCHED],
            failed=counts[Outcome.FAILED],
            pending_review=counts[Outcome.PENDING_REVIEW],
            overdue=urgencies[Urgency.OVERDUE],
            due_this_week=urgencies[Urgency.THIS_WEEK],
            in_review=in_review + skipped[SkipReason.WAITING_FOR_REVIEW],
            duplicates=sum(row.duplicate_of is not None for row in rows),
            reconciled=sum(row.reconciled for row in rows),
            held_by_another_run=skipped[SkipReason.HELD_BY_ANOTHER_RUN] + skipped[SkipReason.MOVED_TO_ANOTHER_REVIEW],
            finished_earlier=skipped[SkipReason.FINISHED_EARLIER],
            lease_taken_over=skipped[SkipReason.LEASE_TAKEN_OVER],
            task_retries=sum(row.task_retries for row in rows),
            call_retries=sum(row.call_retries for row in rows),
            dry_run=dry_run,
            report=report,
        )

    def skip_counts(self) -> dict[SkipReason, int]:
        """Each kind of skip with its count, in SkipReason order; kinds that did not happen are left out."""
        counts = {SkipReason.HELD_BY_ANOTHER_RUN: self.held_by_another_run,
                  SkipReason.FINISHED_EARLIER: self.finished_earlier,
                  SkipReason.LEASE_TAKEN_OVER: self.lease_taken_over}
        return {reason: count for reason, count in counts.items() if count}

    def one_line(self) -> str:
        duplicates = f" ({self.duplicates} duplicate{'s' if self.duplicates != 1 else ''})" if self.duplicates else ""
        review = f", {self.pending_review} waiting for review" if self.pending_review else ""
        urgent = f" ({self.overdue} overdue, {self.due_this_week} due this week)" if self.overdue or \
            self.due_this_week else ""
        reconciled = f"; {self.reconciled} reconciled after a crash" if self.reconciled else ""
        skips = [f"{count} {reason.value}" for reason, count in self.skip_counts().items()]
        skips += [f"{self.in_review} still waiting for a reviewer"] if self.in_review else []
        skipped = f"; skipped: {', '.join(skips)}" if skips else ""
        return (
            f"{self.total} notices: {self.matched} MATCHED, {self.unmatched} UNMATCHED{duplicates}{review}, "
            f"{self.failed} FAILED{urgent}{reconciled}{skipped}; "
            f"retries: {self.task_retries} task-level, {self.call_retries} call-level"
        )


def by_urgency(rows: Iterable[ReportRow]) -> list[ReportRow]:
    """Fewest days left first (overdue on top), no response date last; file name among equals."""
    ordered = sorted(rows, key=lambda r: (r.file_name, r.file_id))
    return [row for _, row in sorted(enumerate(ordered), key=lambda p: urgency_key(p[1].days_left, p[0]))]


def notice_table(rows: Iterable[ReportRow]) -> list[dict[str, Any]]:
    """Rows of the per-notice UI table, most urgent first: letter type, response date, days left, outcome..."""
    return [
        {
            "letter": row.letter_type or "",
            "respond_by": row.response_due_date.isoformat() if row.response_due_date else "",
            "days_left": row.days_left if row.days_left is not None else "",
            "urgency": row.urgency.value,
            "file": row.file_name,
            "file_id": row.file_id,
            "outcome": row.outcome.value + (" (by review)" if row.reviewed_by else ""),
            "case_id": row.case_id if row.case_id is not None else "",
            "retries": row.retries,
            "reason": row.reason,
        }
        for row in by_urgency(rows)
    ]


def summary_markdown(summary: RunSummary, *, title: str = "mailroom run") -> str:
    lines = [f"# {title}{' (dry run: nothing written)' if summary.dry_run else ''}", ""]
    lines += [
        "| outcome | notices |",
        "|---|---:|",
        f"| MATCHED | {summary.matched} |",
        f"| UNMATCHED | {summary.unmatched} |",
        f"| PENDING_REVIEW | {summary.pending_review} |",
        f"| FAILED | {summary.failed} |",
        f"| **total** | **{summary.total}** |",
        "",
    ]
    if summary.duplicates or summary.reconciled:
        lines += [f"Of these, {summary.duplicates} UNMATCHED as duplicates of a notice already filed (no new "
                  f"document or task) and {summary.reconciled} finished by reconciliation after a crash.", ""]
    if summary.skipped:
        lines += ["| skipped (not in this report) | notices |", "|---|---:|"]
        lines += [f"| {reason.value} | {count} |" for reason, count in summary.skip_counts().items()] + [""]
    lines += [
        f"Urgency: **{summary.overdue} overdue**, **{summary.due_this_week} due this week** (days left to the "
        "response date; the notices table lists them first).",
        "",
        f"Retries: {summary.task_retries} task-level (Prefect), {summary.call_retries} call-level (resilience core).",
        "",
    ]
    report = summary.report
    if report:
        if report.drive_link:
            shown = (report.xlsx or report.csv or Path("report")).name
            lines.append(f"Report in Drive: [{shown}]({report.drive_link})")
        elif report.drive_file_id:
            lines.append(f"Report in Drive: file id `{report.drive_file_id}`")
        if report.upload_error:
            lines.append(f"**The report could not be uploaded to Drive**: {report.upload_error}")
        for error in report.write_errors:
            lines.append(f"**Report incomplete**: {error}; the tables on this page list every notice.")
        lines.append(f"Local copy: {report.local}")
    if summary.pending_review or summary.in_review:
        where = f" in review run `{summary.review_run}`" if summary.review_run else ""
        lines += ["", f"**{summary.pending_review} notice(s) wait for a reviewer**{where} "
                  f"({summary.in_review} more from earlier runs still wait). See the Review sheet and "
                  "docs/operations.md, \"Review queue\"."]
    if summary.failed:
        lines += ["", f"**{summary.failed} notice(s) FAILED** after all retries; they stay in their input folder "
                  "and the next run picks them up again. See the Failed sheet."]
    return "\n".join(lines)
