"""The ledger's schema versions and migrations, and how the settings pick a backend (SQLite file or PostgreSQL)."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import Column, Text, inspect, select

from mailroom.errors import ConfigurationError
from mailroom.ledger import Ledger, NoticeKey, Outcome, default_ledger_path, open_ledger
from mailroom.ledger_schema import DOCUMENT_HASH, MIGRATIONS, Migration, add_columns, migrate, schema_versions
from mailroom.pipeline_settings import PipelineSettings

KEY = NoticeKey(file_id="f-1", md5="0123456789abcdef0123456789abcdef")
LATEST = MIGRATIONS[-1].version

# The file format before schema versions (and before the lease holder's host/pid were recorded).
VERSION_0_SCHEMA = """
CREATE TABLE notices (
    file_id TEXT NOT NULL, md5 TEXT NOT NULL, file_name TEXT NOT NULL DEFAULT '', stage TEXT NOT NULL, outcome TEXT,
    reason TEXT NOT NULL DEFAULT '', case_id INTEGER, document_id INTEGER, task_id INTEGER,
    document_attempts INTEGER NOT NULL DEFAULT 0, task_attempts INTEGER NOT NULL DEFAULT 0, target_folder_id TEXT,
    moved INTEGER NOT NULL DEFAULT 0, runs INTEGER NOT NULL DEFAULT 0, owner TEXT, lease_expires REAL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (file_id, md5)
);
CREATE TABLE transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, file_id TEXT NOT NULL, md5 TEXT NOT NULL, at REAL NOT NULL, owner TEXT,
    event TEXT NOT NULL
);
CREATE INDEX transitions_by_key ON transitions (file_id, md5);
INSERT INTO notices (file_id, md5, stage, outcome, document_id, task_id, moved, runs, created_at, updated_at)
    VALUES ('f-1', '0123456789abcdef0123456789abcdef', 'DONE', 'MATCHED', 501, 77, 1, 1, 1.0, 2.0);
INSERT INTO transitions (file_id, md5, at, owner, event)
    VALUES ('f-1', '0123456789abcdef0123456789abcdef', 2.0, 'run-a', 'finished MATCHED');
"""


def _versions(ledger: Ledger) -> list[int]:
    with ledger._engine().connect() as conn:
        return list(conn.scalars(select(schema_versions.c.version).order_by(schema_versions.c.version)))


def test_a_new_ledger_is_created_at_the_latest_version_and_reopening_changes_nothing(ledger_target) -> None:
    ledger = ledger_target.open()
    assert ledger.schema_version == ledger.current_schema_version() == LATEST
    assert _versions(ledger) == [m.version for m in MIGRATIONS]
    assert ledger_target.open().schema_version == LATEST
    assert _versions(ledger) == [m.version for m in MIGRATIONS]


def test_a_ledger_file_from_before_versions_is_migrated_in_place(tmp_path) -> None:
    path = tmp_path / "ledger.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(VERSION_0_SCHEMA)
    ledger = Ledger(path)
    assert ledger.schema_version == LATEST and _versions(ledger) == [m.version for m in MIGRATIONS]
    record = ledger.get(KEY)
    assert record is not None and record.outcome is Outcome.MATCHED and record.document_id == 501
    assert ledger.history(KEY) == ["finished MATCHED"]
    with ledger._engine().connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("notices")}
        indexes = {i["name"] for i in inspect(conn).get_indexes("notices")}
    assert {"holder_host", "holder_pid"} <= columns and "notices_open" in indexes
    other = NoticeKey(file_id="f-2", md5="f" * 32)
    assert ledger.claim(other, "run-b", 60) and ledger.get(other).owner == "run-b"  # type: ignore[union-attr]


def test_a_ledger_from_before_the_document_hash_step_gains_the_column_and_records_each_upload_attempt(tmp_path) -> None:
    from sqlalchemy import create_engine

    path = tmp_path / "ledger.sqlite"
    earlier = tuple(m for m in MIGRATIONS if m.version < DOCUMENT_HASH.version)  # by number: it may be renumbered
    with sqlite3.connect(path) as db:
        db.executescript(VERSION_0_SCHEMA)
    with create_engine(f"sqlite:///{path}").begin() as conn:
        assert migrate(conn, earlier) == earlier[-1].version  # the file as the step before left it
        assert "document_sha256" not in {c["name"] for c in inspect(conn).get_columns("notices")}
    ledger = Ledger(path)
    other = NoticeKey(file_id="f-2", md5="e" * 32)

    assert ledger.schema_version == LATEST >= DOCUMENT_HASH.version and ledger.get(KEY).document_sha256 is None
    assert ledger.claim(other, "run-b", 60)
    ledger.begin_document(other, "run-b", 7, sha256="ab" * 32)
    assert (ledger.get(other).document_sha256, ledger.get(other).document_attempts) == ("ab" * 32, 1)


def test_the_document_hash_step_is_harmless_where_the_column_exists(tmp_path) -> None:
    """Renumbered at landing, the step may meet a database that ran it under another number: nothing to add."""
    from sqlalchemy import create_engine

    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.claim(KEY, "run-a", 60)
    ledger.begin_document(KEY, "run-a", 7, sha256="cd" * 32)
    with create_engine(f"sqlite:///{tmp_path / 'ledger.sqlite'}").begin() as conn:
        DOCUMENT_HASH.apply(conn)
        names = [c["name"] for c in inspect(conn).get_columns("notices")]
    assert names.count("document_sha256") == 1 and ledger.get(KEY).document_sha256 == "cd" * 32


def test_a_later_step_is_applied_once_and_recorded(ledger_target) -> None:
    """What issue 12/13 will do: append a step that adds a column; every worker's next open applies it once."""
    ledger = ledger_target.open()
    ledger.claim(KEY, "run-a", 60)
    step = Migration(LATEST + 1, "notices.drive_account (test)", add_columns("notices", Column("drive_account", Text)))
    for _ in range(2):
        with ledger._engine().begin() as conn:
            assert migrate(conn, (*MIGRATIONS, step)) == LATEST + 1
    assert _versions(ledger) == [*(m.version for m in MIGRATIONS), LATEST + 1]
    with ledger._engine().connect() as conn:
        assert "drive_account" in {c["name"] for c in inspect(conn).get_columns("notices")}
    assert ledger.get(KEY).owner == "run-a"  # type: ignore[union-attr]  # rows and the API are untouched


def test_steps_must_be_in_order(ledger_target) -> None:
    ledger = ledger_target.open()
    backwards = (MIGRATIONS[-1], MIGRATIONS[0])
    with pytest.raises(ValueError, match="ascending"), ledger._engine().begin() as conn:
        migrate(conn, backwards)


def test_workers_opening_a_new_database_together_create_it_once(postgres_url: str) -> None:
    start = threading.Barrier(4, timeout=60)
    opened: list[object] = []

    def open_one() -> None:
        start.wait()
        try:
            opened.append(Ledger.from_url(postgres_url).schema_version)
        except Exception as exc:  # noqa: BLE001 - reported below
            opened.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert opened == [LATEST] * 4
    assert _versions(Ledger.from_url(postgres_url)) == [m.version for m in MIGRATIONS]


# -- choosing the backend ---------------------------------------------------------------------------------------


def test_settings_without_a_url_keep_the_sqlite_file_in_the_state_dir(tmp_path) -> None:
    settings = PipelineSettings(state_dir=str(tmp_path / "state"))
    ledger = open_ledger(settings.ledger_url, settings.state_dir)
    assert ledger.backend == "sqlite" and ledger.path == default_ledger_path(tmp_path / "state")


def test_a_postgresql_url_in_the_settings_is_a_secret_and_opens_the_shared_ledger(postgres_url: str) -> None:
    with_password = postgres_url.replace("mailroom@", "mailroom:s3cret-pw@")  # trust auth: the password is unused
    settings = PipelineSettings(ledger_url=with_password)
    assert "s3cret-pw" not in repr(settings) and "s3cret-pw" not in settings.model_dump_json()
    ledger = open_ledger(settings.ledger_url, settings.state_dir)
    assert ledger.backend == "postgresql" and ledger.path is None
    assert "s3cret-pw" not in repr(ledger) and "s3cret-pw" not in ledger.url
    assert ledger.claim(KEY, "run-a", 60)


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url", "sqlite://", "postgresql+asyncpg://u@h/db"])
def test_an_unsupported_ledger_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError):
        open_ledger(url)


def test_a_sqlite_url_is_the_same_file_as_the_path(tmp_path) -> None:
    path = tmp_path / "ledger.sqlite"
    Ledger(path).claim(KEY, "run-a", 60)
    assert Ledger.from_url(f"sqlite:///{path}").get(KEY).owner == "run-a"  # type: ignore[union-attr]


def test_missing_server_binaries_are_named_with_the_fix(monkeypatch) -> None:
    """What the ``postgres`` fixture fails with on a machine without PostgreSQL (CI installs it; never a skip)."""
    from tests import pg

    monkeypatch.setattr(pg.shutil, "which", lambda _name: None)
    monkeypatch.setattr(pg.glob, "glob", lambda _pattern: [])
    with pytest.raises(pg.PostgresUnavailable, match="scripts/install.sh.*MAILROOM_SKIP_POSTGRES=1"):
        pg.find_server_bin()
