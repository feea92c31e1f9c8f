"""A long run does not keep Prefect's result links of finished notices (~19 KB per notice otherwise)."""

from __future__ import annotations

import gc

import pytest
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.events.worker import EventsWorker
from pydantic import BaseModel

from flows.run_results import forget_finished_results

pytestmark = [pytest.mark.prefect_server]


class Row(BaseModel):
    file_id: str


@task(cache_policy=NO_CACHE, persist_result=False)
def row(n: int) -> Row:
    return Row(file_id=f"file-{n}")


@task(cache_policy=NO_CACHE, persist_result=False)
def number(n: int) -> int:
    return 100_000 + n


@flow(persist_result=False)
def links() -> tuple[int, int, int, bool]:
    results = FlowRunContext.get().run_results
    kept = row(0)  # still referenced: a later task could take it as input, so its link must stay
    for n in range(1, 20):
        row(n)
        number(n)
    # The task runs' state events hold their results until the events worker has sent them: wait for that (a state,
    # not a delay), else some rows were still alive when counted (13 of 19 in some runs alone on a 2-core machine).
    EventsWorker.instance().wait_until_empty()
    gc.collect()
    before = len(results)
    dropped = forget_finished_results()
    return before, dropped, len(results), id(kept) in results


def test_links_of_results_nobody_holds_are_dropped_and_live_ones_kept(prefect_server):
    before, dropped, after, kept_linked = links()
    assert before >= 39  # one per result (and per part of it): 20 rows + 19 numbers
    assert dropped == before - after and after <= 2
    assert kept_linked


class _Busy(dict):
    """Run results that another thread's task run adds to while they are being looked at (forced, not timed)."""

    def _added_during(self, view):
        for n, entry in enumerate(view):
            if n == 1:
                self[object()] = entry[1]  # a task run on another thread records its result right now
            yield entry

    def items(self):
        return self._added_during(super().items())

    def __iter__(self):
        return self._added_during(iter(list(super().keys())))


@flow(persist_result=False)
def links_while_others_finish() -> int:
    context = FlowRunContext.get()
    # Held, so each result keeps its own id (the links are keyed by id): a result freed at once could hand its address
    # to the next one, and the two links became one (CI once counted 4). Ints cannot be weakly referenced, so a held
    # one's link is still dropped once its task run is final.
    held = [number(n) for n in range(5)]
    context.run_results = _Busy(context.run_results)
    dropped = forget_finished_results()
    assert len(held) == 5
    return dropped


def test_results_added_by_other_threads_while_looking_do_not_fail_the_run(prefect_server):
    # A 1,000-notice run failed with "dictionary changed size during iteration" here.
    assert links_while_others_finish() >= 5
