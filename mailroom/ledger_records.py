"""The ledger's vocabulary: notice keys, stages, outcomes, claim answers and the row model (tables: ledger_schema).

Split from mailroom.ledger (which re-exports every public name) to keep each module readable.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from enum import Enum
from typing import Any

import psutil
from pydantic import BaseModel

from mailroom.errors import LeaseLostError  # noqa: F401 - re-exported; every error lives in mailroom.errors
from mailroom.outcomes import Outcome


class Stage(str, Enum):
    """How far a notice got. Ordered: progress only moves forward (``record_stage`` never moves it back)."""

    LISTED = "LISTED"
    CLAIMED = "CLAIMED"
    DOWNLOADED = "DOWNLOADED"
    EXTRACTED = "EXTRACTED"
    MATCHED_CASE = "MATCHED_CASE"
    DOCUMENT_UPLOADED = "DOCUMENT_UPLOADED"
    TASK_CREATED = "TASK_CREATED"
    DONE = "DONE"  # moved to the MATCHED folder: nothing left to do

    @property
    def rank(self) -> int:
        return _STAGE_ORDER.index(self)


_STAGE_ORDER = list(Stage)


class ClaimResult(str, Enum):
    """Answer of :meth:`Ledger.claim`. Truthy only when the caller now holds the lease."""

    ACQUIRED = "ACQUIRED"
    BUSY = "BUSY"  # another live owner holds the lease: leave the notice alone
    FINISHED = "FINISHED"  # MATCHED or UNMATCHED already: nothing to do
    IN_REVIEW = "IN_REVIEW"  # PENDING_REVIEW: only a review run of its batch may claim it
    OTHER_REVIEW = "OTHER_REVIEW"  # PENDING_REVIEW, but in another review batch than the claiming review run's

    def __bool__(self) -> bool:
        return self is ClaimResult.ACQUIRED


class NoticeKey(BaseModel, frozen=True):
    """A notice: the Drive file (id + md5) and, for a file that holds several letters, which letter (``part``).

    Part 0 is the file's first (or only) letter and keeps the key, marker and ledger row it always had, so ledgers
    and Logiqs markers written before files could hold several letters stay valid. Part n > 0 is stored under the
    md5 column value ``<md5>:p<n>`` and marked ``mailroom:<file id>/<n>:<md5[:12]>`` (never a substring of part 0's).
    """

    file_id: str
    md5: str
    part: int = 0

    @property
    def marker(self) -> str:
        """Unique, log-safe token we put in Logiqs comments so an effect can be found again after a lost response."""
        if self.part:
            return f"mailroom:{self.file_id}/{self.part}:{self.md5[:12]}"
        return f"mailroom:{self.file_id}:{self.md5[:12]}"

    @property
    def row_md5(self) -> str:
        """The value of the ledger's md5 column for this key."""
        return f"{self.md5}:p{self.part}" if self.part else self.md5

    def letter(self, part: int) -> "NoticeKey":
        return NoticeKey(file_id=self.file_id, md5=self.md5, part=part)

    @classmethod
    def from_row(cls, file_id: str, row_md5: str) -> "NoticeKey":
        md5, _, part = row_md5.rpartition(":p")
        return cls(file_id=file_id, md5=md5, part=int(part)) if md5 and part.isdigit() else cls(file_id=file_id,
                                                                                                  md5=row_md5)

    def __str__(self) -> str:  # identifiers only: safe to log
        return f"{self.file_id}{f'/{self.part}' if self.part else ''}@{self.md5[:12]}"


class NoticeRecord(BaseModel):
    """One ledger row. Every field is report-safe (ids, stages, classified reasons); no taxpayer data."""

    key: NoticeKey
    file_name: str = ""
    stage: Stage = Stage.LISTED
    outcome: Outcome | None = None
    reason: str = ""
    case_id: int | None = None
    document_id: int | None = None
    task_id: int | None = None
    document_attempts: int = 0  # POSTs started (written *before* sending): > 0 with no id = "look before retrying"
    document_sha256: str | None = None  # the bytes the last document POST carried (a recompressed copy if oversize)
    task_attempts: int = 0
    target_folder_id: str | None = None
    moved: bool = False
    runs: int = 0  # how many times a run claimed this notice
    owner: str | None = None
    lease_expires: float | None = None
    updated_at: float = 0.0
    review_id: str | None = None  # PENDING_REVIEW: the review batch it is in (None: waiting for the next one)
    review_run_id: str | None = None  # the review flow run asking about that batch
    drive: str | None = None  # the Drive the row was written for (DriveBinding token); None before rows were bound

    @property
    def finished(self) -> bool:
        return self.outcome in (Outcome.MATCHED, Outcome.UNMATCHED)


HOST = socket.gethostname()


def holder_dead(host: str | None, pid: int | None) -> bool:
    """True only when we can be sure: the holder ran on this host and its process is gone (or a zombie)."""
    if host != HOST or pid is None or pid == os.getpid():
        return False
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:  # access denied and the like: it exists, so it may be alive
        return False


def record_from_row(row: Mapping[str, Any]) -> NoticeRecord:
    return NoticeRecord(
        key=NoticeKey.from_row(row["file_id"], row["md5"]),
        file_name=row["file_name"],
        stage=Stage(row["stage"]),
        outcome=Outcome(row["outcome"]) if row["outcome"] else None,
        reason=row["reason"],
        case_id=row["case_id"],
        document_id=row["document_id"],
        task_id=row["task_id"],
        document_attempts=row["document_attempts"],
        document_sha256=row["document_sha256"],
        task_attempts=row["task_attempts"],
        target_folder_id=row["target_folder_id"],
        moved=bool(row["moved"]),
        runs=row["runs"],
        owner=row["owner"],
        lease_expires=row["lease_expires"],
        updated_at=row["updated_at"],
        review_id=row["review_id"],
        review_run_id=row["review_run_id"],
        drive=row.get("drive"),
    )
