"""The ledger across real OS processes: racing claims, and transactions cut short by SIGKILL, on both backends
(an SQLite file shared by the processes of one machine; a PostgreSQL database shared by every worker)."""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import sqlite3
import time
from typing import TYPE_CHECKING, Any

from mailroom.ledger import Ledger, NoticeKey, Outcome

if TYPE_CHECKING:  # not at run time: every spawned worker imports this module, and conftest imports the sandbox
    from tests.conftest import LedgerTarget

NOTICES = 600


def _keys() -> list[NoticeKey]:
    return [NoticeKey(file_id=f"file-{i:04d}", md5=f"{i:032x}") for i in range(NOTICES)]


def _race_for_claims(url: str, owner: str, start: Any, done: Any, out: Any) -> None:
    ledger = Ledger.from_url(url)
    keys = _keys()
    random.Random(owner).shuffle(keys)  # different orders so the workers really collide
    start.wait(timeout=60)  # all workers imported and connected: release them together
    won = []
    for key in keys:
        if ledger.claim(key, owner, lease_seconds=600):
            won.append(key.file_id)
        # A real run works between claims. Without this pause the busy-waiting losers (SQLite's busy handler
        # sleeps) never get the lock back from a tight loop and the test would not be a race at all.
        time.sleep(0.001)
    out.put((owner, won))
    # Stay alive until every worker is done: a finished process's leases count as a dead holder's (taken over at once).
    done.wait(timeout=60)


def test_concurrent_processes_never_claim_the_same_notice(ledger_target: LedgerTarget) -> None:
    ledger = ledger_target.open()  # create the schema once, as the first run would
    ctx = mp.get_context("spawn")
    start, done, out = ctx.Barrier(3), ctx.Barrier(3), ctx.Queue()
    workers = [ctx.Process(target=_race_for_claims, args=(ledger_target.url, f"run-{n}", start, done, out))
               for n in range(3)]
    for worker in workers:
        worker.start()
    results = dict(out.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    claimed = [file_id for won in results.values() for file_id in won]
    assert sorted(claimed) == sorted(key.file_id for key in _keys())  # every notice once, none twice
    owners = {record.key.file_id: record.owner for record in ledger.records()}
    for owner, won in results.items():
        assert all(owners[file_id] == owner for file_id in won)
    assert sum(1 for won in results.values() if won) >= 2, "the race never happened: one worker took everything"


def _pull_work(url: str, owner: str, start: Any, done: Any, out: Any) -> None:
    """A scale-out worker: take whatever notices nobody holds, a few at a time, until none is left."""
    ledger = Ledger.from_url(url)
    start.wait(timeout=60)
    won: list[str] = []
    while batch := ledger.claim_next(owner, lease_seconds=600, limit=3):
        won += [record.key.file_id for record in batch]
        time.sleep(0.001)  # the work between two pulls (see _race_for_claims)
    out.put((owner, won))
    done.wait(timeout=60)


def test_workers_pulling_with_claim_next_share_the_notices_without_overlap(ledger_target: LedgerTarget) -> None:
    ledger = ledger_target.open()
    for key in _keys()[:300]:
        assert ledger.add_listed(key, file_name=f"{key.file_id}.pdf")
    ctx = mp.get_context("spawn")
    start, done, out = ctx.Barrier(3), ctx.Barrier(3), ctx.Queue()
    workers = [ctx.Process(target=_pull_work, args=(ledger_target.url, f"worker-{n}", start, done, out))
               for n in range(3)]
    for worker in workers:
        worker.start()
    results = dict(out.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    claimed = [file_id for won in results.values() for file_id in won]
    assert sorted(claimed) == sorted(key.file_id for key in _keys()[:300])  # every notice once, none twice
    records = {record.key.file_id: record for record in ledger.records()}
    for owner, won in results.items():
        assert all(records[file_id].owner == owner and records[file_id].runs == 1 for file_id in won)
    assert sum(1 for won in results.values() if won) >= 2, "the race never happened: one worker took everything"


def _churn(url: str, ready: Any) -> None:
    """Push notices through the full effect sequence as fast as possible until killed."""
    ledger = Ledger.from_url(url)
    ready.set()
    n = 0
    while True:
        key = NoticeKey(file_id=f"churn-{os.getpid()}-{n}", md5=f"{n:032x}")
        ledger.claim(key, "churner", 600)
        ledger.begin_document(key, "churner", case_id=n)
        ledger.record_document(key, "churner", 10_000 + n)
        ledger.begin_task(key, "churner", case_id=n)
        ledger.record_task(key, "churner", 20_000 + n)
        ledger.record_target(key, "churner", "matched")
        ledger.finish(key, "churner", Outcome.MATCHED)
        n += 1


def test_sigkill_mid_transaction_leaves_every_row_consistent(ledger_target: LedgerTarget) -> None:
    ledger = ledger_target.open()
    ctx = mp.get_context("spawn")
    rng = random.Random(6)
    for _ in range(4):
        ready = ctx.Event()
        proc = ctx.Process(target=_churn, args=(ledger_target.url, ready))
        proc.start()
        assert ready.wait(timeout=60)
        # Kill at a random point once it has done some work (time-based kills proved nothing on a loaded machine).
        target = len(ledger.records()) + rng.randint(5, 15)
        deadline = time.monotonic() + 60
        while len(ledger.records()) < target and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.004))
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=30)
        assert proc.exitcode == -signal.SIGKILL

    if ledger_target.backend == "sqlite":
        db = sqlite3.connect(ledger.path)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = ledger.records()
    assert len(rows) > 20, "the churner barely ran: the kill test proved nothing"
    history = {record.key.file_id: ledger.history(record.key) for record in rows}
    for record in rows:
        events = history[record.key.file_id]
        # Each write and its audit line commit together or not at all: counters and history always agree.
        assert record.document_attempts == sum(e.startswith("document attempt") for e in events)
        assert record.task_attempts == sum(e.startswith("task attempt") for e in events)
        assert (record.document_id is not None) == any(e.startswith("document 1") for e in events)
        assert (record.task_id is not None) == any(e.startswith("task 2") for e in events)
        if record.outcome is Outcome.MATCHED:
            assert record.document_id and record.task_id and record.moved and record.owner is None
        else:
            assert record.owner == "churner"  # the killed run still holds it: its lease must expire first
    assert sum(r.outcome is None for r in rows) <= 4  # at most one half-done notice per kill


def _claim_and_hold(url: str, release_me: Any, claimed: Any) -> None:
    Ledger.from_url(url).claim(NoticeKey(file_id="held", md5="0" * 32), "run-crashing", lease_seconds=600)
    claimed.set()
    release_me.wait(timeout=60)  # "working"; killed by the test instead


def test_a_dead_holders_lease_is_taken_over_without_waiting_for_expiry(ledger_target: LedgerTarget) -> None:
    ledger = ledger_target.open()
    key = NoticeKey(file_id="held", md5="0" * 32)
    ctx = mp.get_context("spawn")
    release_me, claimed = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_claim_and_hold, args=(ledger_target.url, release_me, claimed))
    holder.start()
    assert claimed.wait(timeout=60)
    assert not ledger.claim(key, "run-next", 600)  # alive, lease valid: BUSY
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(timeout=30)
    assert ledger.claim(key, "run-next", 600)  # 600 s lease left, but its holder is gone
    assert ledger.history(key)[-1] == "claimed (dead holder's lease taken over)"
