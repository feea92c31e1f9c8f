"""How the shared (PostgreSQL) ledger keeps its promises when workers meet on one notice, with forced interleavings.

Each ledger calls its clock exactly once per transaction, right after it locked the notice's row (or found none):
a clock that blocks is a hook that holds a transaction open at the point that matters. Whether another worker
waits for that row lock is read from PostgreSQL itself (pg_stat_activity), never guessed from elapsed time.
SQLite needs none of this: a write transaction holds the whole database (BEGIN IMMEDIATE; tests in
test_ledger_processes.py race real processes on both backends).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from mailroom.errors import TransientError
from mailroom.ledger import ClaimResult, LeaseLostError, Ledger, NoticeKey, Stage

KEY = NoticeKey(file_id="f-1", md5="0123456789abcdef0123456789abcdef")
WAIT = 60  # seconds; only ever reached when the behaviour under test is broken


class HookClock:
    """A fixed time that, while ``hook`` is set, runs the hook inside the caller's transaction."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.hook: Callable[[], None] | None = None

    def __call__(self) -> float:
        hook, self.hook = self.hook, None  # once: the next transaction runs free
        if hook is not None:
            hook()
        return self.now


def _in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = target()
        except BaseException as exc:  # noqa: BLE001 - handed to the test's assertions
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def _wait_until_someone_waits_for_a_row_lock(url: str) -> None:
    """Block until a backend of this database waits on a lock (the other worker reached the locked row)."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + WAIT
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()[0]
            if waiting:
                return
            time.sleep(0.01)
    pytest.fail("the second worker never waited for the row lock: writes are not serialized per notice")


def test_two_first_claims_of_a_new_notice_insert_it_once(postgres_url: str) -> None:
    """Both workers look, find no row (nothing to lock yet), and insert: ON CONFLICT makes one of them BUSY."""
    both_looked = threading.Barrier(2, timeout=WAIT)
    clocks = [HookClock(1000.0), HookClock(1000.0)]
    ledgers = [Ledger.from_url(postgres_url, clock=clock) for clock in clocks]
    for clock in clocks:
        clock.hook = both_looked.wait  # each waits, after its look, until the other has looked too
    runs = [_in_thread(lambda n=n: ledgers[n].claim(KEY, f"run-{n}", 60)) for n in range(2)]
    for thread, _ in runs:
        thread.join(WAIT)
    results = [result.get("value", result.get("error")) for _, result in runs]
    assert sorted(results) == [ClaimResult.ACQUIRED, ClaimResult.BUSY], results
    assert ledgers[0].history(KEY) == ["claimed (new)"]
    record = ledgers[0].get(KEY)
    assert record is not None and record.runs == 1 and record.owner == f"run-{results.index(ClaimResult.ACQUIRED)}"


def test_a_takeover_waits_for_the_old_owners_write_then_fences_it_off(postgres_url: str) -> None:
    """Run A checked its lease and is writing; run B (whose clock says A's lease expired) claims meanwhile.

    B must wait for A's row lock: A's write lands while A still held the lease, B's takeover after it, and A's
    next write is refused. Without the row lock both would commit and A's stale write could follow B's claim.
    """
    clock_a, clock_b = HookClock(1000.0), HookClock(1061.0)
    run_a, run_b = Ledger.from_url(postgres_url, clock=clock_a), Ledger.from_url(postgres_url, clock=clock_b)
    assert run_a.claim(KEY, "run-a", 60)  # lease until 1060
    a_inside, b_waits = threading.Event(), threading.Event()

    def a_holds_the_row() -> None:
        a_inside.set()
        assert b_waits.wait(WAIT)

    clock_a.hook = a_holds_the_row
    writer, wrote = _in_thread(lambda: run_a.record_stage(KEY, "run-a", Stage.DOWNLOADED))
    assert a_inside.wait(WAIT)
    claimer, claimed = _in_thread(lambda: run_b.claim(KEY, "run-b", 60))
    _wait_until_someone_waits_for_a_row_lock(postgres_url)
    b_waits.set()
    writer.join(WAIT)
    claimer.join(WAIT)
    assert "error" not in wrote, wrote
    assert claimed.get("value") is ClaimResult.ACQUIRED, claimed
    assert run_a.history(KEY) == ["claimed (new)", "stage DOWNLOADED", "claimed (expired lease taken over)"]
    with pytest.raises(LeaseLostError):
        run_a.begin_document(KEY, "run-a", case_id=7)
    record = run_b.get(KEY)
    assert record is not None and record.owner == "run-b" and record.stage is Stage.DOWNLOADED
    assert record.document_attempts == 0


def test_claim_next_passes_over_a_notice_another_worker_is_claiming(postgres_url: str) -> None:
    """SKIP LOCKED: while A holds the first notice's row, B's claim_next takes the second one without waiting."""
    first, second = (NoticeKey(file_id=f"f-{n}", md5=f"{n:032x}") for n in (1, 2))
    clock_a, clock_b = HookClock(1000.0), HookClock(1000.0)
    worker_a, worker_b = Ledger.from_url(postgres_url, clock=clock_a), Ledger.from_url(postgres_url, clock=clock_b)
    worker_a.add_listed(first)
    clock_a.now = clock_b.now = 1001.0
    worker_a.add_listed(second)  # listed later: claim_next would hand out ``first`` first
    a_inside, release_a = threading.Event(), threading.Event()

    def a_holds_the_row() -> None:
        a_inside.set()
        assert release_a.wait(WAIT)

    clock_a.hook = a_holds_the_row
    claimer_a, claimed_a = _in_thread(lambda: worker_a.claim(first, "worker-a", 60))
    assert a_inside.wait(WAIT)
    puller_b, pulled_b = _in_thread(lambda: worker_b.claim_next("worker-b", 60))
    puller_b.join(WAIT)  # A is still parked inside its transaction: B cannot have waited for it
    alive = puller_b.is_alive()
    release_a.set()
    claimer_a.join(WAIT)
    assert not alive, "claim_next waited for a locked notice instead of skipping it"
    assert [r.key for r in pulled_b["value"]] == [second]
    assert claimed_a.get("value") is ClaimResult.ACQUIRED
    owners = {r.key: r.owner for r in worker_b.records()}
    assert owners == {first: "worker-a", second: "worker-b"}
    assert worker_b.history(second) == ["listed", "claimed (next)"]


def test_lease_times_come_from_the_database_clock_not_the_hosts(postgres_url: str, monkeypatch) -> None:
    """Two hosts whose clocks disagree by an hour still agree that a fresh lease is live."""
    Ledger.from_url(postgres_url).claim(KEY, "run-a", 60)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600)  # this "host" runs an hour fast
    assert Ledger.from_url(postgres_url).claim(KEY, "run-b", 60) is ClaimResult.BUSY


def test_a_dropped_connection_is_replaced_and_an_unreachable_server_is_transient(postgres_url: str, postgres) -> None:
    ledger = Ledger.from_url(postgres_url)
    ledger.claim(KEY, "run-a", 60)
    # The server (or a proxy, or a restart) cuts every ledger connection: the next call reconnects.
    postgres.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  "WHERE application_name = 'mailroom-ledger' AND pid <> pg_backend_pid()")
    assert ledger.get(KEY).owner == "run-a"  # type: ignore[union-attr]
    nowhere = postgres_url.replace(str(postgres.socket_dir), str(postgres.root / "no-such-dir"))
    with pytest.raises(TransientError) as raised:
        Ledger.from_url(nowhere, busy_timeout_seconds=2)
    assert raised.value.reason == "ledger_unavailable" and "no-such-dir" not in str(raised.value)


def test_a_row_held_past_the_lock_timeout_is_transient_not_a_hang(postgres_url: str) -> None:
    clock_a = HookClock(1000.0)
    stuck, patient = Ledger.from_url(postgres_url, clock=clock_a), Ledger.from_url(postgres_url, busy_timeout_seconds=1)
    stuck.claim(KEY, "run-a", 60)
    a_inside, release_a = threading.Event(), threading.Event()

    def a_is_stuck() -> None:
        a_inside.set()
        assert release_a.wait(WAIT)

    clock_a.hook = a_is_stuck
    writer, _ = _in_thread(lambda: stuck.record_stage(KEY, "run-a", Stage.DOWNLOADED))
    assert a_inside.wait(WAIT)
    try:
        with pytest.raises(TransientError) as raised:
            patient.claim(KEY, "run-b", 60)  # waits 1 s for the row, then gives up
    finally:
        release_a.set()
        writer.join(WAIT)
    assert raised.value.reason == "ledger_unavailable"
