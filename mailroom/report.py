"""The run report: one row per notice, written as xlsx (sheets Matched / Unmatched / Failed) and csv.

The same rows feed the Prefect UI artifacts (``notice_table``), so the report and the UI cannot disagree.
Rows carry identifiers and masked values only: a full SSN cannot be stored in a row (free text goes through
``mailroom.pii.scrub``).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Iterable

from openpyxl import Workbook
from openpyxl.styles import Font
from pydantic import BaseModel, Field, field_validator

from mailroom.outcomes import Outcome
from mailroom.pii import scrub
from mailroom.urgency import Urgency, urgency, urgency_key


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
    dry_run: bool = False

    @field_validator("reason", "file_name", "document_name", "reviewed_by", mode="after")
    @classmethod
    def _no_full_ssn(cls, value: str | None) -> str | None:
        return scrub(value) if value else value

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
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime) and value.tzinfo is not None:  # openpyxl cannot store time zones
        return value.replace(tzinfo=None)
    return value


def write_xlsx(rows: Iterable[ReportRow], path: Path) -> Path:
    rows = list(rows)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for outcome, title in SHEETS.items():
        sheet = workbook.create_sheet(title)
        sheet.append(list(COLUMNS))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for row in rows:
            if row.outcome is outcome:
                sheet.append([_cell(getattr(row, column)) for column in COLUMNS])
        for index, column in enumerate(COLUMNS, start=1):
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(12, min(48, len(column) + 4))
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


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
            ReportRow.model_validate({key: (value if value != "" else None) for key, value in record.items()})
            for record in csv.DictReader(handle)
        ]


class ReportFiles(BaseModel):
    xlsx: Path
    csv: Path
    drive_file_id: str | None = None
    drive_link: str | None = None
    upload_error: str | None = None


def write_report(rows: Iterable[ReportRow], directory: Path, stem: str) -> ReportFiles:
    rows = list(rows)
    return ReportFiles(
        xlsx=write_xlsx(rows, directory / f"{stem}.xlsx"), csv=write_csv(rows, directory / f"{stem}.csv")
    )


def report_stem(started: datetime, run_name: str) -> str:
    safe_name = re.sub(r"[^A-Za-z0-9_-]+", "-", run_name).strip("-") or "run"
    return f"mailroom-{started:%Y-%m-%d-%H%M%S}-{safe_name}"


class RunSummary(BaseModel):
    """What a run did, in numbers: shown in the UI, printed by the CLI, returned by the flow."""

    total: int = 0
    matched: int = 0
    unmatched: int = 0
    failed: int = 0
    pending_review: int = Field(0, description="set aside for a reviewer by this run")
    overdue: int = Field(0, description="notices of this run past their response date")
    due_this_week: int = Field(0, description="notices of this run due within 7 days (not overdue)")
    skipped: int = Field(0, description="held by another run or already filed: that run reports them")
    in_review: int = Field(0, description="left alone: waiting for a reviewer since an earlier run")
    review_run: str | None = Field(None, description="the review flow run asking about PENDING_REVIEW notices")
    task_retries: int = 0
    call_retries: int = 0
    dry_run: bool = False
    report: ReportFiles | None = None

    @classmethod
    def of(cls, rows: Iterable[ReportRow], *, dry_run: bool = False, report: ReportFiles | None = None,
           skipped: int = 0, in_review: int = 0) -> "RunSummary":
        rows = list(rows)
        counts = Counter(row.outcome for row in rows)
        urgencies = Counter(row.urgency for row in rows)
        return cls(
            total=len(rows),
            matched=counts[Outcome.MATCHED],
            unmatched=counts[Outcome.UNMATCHED],
            failed=counts[Outcome.FAILED],
            pending_review=counts[Outcome.PENDING_REVIEW],
            overdue=urgencies[Urgency.OVERDUE],
            due_this_week=urgencies[Urgency.THIS_WEEK],
            skipped=skipped,
            in_review=in_review,
            task_retries=sum(row.task_retries for row in rows),
            call_retries=sum(row.call_retries for row in rows),
            dry_run=dry_run,
            report=report,
        )

    def one_line(self) -> str:
        review = f", {self.pending_review} waiting for review" if self.pending_review else ""
        urgent = f" ({self.overdue} overdue, {self.due_this_week} due this week)" if self.overdue or \
            self.due_this_week else ""
        left = [f"{self.skipped} skipped: another run has them"] if self.skipped else []
        left += [f"{self.in_review} still waiting for a reviewer"] if self.in_review else []
        return (
            f"{self.total} notices: {self.matched} MATCHED, {self.unmatched} UNMATCHED{review}, {self.failed} FAILED"
            f"{urgent}{' (' + '; '.join(left) + ')' if left else ''}; "
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
        f"Urgency: **{summary.overdue} overdue**, **{summary.due_this_week} due this week** (days left to the "
        "response date; the notices table lists them first).",
        "",
        f"Retries: {summary.task_retries} task-level (Prefect), {summary.call_retries} call-level (resilience core).",
        "",
    ]
    if summary.report:
        if summary.report.drive_link:
            lines.append(f"Report in Drive: [{summary.report.xlsx.name}]({summary.report.drive_link})")
        elif summary.report.drive_file_id:
            lines.append(f"Report in Drive: file id `{summary.report.drive_file_id}`")
        if summary.report.upload_error:
            lines.append(f"**The report could not be uploaded to Drive**: {summary.report.upload_error}")
        lines.append(f"Local copy: `{summary.report.xlsx}` and `{summary.report.csv}`")
    if summary.pending_review or summary.in_review:
        where = f" in review run `{summary.review_run}`" if summary.review_run else ""
        lines += ["", f"**{summary.pending_review} notice(s) wait for a reviewer**{where} "
                  f"({summary.in_review} more from earlier runs still wait). See the Review sheet and "
                  "docs/operations.md, \"Review queue\"."]
    if summary.failed:
        lines += ["", f"**{summary.failed} notice(s) FAILED** after all retries; they stay in their input folder "
                  "and the next run picks them up again. See the Failed sheet."]
    return "\n".join(lines)
