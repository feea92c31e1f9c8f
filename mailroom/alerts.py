"""What mailroom tells the outside world about notices, as events: names, resources and payloads, with no Prefect.

The flow emits these as Prefect events (``flows/alerts.py``); the automations that turn them into notifications are
defined in ``blocks/alerts.py``. Everything here is log-safe by construction: identifiers (Drive file id, case id,
run id), letter types, dates and counts. Never a file name (scans are named after taxpayers), a taxpayer name, an
SSN or a raw response body: reasons go through ``mailroom.pii.scrub`` like every report string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mailroom.outcomes import Outcome
from mailroom.pii import scrub
from mailroom.report import ReportRow

NOTICE_FAILED = "mailroom.notice.failed"  # a notice still failed after every retry (it stays in its input folder)
NOTICE_OVERDUE = "mailroom.notice.overdue"  # a notice arrived after its response date: someone must act today
REVIEW_PENDING = "mailroom.review.pending"  # notices wait for a person in a review run
EVENT_NAMES = (NOTICE_FAILED, NOTICE_OVERDUE, REVIEW_PENDING)

NOTICE_RESOURCE_PREFIX = "mailroom.notice."
REVIEW_RESOURCE_PREFIX = "mailroom.review."


@dataclass(frozen=True)
class Alert:
    """One event: ``resource_id`` names what it is about; ``payload`` holds identifiers, dates and counts only."""

    event: str
    resource_id: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def resource(self) -> dict[str, str]:
        return {"prefect.resource.id": self.resource_id, "prefect.resource.name": self.resource_id}


def notice_alerts(row: ReportRow, today: date) -> list[Alert]:
    """The events one finished notice raises: FAILED, and/or overdue (its response date is before ``today``)."""
    resource_id = f"{NOTICE_RESOURCE_PREFIX}{row.file_id}"
    common: dict[str, Any] = {"file_id": row.file_id, "outcome": row.outcome.value}
    if row.letter_type:
        common["letter_type"] = row.letter_type
    if row.case_id is not None:
        common["case_id"] = row.case_id
    alerts = []
    if row.outcome is Outcome.FAILED:
        alerts.append(Alert(NOTICE_FAILED, resource_id,
                            common | {"failed_step": row.failed_step or "", "reason": scrub(row.reason)}))
    if row.response_due_date is not None and row.response_due_date < today and not row.dry_run:
        alerts.append(Alert(NOTICE_OVERDUE, resource_id, common | {
            "response_due_date": row.response_due_date.isoformat(),
            "days_overdue": (today - row.response_due_date).days,
        }))
    return alerts


def review_pending_alert(run_id: str, pending: int, *, review_run_id: str | None = None,
                         review_url: str | None = None) -> Alert:
    """One event per run that left notices waiting for review (not one per notice: one message to act on)."""
    payload: dict[str, Any] = {"pending": pending, "run_id": run_id}
    if review_run_id:
        payload["review_run_id"] = review_run_id
    if review_url:
        payload["review_url"] = review_url
    return Alert(REVIEW_PENDING, f"{REVIEW_RESOURCE_PREFIX}{review_run_id or run_id}", payload)
