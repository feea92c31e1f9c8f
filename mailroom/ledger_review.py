"""The review queue's part of the ledger: PENDING_REVIEW notices grouped into review batches, one per review run.

    review_id = new_review_id()
    records = ledger.assign_review(review_id)        # every PENDING_REVIEW notice no batch holds yet (atomic)
    ledger.set_review_run(review_id, flow_run_id)    # which review flow run asks about them
    ledger.open_reviews()                            # batches still holding notices
    ledger.release_review(review_id)                 # undecided notices wait for the next batch

A notice is in at most one batch, so two daily runs (or a rerun) never put it in two review runs: assigning is one
``UPDATE ... WHERE review_id IS NULL`` (SQLite: under the database's write lock; PostgreSQL: a concurrent assignment
waits for the row locks and re-checks the condition on the committed rows, so it skips what the other took).
Finishing a notice (MATCHED, UNMATCHED, or PENDING_REVIEW again after a failed filing) takes it out of its batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Double, String, cast, func, literal, null, select
from sqlalchemy.engine import Connection

from mailroom.ledger_records import ClaimResult, NoticeRecord, Outcome, record_from_row
from mailroom.ledger_schema import RECORD_COLUMNS, notices, transitions

_PENDING = Outcome.PENDING_REVIEW.value
_RECORDS = select(*[notices.c[name] for name in RECORD_COLUMNS]).order_by(notices.c.created_at, notices.c.file_id)


class ReviewBatch(BaseModel):
    """The notices one review run asks about (identifiers only)."""

    review_id: str
    run_id: str | None  # None until the review run exists (or when starting it failed)
    since: float  # when the batch was formed (epoch seconds, the ledger's clock)
    notices: int


def new_review_id() -> str:
    return uuid.uuid4().hex


def review_claim(outcome: str | None, row_review_id: str | None, claimer_review_id: str | None) -> ClaimResult | None:
    """The claim answer for a PENDING_REVIEW notice (None: not pending review, or the claimer is its batch's run)."""
    if outcome != _PENDING:
        return None
    if claimer_review_id is None:
        return ClaimResult.IN_REVIEW
    if row_review_id != claimer_review_id:
        return ClaimResult.OTHER_REVIEW
    return None


class ReviewQueue:
    """Mixed into ``mailroom.ledger.Ledger``, which provides the transactions and the clock."""

    _write: Callable[[], AbstractContextManager[Connection]]
    _read: Callable[[], AbstractContextManager[Connection]]
    _now: Callable[[Connection], float]

    def pending_review(self) -> list[NoticeRecord]:
        """Every notice waiting for a reviewer, in a batch or not."""
        with self._read() as conn:
            return [record_from_row(r) for r in conn.execute(_RECORDS.where(notices.c.outcome == _PENDING)).mappings()]

    def in_review(self, review_id: str) -> list[NoticeRecord]:
        """The notices of one batch that still wait (decided ones have left it)."""
        query = _RECORDS.where(notices.c.outcome == _PENDING, notices.c.review_id == review_id)
        with self._read() as conn:
            return [record_from_row(r) for r in conn.execute(query).mappings()]

    def assign_review(self, review_id: str) -> list[NoticeRecord]:
        """Put every PENDING_REVIEW notice that no batch holds into batch ``review_id``, in one transaction."""
        with self._write() as conn:
            now = self._now(conn)
            conn.execute(notices.update()
                         .where(notices.c.outcome == _PENDING, notices.c.review_id.is_(None))
                         .values(review_id=review_id, review_run_id=None, review_since=now))
            # The clock again, now that the batch's rows are locked (tests hold the transaction open here).
            _log_batch(conn, review_id, self._now(conn), f"in review batch {review_id}")
        return self.in_review(review_id)

    def set_review_run(self, review_id: str, run_id: str) -> None:
        with self._write() as conn:
            conn.execute(notices.update()
                         .where(notices.c.outcome == _PENDING, notices.c.review_id == review_id)
                         .values(review_run_id=run_id))

    def open_reviews(self) -> list[ReviewBatch]:
        query = (select(notices.c.review_id, func.max(notices.c.review_run_id).label("run_id"),
                        func.min(notices.c.review_since).label("since"), func.count().label("notices"))
                 .where(notices.c.outcome == _PENDING, notices.c.review_id.is_not(None))
                 .group_by(notices.c.review_id)
                 .order_by(func.min(notices.c.review_since)))
        with self._read() as conn:
            return [ReviewBatch(review_id=r["review_id"], run_id=r["run_id"], since=r["since"] or 0.0,
                                notices=r["notices"]) for r in conn.execute(query).mappings()]

    def release_review(self, review_id: str) -> int:
        """Take the batch's undecided notices out of it: they wait for the next review run. Returns how many."""
        with self._write() as conn:
            _log_batch(conn, review_id, self._now(conn), f"released from review batch {review_id}")
            result = conn.execute(notices.update()
                                  .where(notices.c.outcome == _PENDING, notices.c.review_id == review_id)
                                  .values(review_id=None, review_run_id=None, review_since=None))
            return int(result.rowcount or 0)


def _log_batch(conn: Connection, review_id: str, now: float, event: str) -> None:
    """One audit line per notice of the batch (``transitions``, like every other ledger event)."""
    rows: Any = select(notices.c.file_id, notices.c.md5, literal(now, Double), cast(null(), String),
                       literal(event, String)).where(notices.c.outcome == _PENDING, notices.c.review_id == review_id)
    conn.execute(transitions.insert().from_select(["file_id", "md5", "at", "owner", "event"], rows))
