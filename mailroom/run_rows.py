"""Report rows of a fanned-out run, handed from its batch flow runs (any worker, any machine) to the run that reports.

When the daily run spreads its notices over the work pool, each batch flow run writes the rows of the notices it
processed here, under the parent run's id; the parent reads them back, in order and a page at a time, to write the
one report and the UI tables, then deletes them. The table lives in the ledger's database (``ledger_url``, or the
SQLite file in ``state_dir``), the one place every worker already shares.

Why not Prefect results: a flow run's return value crosses machines only through result storage that every worker
and the parent share, and it would be written there; rows carry file names and document names (a taxpayer's last
name). Rows here are report rows: identifiers and masked values only (``ReportRow`` refuses a full SSN), the same
content as the report file, kept only until the report is written.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import Column, Double, Engine, Index, Integer, MetaData, Table, Text, delete, func, select

from mailroom.ledger import default_ledger_path
from mailroom.ledger_engine import READ_ONLY, parse_url, postgresql_engine, sqlite_engine, unavailable_is_transient
from mailroom.report import ReportRow

_metadata = MetaData()
run_rows = Table(
    "run_rows",
    _metadata,
    Column("run_id", Text, primary_key=True),
    Column("file_id", Text, primary_key=True),
    Column("batch", Integer, nullable=False),
    Column("row", Text, nullable=False),  # ReportRow JSON
    Column("written_at", Double, nullable=False),
    Index("run_rows_by_run", "run_id", "batch", "file_id"),
)
PAGE = 500
_PG_CREATE_LOCK = 0x6D61696C726F7773  # "mailrows": serializes creating the table between workers  # rows read per query: the parent never needs every row's text in one result set


class RunRows:
    """``RunRows.open(settings.ledger_url, settings.state_dir)``; ``with`` closes its connections."""

    def __init__(self, engine: Engine) -> None:
        self._db = engine
        with unavailable_is_transient(), engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # batch runs starting together must not both CREATE the table
                conn.execute(select(func.pg_advisory_xact_lock(_PG_CREATE_LOCK)))
            _metadata.create_all(conn, checkfirst=True)

    @classmethod
    def open(cls, ledger_url: str | SecretStr | None, state_dir: str | None) -> RunRows:
        if isinstance(ledger_url, SecretStr):
            ledger_url = ledger_url.get_secret_value()
        if ledger_url:
            parsed = parse_url(ledger_url)
            if parsed.get_backend_name() == "postgresql":
                return cls(postgresql_engine(parsed, lock_timeout_seconds=30.0))
            return cls._sqlite(Path(parsed.database or ""))
        return cls._sqlite(default_ledger_path(state_dir))

    @classmethod
    def _sqlite(cls, path: Path) -> RunRows:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return cls(sqlite_engine(path, busy_timeout_seconds=30.0, synchronous="NORMAL"))

    def _read(self):  # noqa: ANN202 - a connection for reads only (SQLite: no write lock)
        return self._db.connect().execution_options(**{READ_ONLY: True})

    def add(self, run_id: str, batch: int, rows: Iterable[ReportRow]) -> int:
        """Store a batch's rows (a rerun of the batch replaces its earlier rows for the same notices)."""
        values = [dict(run_id=run_id, file_id=row.file_id, batch=batch, row=row.model_dump_json(),
                       written_at=time.time()) for row in rows]
        if not values:
            return 0
        with unavailable_is_transient(), self._db.begin() as conn:
            conn.execute(delete(run_rows).where(run_rows.c.run_id == run_id,
                                                run_rows.c.file_id.in_([v["file_id"] for v in values])))
            conn.execute(run_rows.insert(), values)
        return len(values)

    def rows(self, run_id: str) -> Iterator[ReportRow]:
        """The run's rows by batch, then file id, read a page at a time."""
        after: tuple[int, str] = (-1, "")
        while True:
            query = (select(run_rows.c.batch, run_rows.c.file_id, run_rows.c.row)
                     .where(run_rows.c.run_id == run_id,
                            (run_rows.c.batch > after[0])
                            | ((run_rows.c.batch == after[0]) & (run_rows.c.file_id > after[1])))
                     .order_by(run_rows.c.batch, run_rows.c.file_id).limit(PAGE))
            with unavailable_is_transient(), self._read() as conn:
                page = conn.execute(query).all()
            for batch, file_id, text in page:
                yield ReportRow.model_validate_json(text)
                after = (batch, file_id)
            if len(page) < PAGE:
                return

    def file_ids(self, run_id: str) -> set[str]:
        with unavailable_is_transient(), self._read() as conn:
            return set(conn.scalars(select(run_rows.c.file_id).where(run_rows.c.run_id == run_id)))

    def count(self, run_id: str) -> int:
        with unavailable_is_transient(), self._read() as conn:
            return int(conn.scalar(select(func.count()).where(run_rows.c.run_id == run_id)) or 0)

    def forget(self, run_id: str, *, older_than_seconds: float = 7 * 86400) -> None:
        """Delete this run's rows, and any a crashed run left behind more than a week ago."""
        with unavailable_is_transient(), self._db.begin() as conn:
            conn.execute(delete(run_rows).where(run_rows.c.run_id == run_id))
            conn.execute(delete(run_rows).where(run_rows.c.written_at < time.time() - older_than_seconds))

    def close(self) -> None:
        self._db.dispose()

    def __enter__(self) -> RunRows:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
