"""Durable per-notice ledger: the memory that makes Logiqs effects exactly-once across retries, crashes and runs.

One row per notice, keyed by the Drive file id *and* its md5 (a file replaced in place with new content is a new
notice). The row records how far the notice got (``stage``), the effects already confirmed in Logiqs (document id,
task id), the effects *attempted* but not confirmed (attempt counters written before each POST, so a crash between
"request sent" and "id recorded" is visible to the next run), the Drive folder it belongs in, and its outcome.

Concurrency: a notice is worked on only by the holder of its lease (``owner`` + ``lease_expires``). ``claim`` takes
the lease in one transaction holding the notice's lock, so two processes racing for it cannot both win; every later
write re-checks the lease under the same lock (fencing) and renews it, so a run whose lease was taken over gets
:class:`LeaseLostError` instead of writing over the new owner's progress.

Storage: ``Ledger(path)``, one SQLite file (the embedded default, one machine), or ``Ledger.from_url(url)``, a
PostgreSQL database shared by every worker: same guarantees from row locks and the server's clock (see
mailroom.ledger_engine and docs/exactly-once.md, "Two backends"). Safe to share between threads and across fork.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.engine import Connection, RowMapping

from mailroom.errors import ConfigurationError, MailroomError
from mailroom.ledger_engine import (
    READ_ONLY,
    fork_safe,
    parse_url,
    postgresql_engine,
    safe_url,
    server_now,
    sqlite_engine,
    unavailable_is_transient,
)
from mailroom.ledger_effects import EffectJournal, _advanced, _key, _log
from mailroom.ledger_review import ReviewBatch, ReviewQueue, review_claim
from mailroom.ledger_records import (
    HOST as _HOST,
    ClaimResult,
    LeaseLostError,
    NoticeKey,
    NoticeRecord,
    Outcome,
    Stage,
    holder_dead as _holder_dead,
    record_from_row as _record,
)
from mailroom.ledger_identity import IdentityHolder, claim as claim_identity
from mailroom.ledger_schema import (
    ALL_RECORDS,
    FORGET,
    HISTORY,
    LOCK_ROW,
    RECORD_BY_KEY,
    RELEASE,
    UPDATE_ROW,
    claimable,
    insert_new,
    migrate,
    schema_version,
)

__all__ = [
    "ClaimResult", "LeaseLostError", "Ledger", "NoticeKey", "NoticeRecord", "Outcome", "ReviewBatch", "Stage",
    "default_ledger_path", "open_ledger",
]

DEFAULT_STATE_DIR_ENV = "MAILROOM_STATE_DIR"
LEDGER_FILE_NAME = "ledger.sqlite"
_FINISHED = (Outcome.MATCHED.value, Outcome.UNMATCHED.value)


def default_ledger_path(state_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the ledger lives unless told otherwise: ``$MAILROOM_STATE_DIR`` or ``~/.mailroom``."""
    base = Path(state_dir or os.environ.get(DEFAULT_STATE_DIR_ENV) or Path.home() / ".mailroom")
    return base / LEDGER_FILE_NAME


def open_ledger(
    ledger_url: str | SecretStr | None = None, state_dir: str | os.PathLike[str] | None = None, **options: Any
) -> Ledger:
    """The ledger the settings name: ``ledger_url`` when set (PostgreSQL, shared), else the SQLite file in state_dir."""
    if isinstance(ledger_url, SecretStr):
        ledger_url = ledger_url.get_secret_value()
    if ledger_url:
        return Ledger.from_url(ledger_url, **options)
    return Ledger(default_ledger_path(state_dir), **options)


class Ledger(EffectJournal, ReviewQueue):
    """The notice ledger over one SQLite file (``Ledger(path)``) or a PostgreSQL database (``Ledger.from_url``).

    The effect journal (stage, write-ahead attempts and confirmed ids of uploads and tasks, target folder) is in
    ``EffectJournal``; the review queue's batches (PENDING_REVIEW notices, one batch per review run) are in
    ``ReviewQueue``."""

    path: Path | None  # the SQLite file; None on PostgreSQL

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Callable[[], float] | None = time.time,
        busy_timeout_seconds: float = 30.0,
        synchronous: str = "FULL",
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = sqlite_engine(self.path, busy_timeout_seconds=busy_timeout_seconds, synchronous=synchronous)
        self._open(engine, clock or time.time)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        clock: Callable[[], float] | None = None,
        busy_timeout_seconds: float = 30.0,
        synchronous: str = "FULL",
    ) -> Ledger:
        """``postgresql+psycopg://user@host/db`` (shared by every worker) or ``sqlite:////abs/path/ledger.sqlite``.

        On PostgreSQL, lease times come from the database server's clock unless ``clock`` is given (tests), so
        workers on hosts whose clocks disagree still agree on when a lease expired; ``busy_timeout_seconds`` bounds
        connecting and waiting for a notice's row lock (then TRANSIENT).
        """
        parsed = parse_url(url)
        if parsed.get_backend_name() == "sqlite":
            if not parsed.database or parsed.database == ":memory:":
                raise ConfigurationError("a SQLite ledger needs a file path", reason="bad_ledger_url")
            return cls(parsed.database, clock=clock, busy_timeout_seconds=busy_timeout_seconds,
                       synchronous=synchronous)
        ledger = cls.__new__(cls)
        ledger.path = None
        ledger._open(postgresql_engine(parsed, lock_timeout_seconds=busy_timeout_seconds), clock)
        return ledger

    def _open(self, engine: Engine, clock: Callable[[], float] | None) -> None:
        self._db, self._pid = engine, os.getpid()
        self.backend: str = engine.dialect.name
        self.url = safe_url(engine.url)  # password masked: safe to log
        self._clock = clock
        with self._write() as conn:
            self.schema_version = migrate(conn)  # idempotent; serialized between workers starting together

    def __repr__(self) -> str:
        return f"Ledger({self.url!r})"

    # -- connections and transactions ---------------------------------------------------------------------------

    def _engine(self) -> Engine:
        self._pid = fork_safe(self._db, self._pid)  # a pooled connection must not cross a fork
        return self._db

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One atomic write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: callers lock the row they check)."""
        with unavailable_is_transient(), self._engine().begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with unavailable_is_transient(), self._engine().connect() as conn:
            yield conn.execution_options(**{READ_ONLY: True})

    def _now(self, conn: Connection) -> float:
        return self._clock() if self._clock is not None else server_now(conn)

    def close(self) -> None:
        self._engine().dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:  # ``with ledger:`` closes its connections
        self.close()

    # -- reads ------------------------------------------------------------------------------------------------

    def get(self, key: NoticeKey) -> NoticeRecord | None:
        with self._read() as conn:
            row = conn.execute(RECORD_BY_KEY, _key(key)).mappings().first()
        return _record(row) if row else None

    def records(self) -> list[NoticeRecord]:
        with self._read() as conn:
            return [_record(row) for row in conn.execute(ALL_RECORDS).mappings()]

    def unfinished(self) -> list[NoticeRecord]:
        """Notices not MATCHED/UNMATCHED (still in progress, crashed mid-way, or FAILED): what a rerun must finish."""
        return [r for r in self.records() if not r.finished]

    def history(self, key: NoticeKey) -> list[str]:
        with self._read() as conn:
            return list(conn.scalars(HISTORY, _key(key)))

    def current_schema_version(self) -> int:
        with self._read() as conn:
            return schema_version(conn)

    # -- leases -----------------------------------------------------------------------------------------------

    def claim(self, key: NoticeKey, owner: str, lease_seconds: float, *, file_name: str = "",
              review_id: str | None = None, drive: str | None = None) -> ClaimResult:
        """Take the notice's lease for ``owner`` unless another live owner holds it or it is already finished.

        ``drive`` (a DriveBinding token) binds the row to the Drive it is for: a row written for another Drive (a
        re-created one with the same ids) is forgotten here and the notice starts afresh; an unbound row is adopted.

        Re-claiming by the same owner renews the lease. A FAILED notice can be claimed again (a later run retries
        it) and keeps every effect recorded so far, so the retry continues where the failure stopped. A
        PENDING_REVIEW notice is claimed only by a review run of its own batch (``review_id``).

        A lease whose holder process is known to be dead (same host, its pid gone) is taken over at once instead of
        after expiry: after a ``kill -9`` the rerun need not wait ``lease_seconds``.
        """
        with self._write() as conn:
            row = conn.execute(LOCK_ROW, _key(key)).mappings().first()
            now = self._now(conn)
            if row is not None and drive and row["drive"] not in (None, drive):
                _log(conn, key, owner, now, f"forgotten: written for Drive {row['drive']}, this is Drive {drive}")
                conn.execute(FORGET, _key(key))
                row = None
            if row is None:
                added = conn.execute(insert_new(conn.dialect.name), dict(
                    file_id=key.file_id, md5=key.row_md5, file_name=file_name, stage=Stage.CLAIMED.value, runs=1,
                    created_at=now, drive=drive, **_holder(owner, now + lease_seconds, now),
                )).first()
                if added is not None:
                    _log(conn, key, owner, now, "claimed (new)")
                    return ClaimResult.ACQUIRED
                # Another worker inserted it after our look (PostgreSQL: ON CONFLICT waited for its commit).
                row = conn.execute(LOCK_ROW, _key(key)).mappings().one()
            if row["outcome"] in _FINISHED:
                return ClaimResult.FINISHED
            if (in_review := review_claim(row["outcome"], row["review_id"], review_id)) is not None:
                return in_review
            other = row["owner"] not in (None, owner)
            live = (row["lease_expires"] or 0) > now
            if other and live and not _holder_dead(row["holder_host"], row["holder_pid"]):
                return ClaimResult.BUSY
            _take(conn, key, row, owner, now + lease_seconds, now, drive=drive)
            how = "" if not other else " (dead holder's lease taken over)" if live else " (expired lease taken over)"
            _log(conn, key, owner, now, f"claimed{how}")
            return ClaimResult.ACQUIRED

    def claim_next(self, owner: str, lease_seconds: float, *, limit: int = 1) -> list[NoticeRecord]:
        """Claim up to ``limit`` notices nobody holds: listed but never claimed, released, or whose lease expired.

        For workers that pull their work from the ledger. On PostgreSQL the candidates are locked with ``FOR UPDATE
        SKIP LOCKED``: workers asking at the same moment get different notices without waiting for each other.
        FAILED notices are left to the next run's :meth:`claim` (a worker loop would otherwise retry them at once),
        and a dead holder's unexpired lease is taken over only by :meth:`claim` of that notice.
        """
        with self._write() as conn:
            now = self._now(conn)
            candidates = conn.execute(claimable(limit), {"now": now}).mappings().all()
            keys = []
            for row in candidates:
                key = NoticeKey.from_row(row["file_id"], row["md5"])
                _take(conn, key, row, owner, now + lease_seconds, now)
                taken_over = row["owner"] not in (None, owner)
                _log(conn, key, owner, now, "claimed (expired lease taken over)" if taken_over else "claimed (next)")
                keys.append(key)
            return [_record(conn.execute(RECORD_BY_KEY, _key(key)).mappings().one()) for key in keys]

    def add_listed(self, key: NoticeKey, *, file_name: str = "") -> bool:
        """Record a notice as LISTED (no lease) unless the ledger knows it already; True when it was new."""
        with self._write() as conn:
            now = self._now(conn)
            added = conn.execute(insert_new(conn.dialect.name), dict(
                file_id=key.file_id, md5=key.row_md5, file_name=file_name, stage=Stage.LISTED.value, created_at=now,
                updated_at=now,
            )).first()
            if added is not None:
                _log(conn, key, None, now, "listed")
            return added is not None

    def renew(self, key: NoticeKey, owner: str, lease_seconds: float) -> None:
        with self._write() as conn:
            _row, now = self._fenced(conn, key, owner)
            conn.execute(UPDATE_ROW, {**_key(key), "lease_expires": now + lease_seconds})

    def extend(self, key: NoticeKey, owner: str, lease_seconds: float) -> bool:
        """Renew ``owner``'s lease even if it ran out, unless another run took the notice or it was finished.

        For a run that reads every notice before filing any (most urgent first): nobody wrote meanwhile, so a lease
        that expired while the notice waited is safe to renew. False: another run has it now; leave it alone.
        """
        with self._write() as conn:
            row = conn.execute(LOCK_ROW, _key(key)).mappings().first()
            if row is None or row["owner"] != owner or row["outcome"] is not None:
                return False
            conn.execute(UPDATE_ROW, {**_key(key), "lease_expires": self._now(conn) + lease_seconds})
            return True

    def release(self, key: NoticeKey, owner: str) -> None:
        """Give the lease back without finishing (e.g. a dry run). A no-op when ``owner`` does not hold it."""
        with self._write() as conn:
            conn.execute(RELEASE, {**_key(key), "k_owner": owner, "owner": None, "lease_expires": None})

    def _fenced(self, conn: Connection, key: NoticeKey, owner: str) -> tuple[RowMapping, float]:
        """Fencing: lock the row, then refuse writes from an owner whose lease expired or was taken over."""
        row = conn.execute(LOCK_ROW, _key(key)).mappings().first()
        now = self._now(conn)
        if row is None:
            raise LeaseLostError(f"notice {key} was never claimed", reason="not_claimed")
        if row["owner"] != owner or (row["lease_expires"] or 0) <= now:
            raise LeaseLostError(f"lease on notice {key} is no longer held by this run", reason="lease_lost")
        return row, now

    # -- progress ---------------------------------------------------------------------------------------------

    def claim_identity(self, key: NoticeKey, kind: str, value: str, *, drive: str = "",
                       file_name: str = "") -> IdentityHolder | None:
        """Claim one identity of the notice (mailroom.ledger_identity); the notice that owns it already, or None."""
        with self._write() as conn:
            return claim_identity(conn, key, kind, value, drive=drive, file_name=file_name, now=self._now(conn))

    def finish(self, key: NoticeKey, owner: str, outcome: Outcome, *, reason: str = "") -> None:
        """Record the notice's outcome and release the lease, in one transaction.

        MATCHED requires the document and the task to be confirmed: the ledger refuses to call a notice filed when
        it is not. ``reason`` must be report-safe (classified, no taxpayer data).
        """
        with self._write() as conn:
            row, now = self._fenced(conn, key, owner)
            if outcome is Outcome.MATCHED and (row["document_id"] is None or row["task_id"] is None):
                raise MailroomError(
                    f"notice {key} cannot be MATCHED before its document and task are confirmed",
                    reason="effects_unconfirmed",
                )
            moved = outcome in (Outcome.MATCHED, Outcome.UNMATCHED)
            conn.execute(UPDATE_ROW, {
                **_key(key), **(_advanced(row, Stage.DONE) if outcome is Outcome.MATCHED else {}),
                "outcome": outcome.value, "reason": reason, "moved": 1 if moved else row["moved"], "owner": None,
                "lease_expires": None, "updated_at": now,
                # Finishing leaves any review batch; PENDING_REVIEW waits unbatched for the next review run.
                "review_id": None, "review_run_id": None, "review_since": None,
            })
            _log(conn, key, owner, now, f"finished {outcome.value}")


# -- small pieces used by the methods above (those shared with the journal: mailroom.ledger_effects) --------------


def _holder(owner: str, lease_expires: float, now: float) -> dict[str, Any]:
    return dict(owner=owner, lease_expires=lease_expires, holder_host=_HOST, holder_pid=os.getpid(), updated_at=now)


def _take(conn: Connection, key: NoticeKey, row: RowMapping, owner: str, lease_expires: float, now: float, *,
          drive: str | None = None) -> None:
    """Give the (locked) notice to ``owner``; a LISTED notice becomes CLAIMED, later stages stay."""
    stage = Stage.CLAIMED.value if row["stage"] == Stage.LISTED.value else row["stage"]
    conn.execute(UPDATE_ROW, {**_key(key), **_holder(owner, lease_expires, now), "outcome": None, "stage": stage,
                              "runs": int(row["runs"]) + 1, **({"drive": drive} if drive else {})})
