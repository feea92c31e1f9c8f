"""Days left, the filing order and the follow-up task's priority and reminder (issue 13, "most urgent first")."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from mailroom.crm import Priority
from mailroom.pipeline_settings import PipelineSettings
from mailroom.report import ReportRow, RunSummary, by_urgency, notice_table
from mailroom.outcomes import Outcome
from mailroom.urgency import Urgency, UrgencyRule, days_left, today_in, urgency, urgency_key

TODAY = date(2025, 12, 1)


@pytest.mark.parametrize(("due", "left", "band"), [
    (TODAY - timedelta(days=3), -3, Urgency.OVERDUE),
    (TODAY, 0, Urgency.THIS_WEEK),
    (TODAY + timedelta(days=7), 7, Urgency.THIS_WEEK),
    (TODAY + timedelta(days=8), 8, Urgency.SOON),
    (TODAY + timedelta(days=31), 31, Urgency.LATER),
    (None, None, Urgency.UNKNOWN),
])
def test_days_left_and_their_band(due, left, band):
    assert days_left(due, TODAY) == left
    assert urgency(left) is band


def test_the_filing_order_is_fewest_days_left_first_listing_order_among_equals_and_no_date_last():
    listed = [("cp2000-a", 25), ("no-date", None), ("cp504", 5), ("cp2000-b", 25), ("overdue", -2)]
    ordered = sorted(enumerate(listed), key=lambda p: urgency_key(p[1][1], p[0]))
    assert [name for _, (name, _) in ordered] == ["overdue", "cp504", "cp2000-a", "cp2000-b", "no-date"]


@pytest.mark.parametrize(("left", "priority"), [
    (-10, Priority.URGENT), (0, Priority.URGENT), (7, Priority.URGENT), (8, Priority.HIGH), (25, Priority.HIGH),
    (None, Priority.HIGH),
])
def test_overdue_and_due_within_the_urgent_window_get_the_highest_priority(left, priority):
    assert UrgencyRule(urgent_within_days=7, base_priority=Priority.HIGH).priority(left) is priority


def test_the_urgent_window_and_the_base_priority_are_settings():
    rule = PipelineSettings(urgent_within_days=3, task_priority=Priority.NORMAL).urgency_rule()
    assert rule.priority(4) is Priority.NORMAL and rule.priority(3) is Priority.URGENT


def test_the_reminder_is_a_week_before_the_due_date_but_never_in_the_past():
    settings = PipelineSettings(reminder_days_before_due=7, due_hour_utc=17)
    due_at, reminder = settings.due_and_reminder(TODAY + timedelta(days=25), TODAY)
    assert reminder == datetime(2025, 12, 19, 17, tzinfo=timezone.utc) and due_at - reminder == timedelta(days=7)
    for left in (5, 0, -4):  # urgent: remind today (the run's day), not days ago
        _, reminder = settings.due_and_reminder(TODAY + timedelta(days=left), TODAY)
        assert reminder == datetime(2025, 12, 1, 17, tzinfo=timezone.utc), left


def test_today_is_the_firms_date_or_the_configured_as_of_date():
    late_evening_in_new_york = datetime(2025, 12, 2, 3, 30, tzinfo=timezone.utc)  # 22:30 on Dec 1st in New York
    assert today_in("America/New_York", now=late_evening_in_new_york) == date(2025, 12, 1)
    assert today_in("UTC", now=late_evening_in_new_york) == date(2025, 12, 2)
    assert PipelineSettings(as_of=TODAY).today() == TODAY


def _row(name: str, left: int | None, outcome: Outcome = Outcome.MATCHED) -> ReportRow:
    due = TODAY + timedelta(days=left) if left is not None else None
    return ReportRow(file_id=name, file_name=f"{name}.pdf", outcome=outcome, letter_type="CP2000",
                     response_due_date=due, days_left=left)


def test_the_notice_table_shows_letter_type_response_date_and_days_left_most_urgent_first():
    rows = [_row("later", 40), _row("cp504", 5), _row("unknown", None, Outcome.UNMATCHED), _row("overdue", -1)]
    table = notice_table(rows)
    assert [r["file"] for r in table] == ["overdue.pdf", "cp504.pdf", "later.pdf", "unknown.pdf"]
    expected = {"letter": "CP2000", "respond_by": "2025-12-06", "days_left": 5, "urgency": "due this week"}
    assert {k: table[1][k] for k in expected} == expected
    assert table[3]["days_left"] == "" and table[3]["respond_by"] == ""
    assert [r.file_id for r in by_urgency(rows)] == ["overdue", "cp504", "later", "unknown"]


def test_the_summary_counts_overdue_and_due_this_week_notices():
    rows = [_row("a", -3), _row("b", -1), _row("c", 0), _row("d", 7), _row("e", 8), _row("f", None),
            _row("g", 2, Outcome.PENDING_REVIEW)]
    summary = RunSummary.of(rows)
    assert (summary.overdue, summary.due_this_week, summary.pending_review) == (2, 3, 1)
    assert "2 overdue, 3 due this week" in summary.one_line()
    assert "1 waiting for review" in summary.one_line()


# -- ordering before a notice is fully read (Intake.read: text layer only) --------------------------------------

def _reading(name: str, *, notice=None, failed: bool = False):
    from mailroom.drive import DriveFile
    from mailroom.intake import Extraction, Reading
    from mailroom.ledger import NoticeKey

    file = DriveFile(id="f", name=name, mime_type="application/pdf", md5="m")
    return Reading(file=file, key=NoticeKey(file_id="f", md5="m"), failed_step="download" if failed else None,
                   extraction=Extraction(notice=notice) if notice else None)


@pytest.mark.parametrize(("name", "due"), [
    ("CP504 DTD 11.26.2025_SMITH - 0012.pdf", date(2025, 12, 6)),  # type and date from the name: 10-day window
    ("IRS CP504 Smith.pdf", TODAY + timedelta(days=10)),  # a type but no date: assumed dated today
    ("CP3219A_SMITH_2023.PDF", TODAY + timedelta(days=90)),
    ("scan.pdf", TODAY + timedelta(days=30)),  # nothing to go by: OTHER's 30 days
])
def test_a_scan_is_ordered_by_what_its_file_name_says_until_it_is_read(name, due):
    assert _reading(name).estimated_due(TODAY) == due


def test_a_typed_notice_is_ordered_by_the_date_it_prints_and_a_failed_download_last():
    from mailroom.notices import LetterType, Notice

    printed = Notice(letter_type=LetterType.CP2000, response_due_date=TODAY + timedelta(days=3))
    assert _reading("CP504 DTD 11.26.2025_X.pdf", notice=printed).days_left(TODAY) == 3  # the document wins
    assert _reading("CP504 DTD 11.26.2025_X.pdf", failed=True).days_left(TODAY) is None
