"""The ledger's tables (SQLAlchemy Core, one definition for SQLite and PostgreSQL) and its schema migrations.

Migrations are an ordered list of small steps, each applied once per database and recorded in
``ledger_schema_version``. A new database is created from the current table definitions and stamped with every
step (nothing to migrate); an existing one gets the steps newer than its recorded version, in order. A later issue
that adds a column appends one step, e.g.::

    Migration(7, "notices.review_note: what the person who reviewed the notice wrote",
              add_columns("notices", Column("review_note", Text))),

and adds the same column to the ``notices`` table below. Steps run inside one transaction that holds the
migration lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-scoped advisory lock), so workers starting
together on a new or older database migrate it exactly once; both databases have transactional DDL, so a failed
step leaves the previous version intact. No Alembic: a handful of additive steps, applied by the ledger itself on
open, need neither a second tool nor a separate deploy command.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Double,
    Index,
    Integer,
    MetaData,
    Select,
    Table,
    Text,
    bindparam,
    func,
    inspect,
    or_,
    select,
    text,
)

metadata = MetaData()

# SQLite only auto-numbers an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
_AutoId = BigInteger().with_variant(Integer(), "sqlite")

notices = Table(
    "notices",
    metadata,
    Column("file_id", Text, primary_key=True),
    Column("md5", Text, primary_key=True),
    Column("file_name", Text, nullable=False, server_default=""),
    Column("stage", Text, nullable=False),
    Column("outcome", Text),
    Column("reason", Text, nullable=False, server_default=""),
    Column("case_id", BigInteger),
    Column("document_id", BigInteger),
    Column("task_id", BigInteger),
    Column("document_attempts", Integer, nullable=False, server_default=text("0")),
    Column("task_attempts", Integer, nullable=False, server_default=text("0")),
    Column("target_folder_id", Text),
    Column("moved", Integer, nullable=False, server_default=text("0")),
    Column("runs", Integer, nullable=False, server_default=text("0")),
    Column("owner", Text),
    Column("lease_expires", Double),  # epoch seconds
    Column("holder_host", Text),
    Column("holder_pid", Integer),
    Column("review_id", Text),  # PENDING_REVIEW: the review batch holding it (mailroom.ledger_review)
    Column("review_run_id", Text),  # the review flow run asking about that batch
    Column("review_since", Double),  # when the batch was formed (epoch seconds): the review deadline counts from it
    Column("document_sha256", Text),  # the bytes each document POST carried (step DOCUMENT_HASH)
    Column("created_at", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
    # The Drive the row was written for (mailroom.drive_binding.DriveBinding.token); NULL: before rows were bound.
    Column("drive", Text),
)
# What claim_next scans: unfinished notices by lease expiry (finished rows, the vast majority, stay out of the way).
notices_open = Index("notices_open", notices.c.outcome, notices.c.lease_expires)

transitions = Table(
    "transitions",
    metadata,
    Column("id", _AutoId, primary_key=True, autoincrement=True),
    Column("file_id", Text, nullable=False),
    Column("md5", Text, nullable=False),
    Column("at", Double, nullable=False),
    Column("owner", Text),
    Column("event", Text, nullable=False),
    Index("transitions_by_key", "file_id", "md5"),
    sqlite_autoincrement=True,  # ids never reused: the audit order survives deletes
)

# Who owns each identity of a letter (mailroom.duplicates): the first notice to claim it; later ones are duplicates.
identities = Table(
    "identities",
    metadata,
    Column("drive", Text, primary_key=True),  # "" when the run was not bound to a Drive
    Column("kind", Text, primary_key=True),  # "content" (md5) or "letter" (a hash: no taxpayer data beyond last 4)
    Column("value", Text, primary_key=True),
    Column("file_id", Text, nullable=False),  # the owning notice
    Column("md5", Text, nullable=False),
    Column("file_name", Text, nullable=False, server_default=""),
    Column("claimed_at", Double, nullable=False),
)

schema_versions = Table(
    "ledger_schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("applied_at", Double, nullable=False),
)

RECORD_COLUMNS = (
    "file_id", "md5", "file_name", "stage", "outcome", "reason", "case_id", "document_id", "task_id",
    "document_attempts", "task_attempts", "target_folder_id", "moved", "runs", "owner", "lease_expires", "updated_at",
    "review_id", "review_run_id", "drive", "document_sha256",
)

# A fixed advisory-lock key: "mailroom ledger migration" (any constant; only other mailroom ledgers use it).
_PG_MIGRATION_LOCK = 0x6D61696C726F6F6D


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def add_columns(table_name: str, *columns: Column) -> Callable[[Connection], None]:
    """A step adding columns; a column already present is left alone (files from before versioning may have it)."""

    def apply(conn: Connection) -> None:
        present = {c["name"] for c in inspect(conn).get_columns(table_name)}
        for column in columns:
            if column.name not in present:
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(text(f'ALTER TABLE {table_name} ADD COLUMN "{column.name}" {kind}'))

    return apply


def create_table(table: Table) -> Callable[[Connection], None]:
    def apply(conn: Connection) -> None:
        table.create(conn, checkfirst=True)

    return apply


def create_index(index: Index) -> Callable[[Connection], None]:
    def apply(conn: Connection) -> None:
        index.create(conn, checkfirst=True)

    return apply


# Issue 11 (oversize notices). Branches in flight also number their first step 3 (i12-hostile: notices.drive,
# identities; i13a-review: review columns): whoever lands later renumbers theirs after main's last step. Every step
# is idempotent (add_columns skips a present column, create_index checks first), so a renumbered step is harmless on
# a database that already has its column.
DOCUMENT_HASH = Migration(
    5, "notices.document_sha256: the bytes each document upload carried (oversize notices are recompressed)",
    add_columns("notices", Column("document_sha256", Text)))

MIGRATIONS: tuple[Migration, ...] = (
    # Version 0 is the schema of ledger files written before this table existed (notices + transitions).
    Migration(1, "notices.holder_host/holder_pid: a dead holder's lease is taken over at once",
              add_columns("notices", Column("holder_host", Text), Column("holder_pid", Integer))),
    Migration(2, "index notices_open: claim_next finds unfinished notices without scanning finished ones",
              create_index(notices_open)),
    Migration(3, "notices.drive: the Drive a row was written for; another Drive's rows are never read as done",
              add_columns("notices", Column("drive", Text))),
    Migration(4, "identities: the content and letter identities notices claim, so a duplicate is caught before any "
                 "effect", create_table(identities)),
    DOCUMENT_HASH,
    Migration(6, "notices.review_id/review_run_id/review_since: PENDING_REVIEW notices in review batches",
              add_columns("notices", Column("review_id", Text), Column("review_run_id", Text),
                          Column("review_since", Double))),
)


def migrate(conn: Connection, steps: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the database to the newest version; returns it. ``conn`` must be in a write transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))  # released at commit/rollback
    versions = [step.version for step in steps]
    if versions != sorted(set(versions)):
        raise ValueError(f"migration versions must be unique and ascending: {versions}")
    now = time.time()
    tables = set(inspect(conn).get_table_names())
    if schema_versions.name not in tables:
        schema_versions.create(conn)
    current = conn.scalar(select(func.max(schema_versions.c.version)))
    if current is None and notices.name not in tables:
        metadata.create_all(conn, checkfirst=True)  # a new database: today's tables, nothing to migrate
        pending = list(steps)
        for step in pending:
            conn.execute(schema_versions.insert().values(
                version=step.version, description=f"{step.description} (in the created schema)", applied_at=now))
        return pending[-1].version if pending else 0
    current = current or 0
    for step in steps:
        if step.version > current:
            step.apply(conn)
            conn.execute(schema_versions.insert().values(
                version=step.version, description=step.description, applied_at=now))
            current = step.version
    return current


def schema_version(conn: Connection) -> int:
    return conn.scalar(select(func.coalesce(func.max(schema_versions.c.version), 0))) or 0


# -- the statements the ledger runs, built once (building a statement per call cost more than running it) -----------

_KEY = (notices.c.file_id == bindparam("k_file_id"), notices.c.md5 == bindparam("k_md5"))
RECORD_BY_KEY = select(*[notices.c[name] for name in RECORD_COLUMNS]).where(*_KEY)
ALL_RECORDS = select(*[notices.c[name] for name in RECORD_COLUMNS]).order_by(notices.c.file_id, notices.c.md5)
# The notice's whole row, locked until the transaction ends (PostgreSQL row lock; on SQLite, BEGIN IMMEDIATE already
# holds the database's write lock and FOR UPDATE is not rendered).
LOCK_ROW = select(notices).where(*_KEY).with_for_update()
# SET takes the columns named in the parameters: one statement serves every "change these columns of this row".
UPDATE_ROW = notices.update().where(*_KEY)
RELEASE = notices.update().where(*_KEY, notices.c.owner == bindparam("k_owner"))
FORGET = notices.delete().where(*_KEY)
LOG = transitions.insert()
HISTORY = (select(transitions.c.event)
           .where(transitions.c.file_id == bindparam("k_file_id"), transitions.c.md5 == bindparam("k_md5"))
           .order_by(transitions.c.id))


@cache
def insert_new(dialect: str) -> Any:
    """INSERT unless the notice exists, RETURNING whether it did (psycopg reports rowcount -1 for a skipped row).

    Built on first use: importing the PostgreSQL dialect costs an SQLite-only process a tenth of a second.
    """
    insert = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
    return insert(notices).on_conflict_do_nothing(index_elements=["file_id", "md5"]).returning(notices.c.file_id)


def claimable(limit: int) -> Select[Any]:
    """Unfinished notices nobody holds (never claimed, released, or lease expired at ``:now``), oldest first.

    ``SKIP LOCKED`` (PostgreSQL): rows another transaction is claiming or writing are passed over, not waited for.
    """
    return (
        select(notices.c.file_id, notices.c.md5, notices.c.owner, notices.c.stage, notices.c.runs)
        .where(notices.c.outcome.is_(None),
               or_(notices.c.owner.is_(None), notices.c.lease_expires.is_(None),
                   notices.c.lease_expires <= bindparam("now")))
        .order_by(notices.c.created_at, notices.c.file_id, notices.c.md5)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
