"""Operator settings of the daily pipeline, as a plain pydantic model.

The Prefect block ``blocks.settings.MailroomSettings`` inherits these fields so that a person edits them in the UI,
while the core (which never imports Prefect) and the tests use this model directly.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from pydantic import BaseModel, Field, SecretStr

from mailroom.crm import Priority
from mailroom.urgency import UrgencyRule, today_in
from mailroom.logiqs import MAX_DOCUMENT_BYTES


class PipelineSettings(BaseModel):
    # Drive layout: the input root is searched recursively for folders whose names contain one of the patterns.
    input_root_id: str = Field("", description="Drive folder id searched (recursively) for notice folders")
    matched_folder_id: str = Field("", description="Drive folder that receives filed (MATCHED) notices")
    unmatched_folder_id: str = Field("", description="Drive folder that receives UNMATCHED notices")
    reports_folder_id: str = Field("", description="Drive folder that receives the run reports")
    folder_name_patterns: list[str] = Field(
        default_factory=lambda: ["CP2000", "CP 2000"],
        description="A folder is an input folder when its name contains one of these (empty: every folder)",
    )
    recursive: bool = True

    # The Logiqs follow-up task created for every MATCHED notice.
    # The letter type is part of the subject: a CP504 (10-day levy notice) must not read as a CP2000 in the CRM.
    task_subject_template: str = "Review {letter_type} Notice - {notice_date}"
    task_date_format: str = "%m/%d/%Y"
    assignee_user_id: int | None = Field(None, description="Logiqs UserID the follow-up task is assigned to")
    reminder_days_before_due: int = Field(7, ge=0, description="The reminder fires this many days before the due date")
    task_priority: Priority = Field(Priority.HIGH, description="Priority of follow-up tasks not yet urgent")
    due_hour_utc: int = Field(17, ge=0, le=23, description="Due dates are stored in UTC at this hour")

    # Urgency: days left = response due date (printed, or the letter type's window) - today. Notices are filed
    # most urgent first; overdue ones and those due within `urgent_within_days` get URGENT tasks reminding today.
    urgent_within_days: int = Field(
        7, ge=0, description="Overdue notices and those due within this many days get URGENT follow-up tasks"
    )
    file_most_urgent_first: bool = Field(
        True, description="Read every notice before filing any, then file the most urgent first (off: file each "
        "as soon as it is read; faster on large runs, no order)"
    )
    steps_as_task_runs_up_to: int = Field(
        100, ge=0, description="A run of up to this many notices shows each step of a notice (download, match, upload, "
        "...) as its own task run; a larger run keeps each notice's steps inside its task run (same retries, logged "
        "there), which is several times cheaper for Prefect (docs/operations.md, 'Steps inside the notice')"
    )
    timezone: str = Field("America/New_York", description="The firm's time zone: what 'today' is for days left")
    as_of: date | None = Field(
        None, description="Count days left from this date instead of today (the sandbox sets its corpus date)"
    )

    # Review queue: what the reader or matcher is unsure of waits for a person (docs/operations.md, "Review").
    review_enabled: bool = Field(
        True, description="Send AMBIGUOUS, INSUFFICIENT_DATA and low-confidence notices to review (off: UNMATCHED)"
    )
    review_min_match_score: float = Field(
        90.0, ge=0, le=100, description="A match scoring below this waits for a reviewer instead of being filed"
    )
    review_min_field_confidence: float = Field(
        0.75, ge=0, le=1,
        description="A match whose SSN last 4 or last name was read with less confidence waits for a reviewer",
    )
    review_no_match_with_candidates: bool = Field(
        True, description="NO_MATCH with open cases sharing the SSN last 4 (names differ) goes to review too"
    )
    review_deadline_hours: float = Field(
        72.0, gt=0, description="A review run left open this long is closed by the next daily run; its undecided "
        "notices go to a fresh review run"
    )
    review_deployment: str = Field(
        "review-mailroom/review-mailroom", description="Deployment (flow/name) the daily run starts review runs of"
    )

    check_case_documents: bool = Field(
        True, description="Before filing, look in the case's Logiqs activity for a document of the same name (filed by "
        "hand or by another system): such a notice is a duplicate. Costs one Logiqs read per filed notice"
    )

    max_document_bytes: int = Field(
        MAX_DOCUMENT_BYTES, gt=0, le=MAX_DOCUMENT_BYTES,
        description="Largest document uploaded to Logiqs (its limit is 6 MB). A larger PDF is recompressed to fit; "
        "one that still does not fit is set aside UNMATCHED with the reason",
    )

    # Matching thresholds (None keeps mailroom.matching's defaults).
    match_threshold: float | None = None
    match_margin: float | None = None

    # Throughput and resilience.
    concurrency: int = Field(4, ge=1, le=64, description="Notices processed at the same time")
    # Client-side rate limits: each service's limiter admits this many calls per second, and up to `burst` at once.
    drive_calls_per_second: float = Field(
        20.0, gt=0, description="Drive calls per second (Drive allows about 200 requests/s per user; we stay far below)"
    )
    drive_burst: int = Field(10, ge=1, description="Drive calls let through at once before the rate applies")
    logiqs_calls_per_second: float = Field(
        8.0, gt=0, description="Logiqs calls per second (Logiqs allows about 10/s per key; we keep a margin)"
    )
    logiqs_burst: int = Field(2, ge=1, description="Logiqs calls let through at once before the rate applies")
    shared_rate_limits: bool = Field(
        False, description="Hold the Drive and Logiqs rates above for every worker together (Prefect global "
        "concurrency limits mailroom-drive-calls / mailroom-logiqs-calls, created from these values when missing, or "
        "by `python -m blocks.limits`); off: each flow process keeps the rates on its own"
    )
    fan_out_deployment: str | None = Field(
        None, description="Spread notices over the work pool as flow runs of this deployment (e.g. "
        "process-notices/process-notices); empty: this flow process works on every notice itself"
    )
    batch_size: int = Field(25, ge=1, le=1000, description="Notices per batch flow run when fanning out")
    call_max_retries: int = Field(3, ge=0, description="Call-level retries inside one task attempt")
    call_initial_delay: float = Field(1.0, ge=0)
    call_max_delay: float = Field(30.0, gt=0)
    task_retries: int = Field(3, ge=0, description="Prefect-level retries of a Drive/Logiqs task")
    task_retry_delay_seconds: float = Field(10.0, ge=0, description="First Prefect retry delay; doubles, jittered")
    task_timeout_seconds: float = Field(300.0, gt=0)

    report_dir: str = Field("reports", description="Local directory that keeps a copy of every report")
    state_dir: str | None = Field(
        None, description="Directory of the exactly-once ledger (default $MAILROOM_STATE_DIR or ~/.mailroom); "
        "every worker that may process the same folders must share it"
    )
    # A secret: the URL may carry the database password (masked in the UI, reprs and logs).
    ledger_url: SecretStr | None = Field(
        None, description="Database of the exactly-once ledger shared by every worker, e.g. "
        "postgresql+psycopg://mailroom@db-host/mailroom; empty: the SQLite file ledger.sqlite in state_dir "
        "(one machine only)"
    )
    lease_seconds: float = Field(900.0, gt=0, description="How long a run holds a notice before another may take over")

    def follow_up_subject(self, letter_type: str, notice_date: date | None) -> str:
        shown = notice_date.strftime(self.task_date_format) if notice_date else "date unknown"
        return self.task_subject_template.format(letter_type=letter_type, notice_date=shown)

    def steps_inside_notices(self, notices: int) -> bool:
        """Whether a run of this many notices keeps each notice's steps inside its task run."""
        return notices > self.steps_as_task_runs_up_to

    def today(self) -> date:
        return today_in(self.timezone, self.as_of)

    def urgency_rule(self) -> UrgencyRule:
        return UrgencyRule(self.urgent_within_days, self.task_priority, self.reminder_days_before_due)

    def due_and_reminder(self, due: date, today: date | None = None) -> tuple[datetime, datetime]:
        """Due date and reminder as UTC datetimes (Logiqs stores UTC); the reminder is never before ``today``."""
        due_at = datetime.combine(due, time(self.due_hour_utc), tzinfo=timezone.utc)
        if today is None:
            return due_at, due_at - timedelta(days=self.reminder_days_before_due)
        reminder = self.urgency_rule().reminder_date(due, today)
        return due_at, datetime.combine(reminder, time(self.due_hour_utc), tzinfo=timezone.utc)

    def shared_limits(self) -> dict[str, tuple[str, int, float]]:
        """service -> (global concurrency limit name, slots, slot decay per second): a bucket of ``burst`` calls
        refilled at the configured rate, so all workers together send at most burst + rate calls in any second."""
        return {
            "drive": ("mailroom-drive-calls", self.drive_burst, self.drive_calls_per_second),
            "logiqs": ("mailroom-logiqs-calls", self.logiqs_burst, self.logiqs_calls_per_second),
        }

    def missing_folders(self) -> list[str]:
        """Names of the folder settings a real run cannot do without."""
        required = ("input_root_id", "matched_folder_id", "unmatched_folder_id", "reports_folder_id")
        return [name for name in required if not getattr(self, name)]
