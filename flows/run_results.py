"""Keeping a long flow run's memory flat: Prefect's per-task-result links are dropped as notices finish."""

from __future__ import annotations

def forget_finished_results() -> int:
    """Drop Prefect's links from finished task runs' results to their states; returns how many.

    Prefect keeps, for the life of a flow run, one entry per task result (and per part of it) in
    ``FlowRunContext.run_results``, so that a result passed to another task shows as that task's input. Measured:
    ~7.6 entries and ~19 KB per notice, i.e. ~190 MB over a 10,000-notice run. An entry whose result object is gone
    can never be looked up again; a finished task's result that cannot be weakly referenced (ints, strings, paths)
    is dropped too, which at worst loses one input arrow in the UI graph of a notice still in flight.
    """
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None:
        return 0
    results = context.run_results
    # Task runs on other threads add entries while we look: iterating the live dict raised "dictionary changed size
    # during iteration" and failed a 1,000-notice run. dict.copy() takes the snapshot in one C call, under the GIL.
    snapshot = dict.copy(results)
    stale = [key for key, (state, _kind, ref) in snapshot.items()
             if (ref() is None if ref is not None else state.is_final())]
    for key in stale:
        results.pop(key, None)
    return len(stale)
