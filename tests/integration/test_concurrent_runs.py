"""Two runs at once (two workers, or a manual run during the scheduled one) over the same notices.

Each run is a real OS process working through the core exactly as the flow's tasks do (claim -> download ->
ensure_document -> ensure_task -> ensure_moved) against the sandbox over HTTP, with faults and lost responses on.
They walk the same notices in opposite orders so they collide in the middle. The ledger must give every notice to
exactly one of them, and Logiqs must end with exactly one document and one task per matched notice. Runs once per
ledger backend: the SQLite file two workers on one machine share, and a PostgreSQL database.
"""

from __future__ import annotations

import multiprocessing as mp
import tempfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks.chaos import verify
from mailroom.crm import TaskRequest
from mailroom.effects import ensure_document, ensure_moved, ensure_task
from mailroom.ledger import ClaimResult, Ledger, NoticeKey, Outcome

NOTICES = 16


def _run(profile: dict[str, Any], ledger_url: str, owner: str, notices: list[tuple[str, int | None]],
         start: Any, out: Any) -> None:
    """One "run": the per-notice steps of flows/notice.py without Prefect, so two can race in plain processes."""
    from mailroom.drive import DriveClient, build_drive_service
    from mailroom.logiqs import LogiqsClient
    from mailroom.resilience import ResiliencePolicy

    fast = dict(max_retries=4, initial_delay=0.05, max_delay=0.5, use_breaker=False, use_budget=False)
    drive = DriveClient(build_drive_service(profile["service_account_info"], api_endpoint=profile["drive_url"]),
                        policy=ResiliencePolicy("drive", **fast))
    logiqs = LogiqsClient(profile["logiqs_url"], profile["logiqs_api_key"], profile["logiqs_secret"],
                          policy=ResiliencePolicy("logiqs", **fast), timeout=(2, 2))
    ledger, folders = Ledger.from_url(ledger_url), profile["folders"]
    outcomes: dict[str, str] = {}
    start.wait(timeout=120)
    with tempfile.TemporaryDirectory() as tmp:
        for file_id, case_id in notices:
            for _ in range(8):  # what Prefect task retries do; every step below is safe to repeat
                try:
                    outcomes[file_id] = _one(drive, logiqs, ledger, owner, folders, file_id, case_id, Path(tmp))
                    break
                except Exception as exc:  # noqa: BLE001 - a retryable MailroomError; anything else fails the test
                    if not getattr(exc, "retryable", False):
                        outcomes[file_id] = f"error:{type(exc).__name__}"
                        break
    out.put((owner, outcomes))


def _one(drive, logiqs, ledger, owner, folders, file_id, case_id, tmp: Path) -> str:  # noqa: ANN001
    md5 = drive.get(file_id).md5 or "no-md5"
    key = NoticeKey(file_id=file_id, md5=md5)
    claim = ledger.claim(key, owner, lease_seconds=300)
    if not claim:
        return claim.value  # BUSY or FINISHED: the other run's notice
    drive.download(file_id, tmp / f"{file_id}.pdf")
    if case_id is None:
        ensure_moved(ledger, drive, key, owner=owner, outcome=Outcome.UNMATCHED, to_folder_id=folders["unmatched"])
        return "UNMATCHED"
    ensure_document(ledger, logiqs, key, owner=owner, case_id=case_id, path=tmp / f"{file_id}.pdf",
                    file_name=f"notice-{file_id}.pdf", comment="IRS notice")
    due = datetime(2026, 12, 1, tzinfo=timezone.utc)
    ensure_task(ledger, logiqs, key, TaskRequest(case_id=case_id, subject="Review CP2000 Notice", due_date=due,
                                                 reminder=due - timedelta(days=7), user_ids=[1]), owner=owner)
    ensure_moved(ledger, drive, key, owner=owner, outcome=Outcome.MATCHED, to_folder_id=folders["matched"])
    return "MATCHED"


def test_two_concurrent_runs_never_process_the_same_notice(sandbox_factory, ledger_target) -> None:
    sandbox = sandbox_factory(notices=NOTICES, seed=51, scanned_fraction=0.0)
    sandbox.set_faults(0.1, ambiguous_rate=0.15)
    ids = dict(sandbox.file_ids)
    notices = [(ids[f.key], f.expected_case_id if f.expected_outcome.value == "MATCHED" else None)
               for f in sandbox.corpus.in_scope()]
    profile = {**sandbox.profile(), "folders": sandbox.folders.model_dump()}
    ledger = ledger_target.open()  # the schema exists before the runs start, as after any earlier run

    ctx = mp.get_context("spawn")
    start, out = ctx.Barrier(2), ctx.Queue()
    runs = [ctx.Process(target=_run, args=(profile, ledger_target.url, owner, order, start, out))
            for owner, order in (("scheduled-run", notices), ("manual-run", notices[::-1]))]
    for run in runs:
        run.start()
    results = dict(out.get(timeout=240) for _ in runs)
    for run in runs:
        run.join(timeout=60)
        assert run.exitcode == 0

    done_by: Counter[str] = Counter()
    for owner, outcomes in results.items():
        assert not [o for o in outcomes.values() if o.startswith("error")], outcomes
        for file_id, outcome in outcomes.items():
            if outcome in ("MATCHED", "UNMATCHED"):
                done_by[file_id] += 1
    print(f"\nconcurrent: " + ", ".join(f"{o}: {Counter(r.values())}" for o, r in results.items()))
    assert sorted(done_by) == sorted(file_id for file_id, _ in notices)
    assert set(done_by.values()) == {1}, "a notice was processed by both runs"
    assert all(any(o in ("MATCHED", "UNMATCHED") for o in r.values()) for r in results.values()), "no race happened"
    skipped = Counter(o for r in results.values() for o in r.values() if o not in ("MATCHED", "UNMATCHED"))
    assert sum(skipped.values()) == len(notices)  # each notice was also seen (and left alone) by the other run
    assert set(skipped) <= {ClaimResult.BUSY.value, ClaimResult.FINISHED.value}

    verdict = verify(sandbox)
    assert verdict.exactly_once and verdict.wrong_folder == 0, verdict
    records = ledger.records()
    assert {r.outcome for r in records} <= {Outcome.MATCHED, Outcome.UNMATCHED} and len(records) == len(notices)
