"""Logiqs verbs. The two effects (document, task) are non-idempotent POSTs made exactly once through
``mailroom.effects``: a retried attempt looks for the notice's marker in the case activities before posting again,
which is the dedup check that makes retrying an AMBIGUOUS failure safe (docs/exactly-once.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from mailroom.crm import TaskRequest
from mailroom.duplicates import filed_copy
from mailroom.effects import ensure_document, ensure_task
from mailroom.ledger import NoticeKey
from mailroom.urgency import days_left
from tasks.context import services
from tasks.retry import retry_transient_or_checked_ambiguous, service_task


@service_task(name="check-logiqs-access", service="logiqs")
def check_logiqs_access() -> None:
    """Fails fast (AuthError, PERMANENT, zero retries) on a bad key or a missing scope."""
    services().logiqs.check_access()


@service_task(name="find-filed-copy", service="logiqs")
def find_filed_copy(key: NoticeKey, case_id: int, document_name: str) -> int | None:
    """A document of this name already on the case that is not this notice's own (filed by hand, or by another
    system): the notice is then a duplicate. One read of the case's activity feed."""
    return filed_copy(services().logiqs.activities(case_id), key.marker, document_name)


@service_task(name="upload-document", service="logiqs", retry_condition=retry_transient_or_checked_ambiguous)
def upload_document(key: NoticeKey, case_id: int, path: Path, file_name: str) -> int:
    current = services()
    result = ensure_document(
        current.ledger, current.logiqs, key, owner=current.owner, case_id=case_id, path=path, file_name=file_name,
        comment="IRS notice filed by mailroom", lease_seconds=current.settings.lease_seconds,
    )
    return result.id


@service_task(name="create-follow-up-task", service="logiqs", retry_condition=retry_transient_or_checked_ambiguous)
def create_follow_up_task(
    key: NoticeKey, case_id: int, letter_type: str, notice_date: date | None, due_date: date
) -> int:
    current = services()
    settings = current.settings
    today = settings.today()
    due_at, reminder = settings.due_and_reminder(due_date, today)  # an urgent notice reminds today
    request = TaskRequest(
        case_id=case_id,
        subject=settings.follow_up_subject(letter_type, notice_date),
        due_date=due_at,
        reminder=reminder,
        priority=settings.urgency_rule().priority(days_left(due_date, today)),  # overdue / <= 7 days: URGENT
        user_ids=[settings.assignee_user_id] if settings.assignee_user_id is not None else [],
        comments="Review the IRS notice filed by mailroom",
    )
    result = ensure_task(current.ledger, current.logiqs, key, request, owner=current.owner,
                         lease_seconds=settings.lease_seconds)
    return result.id
