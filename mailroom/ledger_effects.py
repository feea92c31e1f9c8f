"""The effect journal: the ledger rows that make each Logiqs upload and task exactly-once.

Before a notice's document is POSTed (or its task created) the run writes and commits its intent: an attempt
counter and the case, for an upload also the SHA-256 of its bytes (``begin_document`` / ``begin_task``). Once
Logiqs confirms, the id is recorded (``record_document`` / ``record_task``). A crash between "request sent" and "id
recorded" therefore leaves an attempt with no id: the next run sees it, looks for the effect's marker in Logiqs, and
records what it finds instead of filing twice (mailroom.effects, docs/exactly-once.md). ``record_stage`` and
``record_target`` journal the other progress a rerun resumes from: how far the notice got, and which Drive folder
the file belongs in.

Split from mailroom.ledger (which re-exports every public name) to keep each module readable; ``Ledger`` inherits
these methods from :class:`EffectJournal`. The small row helpers at the bottom are shared with mailroom.ledger,
which imports them from here (never the other way round).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from mailroom.errors import ErrorClass, MailroomError
from mailroom.ledger_records import NoticeKey, Stage
from mailroom.ledger_schema import LOCK_ROW, LOG, UPDATE_ROW


class EffectJournal:
    """Mixed into ``mailroom.ledger.Ledger``, which provides the transactions, the fencing and the clock."""

    _write: Callable[[], AbstractContextManager[Connection]]
    _fenced: Callable[[Connection, NoticeKey, str], tuple[RowMapping, float]]
    _now: Callable[[Connection], float]

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
        with self._write() as conn:
            row, now = self._fenced(conn, key, owner)
            if case_id is not None and row["document_id"] is not None and row["case_id"] != case_id:
                # The document is already filed on another case: never split a notice across two cases.
                raise MailroomError(
                    f"notice {key} already has a document on case {row['case_id']}",
                    error_class=ErrorClass.PERMANENT, reason="case_changed_after_upload",
                )
            changes = {**_advanced(row, stage), **_touched(now, lease_seconds)}
            if case_id is not None:
                changes["case_id"] = case_id
            conn.execute(UPDATE_ROW, {**_key(key), **changes})
            _log(conn, key, owner, now, f"stage {stage.value}")

    def begin_document(self, key: NoticeKey, owner: str, case_id: int, *, lease_seconds: float | None = None,
                       sha256: str | None = None) -> int:
        """Write-ahead intent for an upload, committed *before* the POST, with the SHA-256 of the bytes it carries.
        Returns the attempt number."""
        return self._begin(key, owner, "document", case_id, lease_seconds, {"document_sha256": sha256} if sha256 else {})

    def begin_task(self, key: NoticeKey, owner: str, case_id: int, *, lease_seconds: float | None = None) -> int:
        return self._begin(key, owner, "task", case_id, lease_seconds)

    def _begin(self, key: NoticeKey, owner: str, effect: str, case_id: int, lease_seconds: float | None,
               extra: dict[str, Any] | None = None) -> int:
        with self._write() as conn:
            row, now = self._fenced(conn, key, owner)
            if row[f"{effect}_id"] is not None:
                raise MailroomError(f"{effect} for notice {key} is already recorded", reason="effect_already_done")
            attempt = int(row[f"{effect}_attempts"]) + 1  # the row is locked: nobody else moves the counter meanwhile
            conn.execute(UPDATE_ROW, {**_key(key), f"{effect}_attempts": attempt, "case_id": case_id,
                                      **_touched(now, lease_seconds), **(extra or {})})
            _log(conn, key, owner, now, f"{effect} attempt {attempt}")
            return attempt

    def record_document(self, key: NoticeKey, owner: str, document_id: int, *, found_by_marker: bool = False) -> None:
        self._record_effect(key, owner, "document", document_id, Stage.DOCUMENT_UPLOADED, found_by_marker)

    def record_task(self, key: NoticeKey, owner: str, task_id: int, *, found_by_marker: bool = False) -> None:
        self._record_effect(key, owner, "task", task_id, Stage.TASK_CREATED, found_by_marker)

    def _record_effect(
        self, key: NoticeKey, owner: str, effect: str, effect_id: int, stage: Stage, found_by_marker: bool
    ) -> None:
        # No lease check here on purpose: the effect exists in Logiqs whoever asked for it, and forgetting a
        # confirmed id is exactly how duplicates happen. Under the row lock, the first id recorded is kept if two
        # writers ever race.
        with self._write() as conn:
            row = conn.execute(LOCK_ROW, _key(key)).mappings().first()
            now = self._now(conn)
            if row is not None:
                changes: dict[str, Any] = {"updated_at": now, **_advanced(row, stage)}
                if row[f"{effect}_id"] is None:
                    changes[f"{effect}_id"] = effect_id
                conn.execute(UPDATE_ROW, {**_key(key), **changes})
            how = " (found by marker)" if found_by_marker else ""
            _log(conn, key, owner, now, f"{effect} {effect_id} confirmed{how}")

    def record_target(self, key: NoticeKey, owner: str, folder_id: str, *, reason: str = "",
                      lease_seconds: float | None = None) -> None:
        """Remember which Drive folder the file belongs in, and why, before moving it (a rerun, or reconciliation
        after a kill between the move and ``finish``, knows both)."""
        with self._write() as conn:
            _row, now = self._fenced(conn, key, owner)
            why = {"reason": reason} if reason else {}
            conn.execute(UPDATE_ROW, {**_key(key), "target_folder_id": folder_id, **why,
                                      **_touched(now, lease_seconds)})


# -- small pieces shared with mailroom.ledger ---------------------------------------------------------------------


def _key(key: NoticeKey) -> dict[str, str]:
    return {"k_file_id": key.file_id, "k_md5": key.row_md5}  # a later letter: "<md5>:p<n>" (NoticeKey)


def _advanced(row: RowMapping, stage: Stage) -> dict[str, str]:
    """The stage change, if it is a step forward (the row is locked, so no race can move it back)."""
    return {"stage": stage.value} if Stage(row["stage"]).rank < stage.rank else {}


def _touched(now: float, lease_seconds: float | None) -> dict[str, float]:
    return {"updated_at": now} if lease_seconds is None else {"updated_at": now, "lease_expires": now + lease_seconds}


def _log(conn: Connection, key: NoticeKey, owner: str | None, now: float, event: str) -> None:
    conn.execute(LOG, dict(file_id=key.file_id, md5=key.row_md5, at=now, owner=owner, event=event))
