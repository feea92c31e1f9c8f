"""Claiming a notice's identities in the ledger: who owns a letter when two Drive files are the same letter.

``Ledger.claim_identity`` runs ``claim`` in one write transaction. The first notice to insert an identity owns it
(``INSERT ... ON CONFLICT DO NOTHING``: on PostgreSQL a second inserter waits for the first to commit, then finds
its row), so two runs, or two threads, meeting copies of one letter at the same moment never both proceed. An owner
keeps its identities while it is in progress, FAILED (it will be retried) or MATCHED; an owner that ended UNMATCHED
gives them up to the next claimant (see mailroom.duplicates).
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, bindparam, select

from mailroom.ledger_records import NoticeKey, Outcome
from mailroom.ledger_schema import RECORD_BY_KEY, identities

_IDENTITY = (identities.c.drive == bindparam("i_drive"), identities.c.kind == bindparam("i_kind"),
             identities.c.value == bindparam("i_value"))
LOCK_IDENTITY = select(identities).where(*_IDENTITY).with_for_update()
HAND_OVER = identities.update().where(*_IDENTITY)


class IdentityHolder(BaseModel, frozen=True):
    """The notice that owns an identity (report-safe: ids and the Drive file name the report shows anyway)."""

    key: NoticeKey
    file_name: str = ""


@cache
def _insert(dialect: str) -> Any:
    insert = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
    return insert(identities).on_conflict_do_nothing(
        index_elements=["drive", "kind", "value"]).returning(identities.c.file_id)


def claim(conn: Connection, key: NoticeKey, kind: str, value: str, *, drive: str, file_name: str,
          now: float) -> IdentityHolder | None:
    """None when ``key`` owns the identity now (first, again, or handed over); else the notice that owns it."""
    where = {"i_drive": drive, "i_kind": kind, "i_value": value}
    mine = {"file_id": key.file_id, "md5": key.md5, "file_name": file_name, "claimed_at": now}
    if conn.execute(_insert(conn.dialect.name), {"drive": drive, "kind": kind, "value": value, **mine}).first():
        return None
    owner = conn.execute(LOCK_IDENTITY, where).mappings().one()
    if (owner["file_id"], owner["md5"]) == (key.file_id, key.md5):
        return None
    record = conn.execute(RECORD_BY_KEY, {"k_file_id": owner["file_id"], "k_md5": owner["md5"]}).mappings().first()
    if record is None or record["outcome"] == Outcome.UNMATCHED.value:  # set aside for a person: it gives way
        conn.execute(HAND_OVER, {**where, **mine})
        return None
    return IdentityHolder(key=NoticeKey(file_id=owner["file_id"], md5=owner["md5"]), file_name=owner["file_name"])
