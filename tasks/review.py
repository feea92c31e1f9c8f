"""Starting review runs from the daily run, and closing the ones that ended or waited past the deadline.

The daily run never waits for a person: it puts the notices that wait for review (and those a closed review left
undecided) into a fresh review batch and starts one ``review-mailroom`` flow run for it with
``run_deployment(..., timeout=0)``. Parameters carry identifiers only (the batch id and Drive file ids): the review
run builds its form from the ledger, Drive and a fresh reading of each notice.
"""

from __future__ import annotations

import time
from uuid import UUID

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.logging import get_run_logger
from prefect.settings import PREFECT_UI_URL
from prefect.states import Cancelled
from pydantic import BaseModel

from mailroom.ledger import Ledger
from mailroom.ledger_review import ReviewBatch, new_review_id
from mailroom.review import Sweep, sweep
from tasks.context import services


class ReviewStart(BaseModel):
    """What the daily run did about the review queue (identifiers and counts only)."""

    notices: int = 0  # in the review run started now
    run_id: str | None = None
    run_name: str | None = None
    url: str | None = None
    closed: int = 0  # review runs closed (ended, or past the deadline) whose notices joined this one
    problem: str = ""  # why no review run could be started (the notices keep waiting in the ledger)

    def label(self) -> str | None:
        if not self.run_name:
            return None
        return f"[{self.run_name}]({self.url})" if self.url else self.run_name


def run_url(run_id: str) -> str | None:
    ui = PREFECT_UI_URL.value()
    return f"{ui.rstrip('/')}/runs/flow-run/{run_id}" if ui else None


@task(name="start-review-run", tags=["review"], retries=0, cache_policy=NO_CACHE, persist_result=False)
def start_review_run(blocks: str) -> ReviewStart:
    """Close stale review runs, then start one review run for every notice waiting without one."""
    current, log = services(), get_run_logger()
    settings, ledger = current.settings, current.ledger
    try:
        closed = close_stale_reviews(ledger, deadline_hours=settings.review_deadline_hours)
    except Exception as exc:  # noqa: BLE001 - the Prefect API failing here must not fail a run whose notices are done
        log.warning("could not check earlier review runs (%s); their notices stay with them", type(exc).__name__)
        closed = 0
    review_id = new_review_id()
    records = ledger.assign_review(review_id)
    if not records:
        return ReviewStart(closed=closed)
    file_ids = [record.key.file_id for record in records]
    try:
        run = run_deployment(
            settings.review_deployment, parameters={"review_id": review_id, "notice_ids": file_ids, "blocks": blocks},
            timeout=0, as_subflow=False, idempotency_key=f"mailroom-review-{review_id}", tags=["mailroom", "review"],
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - not deployed, or the API is down: the notices keep waiting, safely
        ledger.release_review(review_id)  # the next daily run tries again with them
        why = (f"deployment {settings.review_deployment!r} not found" if isinstance(exc, ObjectNotFound)
               else f"could not start {settings.review_deployment!r} ({type(exc).__name__})")
        problem = (f"{why}: {len(records)} notice(s) wait for review in the ledger; the next daily run starts "
                   "their review run (deploy it with `prefect deploy --all`, or `python flows/review.py --serve`)")
        log.warning("%s", problem)
        return ReviewStart(closed=closed, problem=problem)
    ledger.set_review_run(review_id, str(run.id))
    url = run_url(str(run.id))
    log.info("review run %s started for %d notice(s): %s", run.name, len(records), url or run.id)
    return ReviewStart(notices=len(records), run_id=str(run.id), run_name=run.name, url=url, closed=closed)


def close_stale_reviews(ledger: Ledger, *, deadline_hours: float, now: float | None = None) -> int:
    """Release the batches of review runs that ended; end those left open past the deadline (Cancelled, with a
    message saying where their notices went). Returns how many batches were closed."""
    log = get_run_logger()
    now = time.time() if now is None else now
    closed = 0
    for batch in ledger.open_reviews():
        action = sweep(_state_of(batch), age_seconds=now - batch.since, deadline_seconds=deadline_hours * 3600)
        if action is Sweep.KEEP:
            continue
        released = ledger.release_review(batch.review_id)  # first: a late resume finds its notices gone, files none
        if action is Sweep.EXPIRE and batch.run_id:
            _close_run(batch, released, deadline_hours)
        log.info("review batch %s (run %s) %s: %d undecided notice(s) go to the next review run",
                 batch.review_id, batch.run_id, "expired" if action is Sweep.EXPIRE else "ended", released)
        closed += 1
    return closed


def _state_of(batch: ReviewBatch) -> str | None:
    if batch.run_id is None:
        return None
    with get_client(sync_client=True) as client:
        try:
            run = client.read_flow_run(UUID(batch.run_id))
        except ObjectNotFound:
            return "MISSING"
    return run.state.type.value if run.state is not None else None


def _close_run(batch: ReviewBatch, released: int, deadline_hours: float) -> None:
    message = (f"Review deadline ({deadline_hours:g} h) passed without a decision: {released} notice(s) moved to "
               "the next review run (started by the daily run that closed this one)")
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(UUID(batch.run_id or ""), Cancelled(message=message), force=True)
