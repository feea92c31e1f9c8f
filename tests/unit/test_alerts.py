"""The events mailroom emits: which notices raise which, and that they carry identifiers only."""

from __future__ import annotations

from datetime import date

from mailroom.alerts import NOTICE_FAILED, NOTICE_OVERDUE, REVIEW_PENDING, notice_alerts, review_pending_alert
from mailroom.outcomes import Outcome
from mailroom.report import ReportRow

TODAY = date(2026, 3, 10)


def _row(**values) -> ReportRow:
    base = dict(file_id="f1", file_name="CP2000 DTD 10.14.2025_SMITH - 0012.pdf", outcome=Outcome.MATCHED,
                letter_type="CP504", case_id=1001, response_due_date=date(2026, 3, 20))
    return ReportRow(**(base | values))


def test_a_notice_due_later_raises_nothing():
    assert notice_alerts(_row(), TODAY) == []
    assert notice_alerts(_row(response_due_date=TODAY), TODAY) == []  # due today is not overdue yet
    assert notice_alerts(_row(response_due_date=None), TODAY) == []


def test_an_overdue_notice_raises_one_event_about_that_notice():
    (alert,) = notice_alerts(_row(response_due_date=date(2026, 3, 4)), TODAY)
    assert alert.event == NOTICE_OVERDUE
    assert alert.resource == {"prefect.resource.id": "mailroom.notice.f1", "prefect.resource.name": "mailroom.notice.f1"}
    assert alert.payload == {"file_id": "f1", "outcome": "MATCHED", "letter_type": "CP504", "case_id": 1001,
                             "response_due_date": "2026-03-04", "days_overdue": 6}


def test_a_dry_run_announces_no_overdue_notice():
    assert notice_alerts(_row(response_due_date=date(2026, 3, 4), dry_run=True), TODAY) == []


def test_a_failed_notice_raises_failed_and_never_carries_names_or_a_full_ssn():
    row = _row(outcome=Outcome.FAILED, case_id=None, failed_step="upload", response_due_date=date(2026, 1, 2),
               reason="upload: 503 for SSN 123-45-6789")
    alerts = notice_alerts(row, TODAY)
    assert [a.event for a in alerts] == [NOTICE_FAILED, NOTICE_OVERDUE]
    failed = alerts[0].payload
    assert failed["failed_step"] == "upload" and "6789" in failed["reason"] and "123-45" not in failed["reason"]
    text = repr([a.payload for a in alerts]) + repr([a.resource for a in alerts])
    assert "SMITH" not in text and row.file_name not in text


def test_pending_review_is_one_event_per_run_with_its_count():
    alert = review_pending_alert("run-1", 4, review_run_id="rev-9", review_url="http://ui/runs/flow-run/rev-9")
    assert alert.event == REVIEW_PENDING and alert.resource_id == "mailroom.review.rev-9"
    assert alert.payload == {"pending": 4, "run_id": "run-1", "review_run_id": "rev-9",
                             "review_url": "http://ui/runs/flow-run/rev-9"}
    assert review_pending_alert("run-1", 2).resource_id == "mailroom.review.run-1"
