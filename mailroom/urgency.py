"""How urgent a notice is: days left to its response date, the order notices are filed in, and the follow-up task's
priority and reminder.

    left = days_left(notice.response_due_date, today)        # negative: overdue; None: no date could be read
    files.sort(key=lambda f: urgency_key(left_of[f], position_of[f]))
    rule = UrgencyRule(urgent_within_days=7, base_priority=Priority.HIGH, reminder_days_before_due=7)
    rule.priority(left), rule.reminder(due, today)

The response date is the one printed on the notice, or the notice date plus the letter type's window
(``mailroom.notices.model.RESPONSE_WINDOW_DAYS``: CP504 10 days, CP2000 30, CP3219A 90) when none is printed: the
reader derives it, so a CP504 dated 5 days ago has 5 days left here whether or not it prints "respond by".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from mailroom.crm import Priority


class Urgency(str, Enum):
    """Bands a person reads at a glance (report column, UI table, summary counts)."""

    OVERDUE = "overdue"
    THIS_WEEK = "due this week"  # 0-7 days left: respond now
    SOON = "due within 30 days"
    LATER = "later"
    UNKNOWN = "no response date"


THIS_WEEK_DAYS = 7
SOON_DAYS = 30


def days_left(due: date | None, today: date) -> int | None:
    """Whole days from ``today`` to the response date: 0 = due today, negative = overdue, None = no date."""
    return None if due is None else (due - today).days


def urgency(left: int | None) -> Urgency:
    if left is None:
        return Urgency.UNKNOWN
    if left < 0:
        return Urgency.OVERDUE
    if left <= THIS_WEEK_DAYS:
        return Urgency.THIS_WEEK
    return Urgency.SOON if left <= SOON_DAYS else Urgency.LATER


def urgency_key(left: int | None, position: int) -> tuple[int, int, int]:
    """Sort key: fewest days left first (overdue before everything), listing order among equals, no date last.

    A notice with no readable response date cannot get a follow-up task (it waits for a person either way), so it
    does not hold up the ones that can be filed.
    """
    return (1, 0, position) if left is None else (0, left, position)


def today_in(timezone: str, as_of: date | None = None, *, now: datetime | None = None) -> date:
    """The firm's today: ``as_of`` when set (the sandbox's corpus date, tests), else the date in ``timezone``."""
    if as_of is not None:
        return as_of
    return (now or datetime.now(ZoneInfo(timezone))).astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class UrgencyRule:
    """The follow-up task's priority and reminder from the days left (settings-driven, see PipelineSettings)."""

    urgent_within_days: int = THIS_WEEK_DAYS
    base_priority: Priority = Priority.HIGH
    reminder_days_before_due: int = 7

    def priority(self, left: int | None) -> Priority:
        """URGENT when overdue or due within ``urgent_within_days``; otherwise the base priority (never lower)."""
        if left is not None and left <= self.urgent_within_days:
            return max(Priority.URGENT, self.base_priority)
        return self.base_priority

    def reminder_date(self, due: date, today: date) -> date:
        """``reminder_days_before_due`` before the due date, but never in the past: an urgent notice reminds today."""
        return max(due - timedelta(days=self.reminder_days_before_due), today)
