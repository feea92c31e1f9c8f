"""Database engines for the ledger: one SQLite file (the embedded default) or a shared PostgreSQL database.

What each backend needs to give the ledger its guarantees, kept out of mailroom.ledger:

- SQLite: WAL and ``synchronous=FULL`` (a committed write survives ``kill -9`` and power loss, readers never block
  the writer); write transactions start with ``BEGIN IMMEDIATE`` so the write lock is held from the first read
  (a read-check-write is race-free), read transactions with a plain ``BEGIN``. SQLAlchemy emits these itself; the
  sqlite3 module's own transaction handling is switched off (SQLAlchemy's documented recipe).
- PostgreSQL: ``READ COMMITTED`` pinned whatever the server's default, because every ledger write locks the one
  notice row it checks (``SELECT ... FOR UPDATE``) before changing it: the row lock, not the isolation level,
  serializes writers, and no transaction ever has to be retried for a serialization failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Double, Engine, cast, create_engine, event, extract, func, make_url, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from mailroom.errors import ConfigurationError, TransientError

READ_ONLY = "mailroom_ledger_read_only"  # execution option: this transaction only reads (SQLite: no write lock)
SYNCHRONOUS_LEVELS = ("FULL", "NORMAL", "EXTRA")


def sqlite_engine(path: Path, *, busy_timeout_seconds: float, synchronous: str) -> Engine:
    if synchronous not in SYNCHRONOUS_LEVELS:
        raise ValueError("synchronous must be FULL, NORMAL or EXTRA")
    engine = create_engine(
        URL.create("sqlite", database=str(path)),
        connect_args={"timeout": busy_timeout_seconds},
        pool_size=8, max_overflow=56,  # one per flow thread (concurrency <= 64); SQLite connections are cheap
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy, not the sqlite3 module, decides when BEGIN is sent
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

    with engine.connect() as conn:  # outside any transaction: journal_mode cannot change inside one
        conn.connection.driver_connection.execute("PRAGMA journal_mode=WAL")  # type: ignore[union-attr]
    return engine


def postgresql_engine(url: URL, *, lock_timeout_seconds: float) -> Engine:
    """A pool per process; a waiting row lock or a dead peer ends in an error (TRANSIENT), never in a hang."""
    defaults = {  # libpq parameters; the URL's own query string wins
        "connect_timeout": max(1, int(lock_timeout_seconds)),
        "application_name": "mailroom-ledger",
        "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
    }
    engine = create_engine(
        url,
        isolation_level="READ COMMITTED",
        pool_pre_ping=True,  # a worker outlives database restarts and idle-connection reaping
        pool_size=5, max_overflow=15,
        connect_args={name: value for name, value in defaults.items() if name not in url.query},
    )
    session = {
        # A row lock held longer than this belongs to a stuck transaction: give up (TRANSIENT) instead of waiting.
        "lock_timeout": f"{int(lock_timeout_seconds * 1000)}ms",
        # A client that stops mid-transaction (paused, partitioned) must not hold its notice's row for ever.
        "idle_in_transaction_session_timeout": f"{int(max(60.0, 2 * lock_timeout_seconds) * 1000)}ms",
    }

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        autocommit, dbapi_connection.autocommit = dbapi_connection.autocommit, True
        with dbapi_connection.cursor() as cursor:
            for name, value in session.items():
                cursor.execute("SELECT set_config(%s, %s, false)", (name, value))
        dbapi_connection.autocommit = autocommit

    return engine


def parse_url(url: str | URL) -> URL:
    """The URL as SQLAlchemy reads it; only SQLite files and PostgreSQL through psycopg 3 are supported."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError("ledger_url is not a database URL", reason="bad_ledger_url") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver mailroom installs
    if parsed.drivername not in ("postgresql+psycopg", "sqlite", "sqlite+pysqlite"):
        raise ConfigurationError(
            f"ledger_url scheme {parsed.drivername!r} is not supported: use postgresql+psycopg://... or sqlite:///...",
            reason="bad_ledger_url",
        )
    return parsed


def safe_url(url: URL | str) -> str:
    """The URL with its password masked: the only form that may appear in a log line or a repr."""
    return make_url(url).render_as_string(hide_password=True)


def server_now(conn: Connection) -> float:
    """PostgreSQL's wall clock at this moment: one clock for every worker, whatever their hosts' clocks say."""
    return float(conn.scalar(select(cast(extract("epoch", func.clock_timestamp()), Double))))


def fork_safe(engine: Engine, pid: int) -> int:
    """After a fork, drop (without closing) the parent's pooled connections: they belong to the parent."""
    if pid != os.getpid():
        engine.dispose(close=False)
    return os.getpid()


@contextmanager
def unavailable_is_transient() -> Iterator[None]:
    """A lost connection, a server restart or a lock wait past the timeout: TRANSIENT, so the caller may retry.

    Safe because every ledger step is re-entrant: a retried write-ahead sees its earlier attempt and looks before
    posting. The message names the error type only (driver messages can carry host names and SQL parameters).
    """
    try:
        yield
    except (OperationalError, PoolTimeoutError) as exc:
        if not _unavailable(exc):
            raise  # SQLite reports a missing table or bad SQL as OperationalError too: a bug, not an outage
        cause = type(getattr(exc, "orig", None) or exc).__name__
        raise TransientError(f"ledger database unavailable ({cause})", service="ledger",
                             reason="ledger_unavailable") from exc


def _unavailable(exc: Exception) -> bool:
    orig = getattr(exc, "orig", None)
    if isinstance(exc, PoolTimeoutError) or getattr(exc, "connection_invalidated", False):
        return True
    if type(orig).__module__.startswith("psycopg"):  # connection lost, lock/statement timeout, admin shutdown
        return True
    return any(word in str(orig) for word in ("locked", "busy", "disk I/O"))
