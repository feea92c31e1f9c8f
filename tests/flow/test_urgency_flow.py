"""Most urgent first (issue 13 acceptance): a CP504 due in 5 days is filed before CP2000s due in 25, even when it
is the last notice listed, and the follow-up tasks' priority and reminder follow the days left.

Evidence is the Logiqs emulator's own record: documents and tasks are stored in the order their POSTs arrived,
each carrying its notice's marker. One notice at a time (concurrency 1), so the order is the filing order.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta, timezone

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

from benchmarks.chaos import MARKER
from blocks.prefect_server import flush_run_records
from blocks.register import SandboxProfile, save_sandbox_blocks
from flows.artifacts import NOTICES_KEY, SUMMARY_KEY
from flows.records import summary_of
from mailroom.crm import Priority
from mailroom_sandbox.corpus.edit import with_notices_changed
from mailroom_sandbox.stack import SANDBOX_TODAY

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]

TODAY = SANDBOX_TODAY


def _dated(letter_type: str, days_left: int, window: int) -> dict:
    return dict(letter_type=letter_type, notice_date=TODAY + timedelta(days=days_left - window),
                response_due_date=TODAY + timedelta(days=days_left), response_due_derived=False,
                aur_control_number="12345-0678" if letter_type == "CP2000" else None)


def test_a_cp504_due_in_5_days_is_filed_before_cp2000s_due_in_25(prefect_server, corpus_cache, sandbox_factory,
                                                                 tmp_path):
    base = corpus_cache(6, 71, scanned_fraction=0.0, include_bad_files=False, scenario_rates={"plain": 1.0})
    listed = [f for f in base.in_scope()]  # the flow lists them oldest first: this order
    assert len(listed) >= 4, "the corpus changed: pick another seed"
    *cp2000s, overdue, cp504 = [f.key for f in listed]  # the CP504 is listed last, the overdue one just before
    changes = {key: _dated("CP2000", 25, 30) for key in cp2000s}
    changes[overdue] = _dated("CP2000", -3, 30)
    changes[cp504] = _dated("CP504", 5, 10)
    sandbox = sandbox_factory(corpus=with_notices_changed(base, tmp_path / "corpus", changes))
    save_sandbox_blocks(SandboxProfile.of(sandbox), name="urgency", state_dir=str(tmp_path / "state"),
                        report_dir=str(tmp_path / "reports"), concurrency=1, review_enabled=False)
    assert sandbox.today == TODAY  # the blocks count days left from the sandbox's date

    from flows.daily import daily_mailroom

    state = daily_mailroom(blocks="urgency", return_state=True)
    flush_run_records()
    summary = summary_of(state)
    assert state.is_completed() and summary.matched == len(listed), state.message

    key_of = {sandbox.file_ids[key]: key for key in sandbox.file_ids}
    store = sandbox.logiqs.store
    filed = [key_of[MARKER.search(d.comment).group(1)] for d in store.documents]
    assert filed == [overdue, cp504, *cp2000s]  # fewest days left first; equals in listing order
    tasks = {key_of[MARKER.search(t.comments).group(1)]: t for t in store.tasks}
    assert [key_of[MARKER.search(t.comments).group(1)] for t in store.tasks] == filed

    today_at_due_hour = datetime.combine(TODAY, time(17), tzinfo=timezone.utc)
    for key in (overdue, cp504):  # overdue and due within 7 days: URGENT, reminding today
        assert (tasks[key].priority_id, tasks[key].reminder) == (Priority.URGENT, today_at_due_hour), key
    assert "CP504" in tasks[cp504].subject
    for key in cp2000s:  # 25 days left: the base priority, a reminder a week before the due date
        assert tasks[key].priority_id == Priority.HIGH
        assert tasks[key].due_date - tasks[key].reminder == timedelta(days=7)

    assert (summary.overdue, summary.due_this_week) == (1, 1)
    assert "1 overdue, 1 due this week" in state.message
    with get_client(sync_client=True) as client:
        artifacts = {a.key: a for a in client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])))}
    table = json.loads(artifacts[NOTICES_KEY].data)
    ids = {key: sandbox.file_ids[key] for key in (overdue, cp504)}
    assert [row["file_id"] for row in table[:2]] == [ids[overdue], ids[cp504]]
    assert {k: table[1][k] for k in ("letter", "respond_by", "days_left", "urgency")} == {
        "letter": "CP504", "respond_by": (TODAY + timedelta(days=5)).isoformat(), "days_left": 5,
        "urgency": "due this week"}
    assert "**1 overdue**, **1 due this week**" in artifacts[SUMMARY_KEY].data


def test_scans_waiting_for_an_ocr_engine_do_not_hold_back_typed_notices(prefect_server, corpus_cache,
                                                                        sandbox_factory, tmp_path):
    """Scans are filed in a lane of their own: with every OCR engine busy, the typed notices still get filed.
    Forced: OCR does not start until every typed notice's follow-up task exists (the hook gives up after 60 s, so
    a single pool, where the more urgent scans take the one slot first, files a scan first and fails here)."""
    import time as clock

    from mailroom.notices import tesseract
    from mailroom_sandbox.corpus.models import FileKind

    base = corpus_cache(8, 73, scanned_fraction=0.5, include_bad_files=False, scenario_rates={"plain": 1.0})
    typed = [f.key for f in base.in_scope() if f.kind is FileKind.TYPED]
    scans = [f.key for f in base.in_scope() if f.kind is FileKind.SCANNED]
    assert typed and scans, "the corpus changed: pick another seed"
    # Typed notices due in 60 days: every scan (dated by its file name, else as of today) is more urgent.
    changes = {key: _dated("CP2000", 60, 30) for key in typed}
    sandbox = sandbox_factory(corpus=with_notices_changed(base, tmp_path / "corpus", changes))
    save_sandbox_blocks(SandboxProfile.of(sandbox), name="scan-lane", state_dir=str(tmp_path / "state"),
                        report_dir=str(tmp_path / "reports"), concurrency=1, review_enabled=False)
    store = sandbox.logiqs.store
    held: list[bool] = []

    def wait_for_typed(point: str) -> None:
        if point != "pixels":
            return
        deadline = clock.monotonic() + 60
        while len(store.tasks) < len(typed) and clock.monotonic() < deadline:
            clock.sleep(0.05)
        held.append(len(store.tasks) >= len(typed))

    from flows.daily import daily_mailroom

    tesseract.add_ocr_hook(wait_for_typed)
    try:
        state = daily_mailroom(blocks="scan-lane", return_state=True)
    finally:
        tesseract.clear_ocr_hooks()
    flush_run_records()
    assert state.is_completed(), state.message
    key_of = {sandbox.file_ids[key]: key for key in sandbox.file_ids}
    filed = [key_of[MARKER.search(d.comment).group(1)] for d in store.documents]
    assert held and all(held) and set(filed[:len(typed)]) == set(typed), (held, filed)
    assert set(filed) == set(typed) | set(scans)
