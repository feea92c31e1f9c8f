"""Reading back what the Prefect API recorded about a flow run (the CLI waits on it; the tests assert on it)."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import TaskRun

from mailroom.report import RunSummary

FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def summary_of(state: Any) -> RunSummary | None:
    """The RunSummary a daily_mailroom state carries (Completed and Failed both carry one once notices ran)."""
    try:
        value = state.result(raise_on_failure=False)
    except Exception:  # a state without an in-memory result (e.g. read back from the API)
        return None
    return value if isinstance(value, RunSummary) else None


def task_runs_of(flow_run_id: UUID) -> list[TaskRun]:
    with get_client(sync_client=True) as client:
        runs: list[TaskRun] = []
        offset = 0
        while True:
            page = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])), limit=200, offset=offset
            )
            runs.extend(page)
            if len(page) < 200:
                return runs
            offset += len(page)


def wait_until_recorded(flow_run_id: UUID, *, expected: int | None = None, timeout: float = 60.0) -> list[TaskRun]:
    """Poll until every task run is in a final state (and, if given, ``expected`` of them exist) and stays so."""
    deadline = time.monotonic() + timeout
    previous = -1
    runs: list[TaskRun] = []
    while time.monotonic() < deadline:
        runs = task_runs_of(flow_run_id)
        settled = all(run.state_type and run.state_type.value in FINAL_STATES for run in runs)
        enough = expected is None or len(runs) >= expected
        if settled and enough and len(runs) == previous:
            return runs
        previous = len(runs)
        time.sleep(0.5)
    return runs
