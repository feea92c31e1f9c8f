"""Durable per-notice ledger: the memory that makes Logiqs effects exactly-once across retries, crashes and runs.

One row per notice, keyed by the Drive file id *and* its md5 (a file replaced in place with new content is a new
notice). The row records how far the notice got (``stage``), the effects already confirmed in Logiqs (document id,
task id), the effects *attempted* but not confirmed (attempt counters written before each POST, so a crash between
"request sent" and "id recorded" is visible to the next run), the Drive folder it belongs in, and its outcome.

Concurrency: a notice is worked on only by the holder of its lease (``owner`` + ``lease_expires``). ``claim`` takes
the lease in one ``BEGIN IMMEDIATE`` transaction, so two processes racing for the same notice cannot both win; every
later write checks the lease (a fencing check) and renews it, so a run whose lease expired (it was presumed dead and
another run took over) gets :class:`LeaseLostError` instead of writing over the new owner's progress.

Storage: one SQLite file in WAL mode with ``synchronous=FULL``: a committed transaction survives ``kill -9`` and power
loss, and readers never block the single writer. Each thread gets its own connection (Prefect runs tasks in threads).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mailroom.errors import ErrorClass, MailroomError
from mailroom.ledger_review import ReviewBatch, ReviewQueue, review_claim
from mailroom.ledger_records import (
    COLUMNS as _COLUMNS,
    HOST as _HOST,
    SCHEMA as _SCHEMA,
    ClaimResult,
    LeaseLostError,
    NoticeKey,
    NoticeRecord,
    Outcome,
    Stage,
    holder_dead as _holder_dead,
    record_from_row as _record,
)

__all__ = [
    "ClaimResult", "LeaseLostError", "Ledger", "NoticeKey", "NoticeRecord", "Outcome", "ReviewBatch", "Stage",
    "default_ledger_path",
]

DEFAULT_STATE_DIR_ENV = "MAILROOM_STATE_DIR"
LEDGER_FILE_NAME = "ledger.sqlite"


def default_ledger_path(state_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the ledger lives unless told otherwise: ``$MAILROOM_STATE_DIR`` or ``~/.mailroom``."""
    base = Path(state_dir or os.environ.get(DEFAULT_STATE_DIR_ENV) or Path.home() / ".mailroom")
    return base / LEDGER_FILE_NAME


class Ledger(ReviewQueue):
    """The notice ledger over one SQLite file. Safe to share between threads and between processes."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout_seconds: float = 30.0,
        synchronous: str = "FULL",
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._clock = clock
        self._busy_timeout = busy_timeout_seconds
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError("synchronous must be FULL, NORMAL or EXTRA")
        self._synchronous = synchronous
        self._local = threading.local()
        db = self._connection()
        db.execute("PRAGMA journal_mode=WAL")  # persistent in the file: set once, by whoever creates it
        db.executescript(_SCHEMA)  # idempotent (IF NOT EXISTS); executescript runs in its own transaction
        columns = {row["name"] for row in db.execute("PRAGMA table_info(notices)")}
        for column, kind in (("holder_host", "TEXT"), ("holder_pid", "INTEGER"), ("review_id", "TEXT"),
                             ("review_run_id", "TEXT"), ("review_since", "REAL")):  # files from before these existed
            if column not in columns:
                db.execute(f"ALTER TABLE notices ADD COLUMN {column} {kind}")

    # -- connections and transactions -------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        # A connection must not cross a fork (multiprocessing workers): reopen in the child.
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction. IMMEDIATE takes the write lock up front, so read-then-write is race-free."""
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local.conn = None

    # -- reads ------------------------------------------------------------------------------------------------

    def get(self, key: NoticeKey) -> NoticeRecord | None:
        row = self._connection().execute(
            f"SELECT {_COLUMNS} FROM notices WHERE file_id=? AND md5=?", (key.file_id, key.md5)
        ).fetchone()
        return _record(row) if row else None

    def records(self) -> list[NoticeRecord]:
        rows = self._connection().execute(f"SELECT {_COLUMNS} FROM notices ORDER BY file_id").fetchall()
        return [_record(row) for row in rows]

    def unfinished(self) -> list[NoticeRecord]:
        """Notices not MATCHED/UNMATCHED (still in progress, crashed mid-way, or FAILED): what a rerun must finish."""
        return [r for r in self.records() if not r.finished]

    def history(self, key: NoticeKey) -> list[str]:
        rows = self._connection().execute(
            "SELECT event FROM transitions WHERE file_id=? AND md5=? ORDER BY id", (key.file_id, key.md5)
        ).fetchall()
        return [row["event"] for row in rows]

    # -- leases -----------------------------------------------------------------------------------------------

    def claim(
        self, key: NoticeKey, owner: str, lease_seconds: float, *, file_name: str = "", review_id: str | None = None
    ) -> ClaimResult:
        """Take the notice's lease for ``owner`` unless another live owner holds it or it is already finished.

        Re-claiming by the same owner renews the lease. A FAILED notice can be claimed again (a later run retries
        it) and keeps every effect recorded so far, so the retry continues where the failure stopped. A
        PENDING_REVIEW notice is claimed only by a review run of its own batch (``review_id``).

        A lease whose holder process is known to be dead (same host, its pid gone) is taken over at once instead of
        after expiry: after a ``kill -9`` the rerun need not wait ``lease_seconds``.
        """
        now = self._clock()
        host, pid = _HOST, os.getpid()
        with self._write() as db:
            row = db.execute(
                "SELECT outcome, owner, lease_expires, holder_host, holder_pid, review_id FROM notices"
                " WHERE file_id=? AND md5=?",
                (key.file_id, key.md5),
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO notices (file_id, md5, file_name, stage, owner, lease_expires, holder_host,"
                    " holder_pid, runs, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                    (key.file_id, key.md5, file_name, Stage.CLAIMED.value, owner, now + lease_seconds, host, pid,
                     now, now),
                )
                _log(db, key, owner, now, "claimed (new)")
                return ClaimResult.ACQUIRED
            if row["outcome"] in (Outcome.MATCHED.value, Outcome.UNMATCHED.value):
                return ClaimResult.FINISHED
            if (answer := review_claim(row["outcome"], row["review_id"], review_id)) is not None:
                return answer
            other = row["owner"] not in (None, owner)
            live = (row["lease_expires"] or 0) > now
            if other and live and not _holder_dead(row["holder_host"], row["holder_pid"]):
                return ClaimResult.BUSY
            db.execute(
                "UPDATE notices SET owner=?, lease_expires=?, holder_host=?, holder_pid=?, outcome=NULL,"
                " runs=runs+1, updated_at=?, stage=CASE WHEN stage=? THEN ? ELSE stage END"
                " WHERE file_id=? AND md5=?",
                (owner, now + lease_seconds, host, pid, now, Stage.LISTED.value, Stage.CLAIMED.value,
                 key.file_id, key.md5),
            )
            how = "" if not other else " (dead holder's lease taken over)" if live else " (expired lease taken over)"
            _log(db, key, owner, now, f"claimed{how}")
            return ClaimResult.ACQUIRED

    def renew(self, key: NoticeKey, owner: str, lease_seconds: float) -> None:
        with self._write() as db:
            self._check_lease(db, key, owner)
            db.execute(
                "UPDATE notices SET lease_expires=? WHERE file_id=? AND md5=?",
                (self._clock() + lease_seconds, key.file_id, key.md5),
            )

    def extend(self, key: NoticeKey, owner: str, lease_seconds: float) -> bool:
        """Renew ``owner``'s lease even if it ran out, unless another run took the notice or it was finished.

        For a run that read every notice before filing them (most urgent first): a lease that expired while the
        notice waited is still safe to renew when nobody else claimed it meanwhile. False: leave the notice alone.
        """
        with self._write() as db:
            row = db.execute(
                "SELECT owner, outcome FROM notices WHERE file_id=? AND md5=?", (key.file_id, key.md5)
            ).fetchone()
            if row is None or row["owner"] != owner or row["outcome"] is not None:
                return False
            db.execute("UPDATE notices SET lease_expires=? WHERE file_id=? AND md5=?",
                       (self._clock() + lease_seconds, key.file_id, key.md5))
            return True

    def release(self, key: NoticeKey, owner: str) -> None:
        """Give the lease back without finishing (e.g. a dry run). A no-op when ``owner`` does not hold it."""
        with self._write() as db:
            db.execute(
                "UPDATE notices SET owner=NULL, lease_expires=NULL WHERE file_id=? AND md5=? AND owner=?",
                (key.file_id, key.md5, owner),
            )

    def _check_lease(self, db: sqlite3.Connection, key: NoticeKey, owner: str) -> sqlite3.Row:
        """Fencing: refuse writes from an owner whose lease expired or was taken over."""
        row = db.execute(
            "SELECT owner, lease_expires, document_id, task_id, case_id FROM notices WHERE file_id=? AND md5=?",
            (key.file_id, key.md5),
        ).fetchone()
        if row is None:
            raise LeaseLostError(f"notice {key} was never claimed", reason="not_claimed")
        if row["owner"] != owner or (row["lease_expires"] or 0) <= self._clock():
            raise LeaseLostError(f"lease on notice {key} is no longer held by this run", reason="lease_lost")
        return row

    # -- progress ---------------------------------------------------------------------------------------------

    def record_stage(
        self,
        key: NoticeKey,
        owner: str,
        stage: Stage,
        *,
        case_id: int | None = None,
        lease_seconds: float | None = None,
    ) -> None:
        """Advance the stage (never backwards) and renew the lease. ``case_id`` is recorded with MATCHED_CASE."""
        if stage in (Stage.DOCUMENT_UPLOADED, Stage.TASK_CREATED, Stage.DONE):
            raise ValueError(f"use record_document/record_task/finish for {stage.value}")
        now = self._clock()
        with self._write() as db:
            row = self._check_lease(db, key, owner)
            if case_id is not None and row["document_id"] is not None and row["case_id"] != case_id:
                # The document is already filed on another case: never split a notice across two cases.
                raise MailroomError(
                    f"notice {key} already has a document on case {row['case_id']}",
                    error_class=ErrorClass.PERMANENT, reason="case_changed_after_upload",
                )
            self._advance(db, key, stage, now)
            if case_id is not None:
                db.execute("UPDATE notices SET case_id=? WHERE file_id=? AND md5=?", (case_id, key.file_id, key.md5))
            self._touch(db, key, now, lease_seconds)
            _log(db, key, owner, now, f"stage {stage.value}")

    def begin_document(self, key: NoticeKey, owner: str, case_id: int, *, lease_seconds: float | None = None) -> int:
        """Write-ahead intent for an upload, committed *before* the POST. Returns the attempt number."""
        return self._begin(key, owner, "document", case_id, lease_seconds)

    def begin_task(self, key: NoticeKey, owner: str, case_id: int, *, lease_seconds: float | None = None) -> int:
        return self._begin(key, owner, "task", case_id, lease_seconds)

    def _begin(self, key: NoticeKey, owner: str, effect: str, case_id: int, lease_seconds: float | None) -> int:
        now = self._clock()
        with self._write() as db:
            row = self._check_lease(db, key, owner)
            if row[f"{effect}_id"] is not None:
                raise MailroomError(f"{effect} for notice {key} is already recorded", reason="effect_already_done")
            db.execute(
                f"UPDATE notices SET {effect}_attempts={effect}_attempts+1, case_id=? WHERE file_id=? AND md5=?",
                (case_id, key.file_id, key.md5),
            )
            self._touch(db, key, now, lease_seconds)
            attempt = db.execute(
                f"SELECT {effect}_attempts FROM notices WHERE file_id=? AND md5=?", (key.file_id, key.md5)
            ).fetchone()[0]
            _log(db, key, owner, now, f"{effect} attempt {attempt}")
            return int(attempt)

    def record_document(self, key: NoticeKey, owner: str, document_id: int, *, found_by_marker: bool = False) -> None:
        self._record_effect(key, owner, "document", document_id, Stage.DOCUMENT_UPLOADED, found_by_marker)

    def record_task(self, key: NoticeKey, owner: str, task_id: int, *, found_by_marker: bool = False) -> None:
        self._record_effect(key, owner, "task", task_id, Stage.TASK_CREATED, found_by_marker)

    def _record_effect(
        self, key: NoticeKey, owner: str, effect: str, effect_id: int, stage: Stage, found_by_marker: bool
    ) -> None:
        # No lease check here on purpose: the effect exists in Logiqs whoever asked for it, and forgetting a
        # confirmed id is exactly how duplicates happen. COALESCE keeps the first id if two writers ever race.
        now = self._clock()
        with self._write() as db:
            db.execute(
                f"UPDATE notices SET {effect}_id=COALESCE({effect}_id, ?), updated_at=? WHERE file_id=? AND md5=?",
                (effect_id, now, key.file_id, key.md5),
            )
            self._advance(db, key, stage, now)
            how = " (found by marker)" if found_by_marker else ""
            _log(db, key, owner, now, f"{effect} {effect_id} confirmed{how}")

    def record_target(self, key: NoticeKey, owner: str, folder_id: str, *, lease_seconds: float | None = None) -> None:
        """Remember which Drive folder the file belongs in before moving it (a rerun finishes the same move)."""
        now = self._clock()
        with self._write() as db:
            self._check_lease(db, key, owner)
            db.execute(
                "UPDATE notices SET target_folder_id=? WHERE file_id=? AND md5=?", (folder_id, key.file_id, key.md5)
            )
            self._touch(db, key, now, lease_seconds)

    def finish(self, key: NoticeKey, owner: str, outcome: Outcome, *, reason: str = "") -> None:
        """Record the notice's outcome and release the lease, in one transaction.

        MATCHED requires the document and the task to be confirmed: the ledger refuses to call a notice filed when
        it is not. ``reason`` must be report-safe (classified, no taxpayer data).
        """
        now = self._clock()
        with self._write() as db:
            row = self._check_lease(db, key, owner)
            if outcome is Outcome.MATCHED and (row["document_id"] is None or row["task_id"] is None):
                raise MailroomError(
                    f"notice {key} cannot be MATCHED before its document and task are confirmed",
                    reason="effects_unconfirmed",
                )
            moved = outcome in (Outcome.MATCHED, Outcome.UNMATCHED)
            if outcome is Outcome.MATCHED:
                self._advance(db, key, Stage.DONE, now)
            # Finishing leaves any review batch; PENDING_REVIEW waits unassigned for the next review run.
            db.execute(
                "UPDATE notices SET outcome=?, reason=?, moved=MAX(moved, ?), owner=NULL, lease_expires=NULL,"
                " review_id=NULL, review_run_id=NULL, review_since=NULL, updated_at=? WHERE file_id=? AND md5=?",
                (outcome.value, reason, int(moved), now, key.file_id, key.md5),
            )
            _log(db, key, owner, now, f"finished {outcome.value}")

    # -- helpers ----------------------------------------------------------------------------------------------

    def _advance(self, db: sqlite3.Connection, key: NoticeKey, stage: Stage, now: float) -> None:
        current = db.execute("SELECT stage FROM notices WHERE file_id=? AND md5=?", (key.file_id, key.md5)).fetchone()
        if current is not None and Stage(current["stage"]).rank < stage.rank:
            db.execute(
                "UPDATE notices SET stage=?, updated_at=? WHERE file_id=? AND md5=?",
                (stage.value, now, key.file_id, key.md5),
            )

    def _touch(self, db: sqlite3.Connection, key: NoticeKey, now: float, lease_seconds: float | None) -> None:
        if lease_seconds is not None:
            db.execute(
                "UPDATE notices SET lease_expires=?, updated_at=? WHERE file_id=? AND md5=?",
                (now + lease_seconds, now, key.file_id, key.md5),
            )
        else:
            db.execute("UPDATE notices SET updated_at=? WHERE file_id=? AND md5=?", (now, key.file_id, key.md5))

def _log(db: sqlite3.Connection, key: NoticeKey, owner: str | None, now: float, event: str) -> None:
    db.execute(
        "INSERT INTO transitions (file_id, md5, at, owner, event) VALUES (?, ?, ?, ?, ?)",
        (key.file_id, key.md5, now, owner, event),
    )
