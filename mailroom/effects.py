"""Idempotent Logiqs/Drive effects over the ledger: every step can be rerun, none is ever repeated.

How a notice's effects are made exactly-once (see docs/exactly-once.md for the whole story):

1. *Skip what is done*: an id already in the ledger is returned without calling Logiqs.
2. *Write ahead*: the attempt is committed to the ledger before the POST, so after a crash, a lost response or a
   retry the next caller knows the effect *may* exist.
3. *Look before retrying*: when an earlier attempt may have committed, the case's activities are searched for the
   notice's marker (``mailroom:<drive-id>:<md5[:12]>``, carried in the document Comment and the task Comments);
   only when it is absent is the POST sent again.
4. *Move last*: the Drive file goes to the MATCHED folder only once the document and the task are confirmed.

Callers hold the notice's lease (:meth:`Ledger.claim`). The functions raise only ``MailroomError`` subclasses.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel

from mailroom.crm import Activity, TaskRequest
from mailroom.errors import (
    CircuitOpenError,
    MailroomError,
    PermanentError,
    ThrottledError,
    TransientError,
)
from mailroom.ledger import Ledger, NoticeKey, NoticeRecord, Outcome

logger = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 900.0
DEFAULT_MAX_POSTS = 3  # POSTs of one effect within one call; further attempts belong to the caller's retries

EffectKind = Literal["document", "task"]


class LogiqsEffects(Protocol):
    """The part of mailroom.logiqs.LogiqsClient the effects use."""

    def upload_document(self, case_id: int, path: Path, *, file_name: str, comment: str) -> int: ...

    def create_task(self, task: TaskRequest) -> int: ...

    def activities(self, case_id: int) -> list[Activity]: ...


class DriveMoves(Protocol):
    def move(self, file_id: str, *, to_folder_id: str) -> object: ...


class EffectResult(BaseModel):
    """What an ``ensure_*`` call did. ``how``: already recorded, found in Logiqs by marker, or created now."""

    kind: EffectKind
    id: int
    how: Literal["recorded", "found", "created"]
    posts: int = 0  # POSTs sent by this call
    lookups: int = 0  # activity searches made by this call


def with_marker(text: str, key: NoticeKey) -> str:
    """Append the notice's marker to a comment (once). The marker holds ids only, never taxpayer data."""
    if key.marker in text:
        return text
    return f"{text} [{key.marker}]" if text else f"[{key.marker}]"


def find_marked(activities: list[Activity], key: NoticeKey, kind: EffectKind) -> int | None:
    """The id of the effect of ``kind`` carrying the notice's marker, or None.

    Should Logiqs hold more than one (a duplicate made before the ledger existed), the oldest id wins so every
    caller converges on the same one, and the duplicate is logged by id.
    """
    ids = sorted(
        effect_id
        for activity in activities
        if activity.kind.lower() == kind and key.marker in (activity.comment or "") + " " + (activity.subject or "")
        for effect_id in [activity.document_id if kind == "document" else activity.task_id]
        if effect_id is not None
    )
    if len(ids) > 1:
        logger.warning("notice %s has %d %ss in Logiqs carrying its marker: ids %s", key, len(ids), kind, ids)
    return ids[0] if ids else None


def ensure_document(
    ledger: Ledger,
    logiqs: LogiqsEffects,
    key: NoticeKey,
    *,
    owner: str,
    case_id: int,
    path: Path,
    file_name: str,
    comment: str = "",
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    max_posts: int = DEFAULT_MAX_POSTS,
) -> EffectResult:
    """The notice's document exists on ``case_id`` exactly once; returns its CaseDocumentID."""
    record = _current(ledger, key)
    if record.document_id is not None:
        return EffectResult(kind="document", id=record.document_id, how="recorded")
    if record.case_id is not None and record.document_attempts and record.case_id != case_id:
        # An earlier attempt targeted another case: look there, never file the same notice on two cases.
        case_id = record.case_id

    def post() -> int:
        return logiqs.upload_document(case_id, path, file_name=file_name, comment=with_marker(comment, key))

    digest = _sha256(path)  # recorded with each attempt: the ledger says which bytes went to Logiqs

    def begin() -> None:
        ledger.begin_document(key, owner, case_id, lease_seconds=lease_seconds, sha256=digest)

    def record_id(effect_id: int, found: bool) -> None:
        ledger.record_document(key, owner, effect_id, found_by_marker=found)

    return _ensure("document", logiqs, key, case_id, record.document_attempts, begin, post, record_id, max_posts)


def ensure_task(
    ledger: Ledger,
    logiqs: LogiqsEffects,
    key: NoticeKey,
    task: TaskRequest,
    *,
    owner: str,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    max_posts: int = DEFAULT_MAX_POSTS,
) -> EffectResult:
    """The notice's follow-up task exists exactly once, on the case its document was filed on; returns its TaskID."""
    record = _current(ledger, key)
    if record.task_id is not None:
        return EffectResult(kind="task", id=record.task_id, how="recorded")
    if record.document_id is None:
        raise PermanentError(
            f"task for notice {key} requested before its document was confirmed", reason="document_unconfirmed"
        )
    case_id = record.case_id if record.case_id is not None else task.case_id
    request = task.model_copy(update={"case_id": case_id, "comments": with_marker(task.comments, key)})

    def begin() -> None:
        ledger.begin_task(key, owner, case_id, lease_seconds=lease_seconds)

    def record_id(effect_id: int, found: bool) -> None:
        ledger.record_task(key, owner, effect_id, found_by_marker=found)

    def post() -> int:
        return logiqs.create_task(request)

    return _ensure("task", logiqs, key, case_id, record.task_attempts, begin, post, record_id, max_posts)


def ensure_moved(
    ledger: Ledger,
    drive: DriveMoves,
    key: NoticeKey,
    *,
    owner: str,
    outcome: Outcome,
    to_folder_id: str,
    reason: str = "",
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
) -> None:
    """Move the Drive file to its outcome folder and finish the notice (releasing the lease).

    For MATCHED the document and the task must already be confirmed in the ledger; otherwise nothing moves.
    A Drive move is idempotent (same target, same result), so a rerun after a crash simply repeats it.
    """
    if outcome is Outcome.FAILED:
        raise ValueError("a FAILED notice stays where it is: call Ledger.finish(key, owner, Outcome.FAILED)")
    record = _current(ledger, key)
    if outcome is Outcome.MATCHED and (record.document_id is None or record.task_id is None):
        raise PermanentError(
            f"notice {key} cannot move to MATCHED before its document and task are confirmed",
            reason="effects_unconfirmed",
        )
    ledger.record_target(key, owner, to_folder_id, reason=reason, lease_seconds=lease_seconds)
    drive.move(key.file_id, to_folder_id=to_folder_id)
    ledger.finish(key, owner, outcome, reason=reason)


# -- the one algorithm behind both POST effects ----------------------------------------------------------------


def _ensure(
    kind: EffectKind,
    logiqs: LogiqsEffects,
    key: NoticeKey,
    case_id: int,
    earlier_attempts: int,
    begin,  # noqa: ANN001 - small local callables, typed by their use
    post,  # noqa: ANN001
    record_id,  # noqa: ANN001
    max_posts: int,
) -> EffectResult:
    lookups = 0
    if earlier_attempts:
        # A previous call (crashed, timed out, or retried by Prefect) may have committed: look before posting.
        lookups += 1
        found = find_marked(logiqs.activities(case_id), key, kind)
        if found is not None:
            record_id(found, True)
            logger.info("notice %s: %s %s found by marker after an earlier attempt", key, kind, found)
            return EffectResult(kind=kind, id=found, how="found", lookups=lookups)

    last_error: MailroomError | None = None
    for posts in range(1, max_posts + 1):
        begin()  # committed before the request leaves: the write-ahead intent
        try:
            effect_id = post()
        except (ThrottledError, CircuitOpenError):
            raise  # refused before reaching the handler: nothing can have committed; the caller retries later
        except PermanentError:
            raise
        except MailroomError as exc:  # ambiguous (lost response) or transient after the request may have landed
            last_error = exc
            lookups += 1
            found = find_marked(logiqs.activities(case_id), key, kind)
            if found is not None:
                record_id(found, True)
                logger.info("notice %s: %s %s committed despite a lost response (%s)", key, kind, found, exc.reason)
                return EffectResult(kind=kind, id=found, how="found", posts=posts, lookups=lookups)
            logger.info("notice %s: %s absent after a failed POST (%s): posting again", key, kind, exc.reason)
            continue
        record_id(effect_id, False)
        return EffectResult(kind=kind, id=effect_id, how="created", posts=posts, lookups=lookups)

    # Still unknown. Safe for any caller to retry: the next call starts with a marker lookup.
    raise TransientError(
        f"{kind} for notice {key} still unconfirmed after {max_posts} POSTs",
        service="logiqs",
        operation=f"ensure_{kind}",
        reason="effect_unconfirmed",
    ) from last_error


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _current(ledger: Ledger, key: NoticeKey) -> NoticeRecord:
    record = ledger.get(key)
    if record is None:
        raise PermanentError(f"notice {key} is not in the ledger: claim it first", reason="not_claimed")
    return record


__all__ = [
    "DriveMoves",
    "EffectResult",
    "LogiqsEffects",
    "ensure_document",
    "ensure_moved",
    "ensure_task",
    "find_marked",
    "with_marker",
]
