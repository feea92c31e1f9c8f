"""Identities in the ledger (who owns a letter) and the Drive binding, on SQLite and PostgreSQL; on PostgreSQL also
the race of two workers claiming one letter at the same moment, forced with the clock hook of test_ledger_locking."""

from __future__ import annotations

import threading

from mailroom.ledger import ClaimResult, Ledger, NoticeKey, Outcome
from tests.unit.test_ledger_locking import WAIT, HookClock, _in_thread

A = NoticeKey(file_id="file-a", md5="a" * 32)
B = NoticeKey(file_id="file-b", md5="b" * 32)
C = NoticeKey(file_id="file-c", md5="c" * 32)
DRIVE = "robot@x/root@2025-01-01T00:00:00+00:00"


def test_the_first_notice_owns_an_identity_and_the_others_learn_who(ledger_target):
    ledger = ledger_target.open()
    for key in (A, B):
        assert ledger.claim(key, "run-1", 60.0, drive=DRIVE)
    assert ledger.claim_identity(A, "letter", "h1", drive=DRIVE, file_name="a.pdf") is None
    assert ledger.claim_identity(A, "letter", "h1", drive=DRIVE, file_name="a.pdf") is None  # again: still A's

    holder = ledger.claim_identity(B, "letter", "h1", drive=DRIVE, file_name="b.pdf")
    assert holder is not None and (holder.key, holder.file_name) == (A, "a.pdf")
    assert ledger.claim_identity(B, "letter", "h1", drive="another drive") is None  # identities are per Drive
    assert ledger.claim_identity(B, "content", "h1", drive=DRIVE) is None  # and per kind


def test_an_owner_keeps_its_identity_while_failed_or_matched_and_gives_it_up_when_unmatched(ledger_target):
    ledger = ledger_target.open()
    for key in (A, B, C):
        assert ledger.claim(key, "run-1", 60.0)
    assert ledger.claim_identity(A, "letter", "h1") is None

    ledger.finish(A, "run-1", Outcome.FAILED, reason="upload: 503")
    assert ledger.claim_identity(B, "letter", "h1").key == A  # FAILED: A is retried, the letter is still A's

    assert ledger.claim(A, "run-2", 60.0)
    ledger.finish(A, "run-2", Outcome.UNMATCHED, reason="NO_MATCH: no case")
    assert ledger.claim_identity(B, "letter", "h1") is None  # set aside for a person: B may file the letter now
    assert ledger.claim_identity(C, "letter", "h1").key == B


def test_a_row_of_another_drive_is_forgotten_and_an_unbound_one_adopted(ledger_target):
    ledger = ledger_target.open()
    assert ledger.claim(A, "run-1", 60.0)  # unbound (before rows were bound)
    ledger.finish(A, "run-1", Outcome.UNMATCHED)
    assert ledger.claim(A, "run-2", 60.0, drive=DRIVE) is ClaimResult.FINISHED  # adopted: still done

    assert ledger.claim(B, "run-1", 60.0, drive=DRIVE)
    ledger.finish(B, "run-1", Outcome.UNMATCHED)
    assert ledger.claim(B, "run-2", 60.0, drive="re-created drive") is ClaimResult.ACQUIRED
    record = ledger.get(B)
    assert (record.drive, record.outcome, record.runs) == ("re-created drive", None, 1)


def test_two_workers_claiming_one_letter_at_once_get_one_owner(postgres_url):
    """Both transactions are open and past their look before either inserts: the unique key decides, once."""
    both_ready = threading.Barrier(2, timeout=WAIT)
    setup = Ledger.from_url(postgres_url)
    for key in (A, B):
        assert setup.claim(key, "run", 60.0)
    clocks = [HookClock(1000.0), HookClock(1000.0)]
    ledgers = [Ledger.from_url(postgres_url, clock=clock) for clock in clocks]
    for clock in clocks:
        clock.hook = both_ready.wait
    runs = [_in_thread(lambda n=n, key=key: ledgers[n].claim_identity(key, "letter", "h1"))
            for n, key in enumerate((A, B))]
    for thread, _ in runs:
        thread.join(WAIT)
    results = [result.get("value", result.get("error")) for _, result in runs]

    assert sum(r is None for r in results) == 1, results  # exactly one owner ...
    loser = next(r for r in results if r is not None)
    owner = A if results[0] is None else B
    assert loser.key == owner  # ... and the other one is told who it is
