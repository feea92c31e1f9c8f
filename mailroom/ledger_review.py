"""The review queue's part of the ledger: PENDING_REVIEW notices grouped into review batches, one per review run.

    review_id = new_review_id()
    records = ledger.assign_review(review_id)        # every PENDING_REVIEW notice no batch holds yet (atomic)
    ledger.set_review_run(review_id, flow_run_id)    # which review flow run asks about them
    ledger.open_reviews()                            # batches still holding notices (expired ones are released)
    ledger.release_review(review_id)                 # undecided notices wait for the next batch

A notice is in at most one batch, so two daily runs (or a rerun) never put it in two review runs. Finishing a
notice (MATCHED, UNMATCHED, or PENDING_REVIEW again after a failed filing) takes it out of its batch.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from pydantic import BaseModel

from mailroom.ledger_records import COLUMNS, ClaimResult, NoticeRecord, Outcome, record_from_row

_PENDING = Outcome.PENDING_REVIEW.value


class ReviewBatch(BaseModel):
    """The notices one review run asks about (identifiers only)."""

    review_id: str
    run_id: str | None  # None until the review run exists (or when starting it failed)
    since: float  # when the batch was formed (epoch seconds, the ledger's clock)
    notices: int


def new_review_id() -> str:
    return uuid.uuid4().hex


def review_claim(outcome: str | None, row_review_id: str | None, claimer_review_id: str | None) -> ClaimResult | None:
    """The claim answer for a PENDING_REVIEW notice (None: not pending review, the usual rules apply)."""
    if outcome != _PENDING:
        return None
    if claimer_review_id is None:
        return ClaimResult.IN_REVIEW
    if row_review_id != claimer_review_id:
        return ClaimResult.OTHER_REVIEW
    return None  # the review run of its batch: claimable like any unfinished notice


class ReviewQueue:
    """Mixed into ``mailroom.ledger.Ledger`` (which provides the connection, the write transaction and the clock)."""

    _clock: Callable[[], float]
    _write: Callable[[], AbstractContextManager[sqlite3.Connection]]
    _connection: Callable[[], sqlite3.Connection]

    def pending_review(self) -> list[NoticeRecord]:
        """Every notice waiting for a reviewer, in a batch or not."""
        return self._select("outcome=?", (_PENDING,))

    def in_review(self, review_id: str) -> list[NoticeRecord]:
        """The notices of one batch that still wait (decided ones have left it)."""
        return self._select("outcome=? AND review_id=?", (_PENDING, review_id))

    def assign_review(self, review_id: str) -> list[NoticeRecord]:
        """Put every PENDING_REVIEW notice that no batch holds into batch ``review_id``, in one transaction."""
        now = self._clock()
        with self._write() as db:
            db.execute(
                "UPDATE notices SET review_id=?, review_run_id=NULL, review_since=? "
                "WHERE outcome=? AND review_id IS NULL",
                (review_id, now, _PENDING),
            )
            self._log_batch(db, review_id, now, f"in review batch {review_id}")
        return self.in_review(review_id)

    def set_review_run(self, review_id: str, run_id: str) -> None:
        with self._write() as db:
            db.execute("UPDATE notices SET review_run_id=? WHERE review_id=? AND outcome=?",
                       (run_id, review_id, _PENDING))

    def open_reviews(self) -> list[ReviewBatch]:
        rows = self._connection().execute(
            "SELECT review_id, MAX(review_run_id) AS run_id, MIN(review_since) AS since, COUNT(*) AS notices "
            "FROM notices WHERE outcome=? AND review_id IS NOT NULL GROUP BY review_id ORDER BY since",
            (_PENDING,),
        ).fetchall()
        return [ReviewBatch(review_id=r["review_id"], run_id=r["run_id"], since=r["since"] or 0.0,
                            notices=r["notices"]) for r in rows]

    def release_review(self, review_id: str) -> int:
        """Take the batch's undecided notices out of it: they wait for the next review run. Returns how many."""
        now = self._clock()
        with self._write() as db:
            self._log_batch(db, review_id, now, f"released from review batch {review_id}")
            cursor = db.execute(
                "UPDATE notices SET review_id=NULL, review_run_id=NULL, review_since=NULL "
                "WHERE review_id=? AND outcome=?",
                (review_id, _PENDING),
            )
            return cursor.rowcount

    # -- helpers ------------------------------------------------------------------------------------------------

    def _select(self, where: str, params: tuple[Any, ...]) -> list[NoticeRecord]:
        rows = self._connection().execute(
            f"SELECT {COLUMNS} FROM notices WHERE {where} ORDER BY created_at, file_id", params
        ).fetchall()
        return [record_from_row(row) for row in rows]

    @staticmethod
    def _log_batch(db: sqlite3.Connection, review_id: str, now: float, event: str) -> None:
        db.execute(
            "INSERT INTO transitions (file_id, md5, at, owner, event) "
            "SELECT file_id, md5, ?, NULL, ? FROM notices WHERE review_id=? AND outcome=?",
            (now, event, review_id, _PENDING),
        )
