"""Typed views of the CRM (Logiqs) that the rest of mailroom depends on.

The Logiqs client (mailroom.logiqs) maps wire payloads into these; matching and the pipeline only see these models,
so they can be tested against any ``CaseDirectory`` implementation.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Protocol

from pydantic import BaseModel, Field


class CaseCandidate(BaseModel):
    """One case as returned by a case search (Logiqs ``Case/FindCase``) and ``Case/Case``."""

    case_id: int
    first_name: str = ""
    last_name: str = ""
    spouse_first_name: str | None = None
    spouse_last_name: str | None = None
    ssn_last4: str | None = Field(default=None, pattern=r"^\d{4}$")
    # The spouse's last 4 when the CRM exposes it (joint cases filed under the spouse as primary); None = unknown.
    spouse_ssn_last4: str | None = Field(default=None, pattern=r"^\d{4}$")
    status: str = ""
    active: bool = True


class Priority(IntEnum):
    """Logiqs PriorityID (0-3)."""

    LOW = 0
    NORMAL = 1
    HIGH = 2
    URGENT = 3


class TaskRequest(BaseModel):
    case_id: int
    subject: str
    due_date: datetime  # UTC
    reminder: datetime  # UTC
    priority: Priority = Priority.HIGH
    task_type: int = 1  # 1 task, 2 event
    user_ids: list[int] = Field(default_factory=list)
    status_id: int = 0
    comments: str = ""
    end_date: datetime | None = None  # UTC; required by Logiqs when task_type == 2 (event)


class Activity(BaseModel):
    """One entry of a case's activity feed (Logiqs ``CaseActivity/Activity``)."""

    activity_id: int
    case_id: int
    kind: str  # "document", "task", or another Logiqs activity type
    subject: str = ""
    comment: str = ""
    created: datetime | None = None
    document_id: int | None = None
    task_id: int | None = None


class CaseDirectory(Protocol):
    """What matching needs from a CRM."""

    def find_cases(
        self, last_name: str, ssn_last4: str, *, first_name: str | None = None, active_only: bool = False
    ) -> list[CaseCandidate]: ...

    def get_case(self, case_id: int) -> CaseCandidate: ...
