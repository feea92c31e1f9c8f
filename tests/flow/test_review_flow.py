"""The review queue end to end (issue 13 acceptance): a real `prefect server`, the review deployment served by a
runner in a child process (it runs each review flow run in its own process and ends it at the suspension, as a
worker would), the daily flow in this process, and decisions submitted through the Prefect API.

One sandbox, one story: the daily run sets AMBIGUOUS notices aside and starts a review run; a second daily run
adds only its new pending notices to a second review run; resuming the first with decisions files exactly those
(one document + one task each), rejects go to UNMATCHED and the undecided one stays pending; a third daily run
closes the second review (left open past the deadline) and asks about every undecided notice in a fresh one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName, FlowRunFilter
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter
from prefect.flow_runs import resume_flow_run

from blocks.prefect_server import flush_run_records
from blocks.register import SandboxProfile, save_sandbox_blocks
from flows.records import summary_of
from flows.review_form import field_name
from mailroom.alerts import REVIEW_PENDING
from mailroom.ledger import Ledger, NoticeKey, Outcome, default_ledger_path
from mailroom.report import read_csv
from mailroom.review import Decision
from mailroom_sandbox.stack import SANDBOX_TODAY
from tests.flow.test_browser import CHROMIUM, RENDER_TIMEOUT_MS
from tests.flow.conftest import QUICK_PICKUP_ENV
from tests.flow.test_daily_flow import FULL_SSN

pytestmark = [pytest.mark.prefect_server, pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
REVIEW_DEPLOYMENT = "review-mailroom/review-mailroom"
FAST = dict(call_max_retries=1, call_initial_delay=0.05, task_retries=1, task_retry_delay_seconds=0.2, concurrency=2)


@pytest.fixture(scope="module")
def review_runner(prefect_server, tmp_path_factory) -> Iterator[Path]:
    """``python flows/review.py --serve`` in a child process; yields its log."""
    home = tmp_path_factory.mktemp("review-runner")
    log = home / "runner.log"
    env = {**os.environ, "PREFECT_API_URL": prefect_server.api_url, "PREFECT_HOME": str(home),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PYTHONPATH": str(ROOT), **QUICK_PICKUP_ENV}
    runner = subprocess.Popen([sys.executable, str(ROOT / "flows" / "review.py"), "--serve"], cwd=home, env=env,
                              stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _until(lambda: _deployment_exists(), timeout=180, what="the served review deployment",
               log=log, process=runner)
        yield log
    finally:
        os.killpg(runner.pid, signal.SIGTERM)
        try:
            runner.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(runner.pid, signal.SIGKILL)


def _deployment_exists() -> bool:
    with get_client(sync_client=True) as client:
        found = client.read_deployments(deployment_filter=DeploymentFilter(
            name=DeploymentFilterName(any_=["review-mailroom"])))
    return bool(found)


def _until(condition: Callable[[], Any], *, timeout: float, what: str, log: Path | None = None,
           process: subprocess.Popen | None = None) -> Any:
    """Poll a condition (a state the test waits for, not a delay); fail with the runner's log tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            break
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


def _run_state(run_id: str):
    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(run_id)).state


def _review_runs() -> list:
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(REVIEW_DEPLOYMENT)
        return client.read_flow_runs(flow_run_filter=FlowRunFilter(deployment_id={"any_": [deployment.id]}))


def _daily(blocks: str, **parameters: Any):
    from flows.daily import daily_mailroom

    state = daily_mailroom(blocks=blocks, return_state=True, **parameters)
    flush_run_records()
    return state, summary_of(state)


def _review_pending(run_id: str) -> list[int]:
    """The pending counts of the ``mailroom.review.pending`` events recorded about one review run."""
    with get_client(sync_client=True) as client:
        wanted = EventFilter(event=EventNameFilter(name=[REVIEW_PENDING]),
                             resource=EventResourceFilter(id=[f"mailroom.review.{run_id}"]))
        page = client.read_events(wanted, limit=50)  # the server allows at most 50 a page (the client asks 100)
    return [event.payload["pending"] for event in page.events]


def _batches(ledger: Ledger) -> dict[str, set[str]]:
    """run id -> Drive file ids of its open batch."""
    batches: dict[str, set[str]] = {}
    for record in ledger.pending_review():
        if record.review_id is not None:
            batches.setdefault(record.review_run_id or "?", set()).add(record.key.file_id)
    return batches


def _resume_form_as_rendered(url: str) -> str:
    """The page's text once its Resume button was clicked and the form showed (Debian's Chromium, see
    test_browser.py); the browser is closed again before the test goes on (Playwright's loop would make Prefect's
    sync client async)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1100})
            page.goto(url)
            page.get_by_role("button", name="Resume").first.click(timeout=RENDER_TIMEOUT_MS)
            page.get_by_text("Your name").first.wait_for(timeout=RENDER_TIMEOUT_MS)
            return page.inner_text("body")
        finally:
            browser.close()


def test_review_queue_from_daily_run_to_filed_decisions(review_runner, sandbox_factory, prefect_server, tmp_path):
    sandbox = sandbox_factory(notices=10, seed=62, scanned_fraction=0.0, include_bad_files=False,
                              scenario_rates={"ambiguous": 0.4}, as_of=SANDBOX_TODAY)
    ids = dict(sandbox.file_ids)
    ambiguous = [ids[f.key] for f in sandbox.corpus.in_scope() if f.expected_reason == "ambiguous"]
    assert len(ambiguous) == 4, "the corpus changed: pick another seed"  # n0000, n0005, n0007 | n0009
    first_batch, later = set(ambiguous[:3]), ambiguous[3]
    save_sandbox_blocks(SandboxProfile.of(sandbox), name="reviewtest", state_dir=str(tmp_path / "state"),
                        report_dir=str(tmp_path / "reports"), **FAST)
    ledger = Ledger(default_ledger_path(tmp_path / "state"))

    # 1. The first 8 notices: three AMBIGUOUS ones wait for review (in their input folder), a review run asks.
    state, summary = _daily("reviewtest", limit=8)
    assert state.is_completed(), state.message
    assert summary.pending_review == 3 and "3 waiting for review" in state.message
    assert {r.key.file_id for r in ledger.pending_review()} == first_batch
    (run_1,) = _batches(ledger)
    assert summary.review_run and run_1 in summary.review_run
    _until(lambda: _run_state(run_1).is_paused(), timeout=240, what="review run 1 to wait for its form",
           log=review_runner)
    # What the reviewer sees: the run's page in Chromium, its Resume button, the form with a section per notice.
    form = _resume_form_as_rendered(f"{prefect_server.ui_url}/runs/flow-run/{run_1}")
    assert "Your name" in form and "Decision" in form, form[-1500:]
    assert {n for n in re.findall(r"\b([123])\. \S+ · ", form)} == {"1", "2", "3"}, form[-1500:]  # a section each
    assert not FULL_SSN.search(form)
    # One alert event for the run that left notices for a person, naming its review run (docs/operations.md).
    assert _until(lambda: _review_pending(run_1), timeout=60, what="the review.pending event") == [3]

    # 2. The rest: the three wait untouched; only the new AMBIGUOUS notice goes to a second review run.
    state, summary = _daily("reviewtest")
    assert (summary.in_review, summary.pending_review) == (3, 1), state.message
    batches = _batches(ledger)
    run_2 = next(run for run in batches if run != run_1)
    assert batches == {run_1: first_batch, run_2: {later}}  # never the same notice in two review runs
    assert len(_review_runs()) == 2
    _until(lambda: _run_state(run_2).is_paused(), timeout=240, what="review run 2 to wait", log=review_runner)
    assert _until(lambda: _review_pending(run_2), timeout=60, what="the second review.pending event") == [1]
    assert _review_pending(run_1) == [3]  # the notices still in run 1 raise no second alert

    # 3. A reviewer answers run 1 through the API: file one on a candidate, reject one, leave one undecided.
    with get_client(sync_client=True) as client:
        schema = json.loads(client.read_flow_run_input(UUID(run_1), "suspended-round-1-schema"))
    filed, rejected, undecided = sorted(first_batch)
    filed_field = schema["properties"][field_name(NoticeKey(file_id=filed, md5="-"))]
    choices = schema["$defs"][filed_field["$ref"].rsplit("/", 1)[-1]]["properties"]["case"]["enum"]
    chosen_case = int(choices[1].split(" ")[0])  # the second candidate: the reviewer's pick, not the matcher's
    answers = {
        "reviewer": "Alice Reviewer",
        field_name(NoticeKey(file_id=filed, md5="-")): {**filed_field["default"], "decision": Decision.FILE.value,
                                                         "case": choices[1]},
        field_name(NoticeKey(file_id=rejected, md5="-")): {"decision": Decision.REJECT.value},
        field_name(NoticeKey(file_id=undecided, md5="-")): {"decision": Decision.UNDECIDED.value},
    }
    before = sandbox.stats()["logiqs"]
    resume_flow_run(UUID(run_1), run_input=answers)
    final = _until(lambda: (s := _run_state(run_1)).is_final() and s, timeout=240, what="review run 1 to finish",
                   log=review_runner)
    assert final.is_completed(), final.message
    assert final.message.startswith("Review: 1 filed by review (MATCHED), 1 rejected (UNMATCHED), 1 left")

    after = sandbox.stats()["logiqs"]
    assert after["documents_total"] - before["documents_total"] == 1  # exactly the decided notice, once
    assert after["tasks_total"] - before["tasks_total"] == 1
    assert after["duplicates"]["total"] == 0
    assert [d.case_id for d in sandbox.logiqs.store.documents if f"mailroom:{filed}:" in d.comment] == [chosen_case]
    matched = {f.id for f in sandbox.drive.files_in(sandbox.folders.matched)}
    unmatched = {f.id for f in sandbox.drive.files_in(sandbox.folders.unmatched)}
    assert filed in matched and rejected in unmatched and undecided not in matched | unmatched
    outcomes = {r.key.file_id: r.outcome for r in ledger.records()}
    assert (outcomes[filed], outcomes[rejected], outcomes[undecided]) == (
        Outcome.MATCHED, Outcome.UNMATCHED, Outcome.PENDING_REVIEW)
    rows = {row.file_id: row for row in read_csv(max((tmp_path / "reports").glob("mailroom-*-review-*.csv")))}
    assert rows[filed].reviewed_by == "Alice Reviewer" and rows[filed].reviewed_at is not None
    assert rows[rejected].reason == "REJECTED by reviewer Alice Reviewer"
    with get_client(sync_client=True) as client:  # the form and the answers held names: gone once filed
        assert client.filter_flow_run_input(flow_run_id=UUID(run_1), key_prefix="suspended", limit=10,
                                            exclude_keys=set()) == []

    # 4. Run 2 was left open past the deadline: the next daily run closes it, and asks about every undecided
    #    notice (run 1's and run 2's) in one fresh review run.
    save_sandbox_blocks(SandboxProfile.of(sandbox), name="reviewtest", state_dir=str(tmp_path / "state"),
                        report_dir=str(tmp_path / "reports"), review_deadline_hours=1e-6, **FAST)
    state, summary = _daily("reviewtest")
    assert summary.in_review == 2 and state.is_completed(), state.message
    closed = _run_state(run_2)
    assert closed.is_cancelled() and "Review deadline" in closed.message and "1 notice(s) moved" in closed.message
    batches = _batches(ledger)
    assert list(batches.values()) == [{undecided, later}] and run_1 not in batches and run_2 not in batches
    assert len(_review_runs()) == 3
