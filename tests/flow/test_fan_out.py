"""The daily run fanned out over two process workers: batches as process-notices deployment runs, one PostgreSQL
ledger, Logiqs calls paced by a Prefect global rate limit shared by every worker. What an operator sets up (README
"Scaling out"), at small N: every notice filed exactly once and reported once by the parent run."""

from __future__ import annotations

import math
import os
import time

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

from benchmarks.scale import RequestClock, max_in_window, start_workers, stop_workers
from blocks.register import SandboxProfile, save_sandbox_blocks
from flows.records import summary_of
from mailroom.outcomes import Outcome
from mailroom_sandbox.http.faults import FaultConfig

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow, pytest.mark.timeout(900)]  # worker processes start slowly

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOGIQS_RATE, LOGIQS_BURST = 4.0, 1  # all workers together: at most 5 Logiqs requests in any second
# Two batches, one flow-run process at a time per worker: once both workers are online, each takes one batch and the
# two batch processes hit Logiqs at the same time (2 x 4 notices at once > 4/s: the shared limit has work to do). More
# batches prove nothing more and cost a flow-run process (~10 s on 2 cores) each.
WORKERS, RUNS_PER_WORKER, BATCHES = 2, 1, 2
CONCURRENCY = 4  # notices at once in each batch: 8 in flight, as many as the 4 batches of 2 that ran here before


def _workers_online(count: int, timeout: float = 240.0) -> None:
    """Wait (a state, not a delay) until ``count`` workers of the pool have sent a heartbeat."""
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            online = [w for w in client.read_workers_for_work_pool("mailroom-process")
                      if w.name.startswith("scale-worker-") and str(w.status).upper().endswith("ONLINE")]
            if len(online) >= count:
                return
            time.sleep(0.5)
    raise AssertionError(f"fewer than {count} workers online after {timeout:.0f}s")


def test_two_workers_file_every_notice_once_within_one_shared_logiqs_rate(prefect_server, deployed, sandbox_factory,
                                                                          postgres_url, tmp_path):
    from benchmarks.chaos import FAST_SETTINGS, verify
    from flows.daily import daily_mailroom
    from mailroom.run_rows import RunRows

    sandbox = sandbox_factory(notices=8, seed=41, scanned_fraction=0.0)
    sandbox.set_faults(FaultConfig.uniform(0.05, seed=41, ambiguous_rate=0.05))
    logiqs_requests = RequestClock()
    sandbox.logiqs.server.add_request_hook(logiqs_requests)
    batch_size = math.ceil(len(sandbox.corpus.in_scope()) / BATCHES)
    save_sandbox_blocks(
        SandboxProfile.of(sandbox), name="fanout", state_dir=str(tmp_path / "state"),
        report_dir=str(tmp_path / "reports"), **{**FAST_SETTINGS, "concurrency": CONCURRENCY},
        ledger_url=postgres_url,
        shared_rate_limits=True, logiqs_calls_per_second=LOGIQS_RATE, logiqs_burst=LOGIQS_BURST,
        batch_size=batch_size,
    )
    # The work pool and the process-notices deployment come from the session's `prefect deploy --all` (`deployed`).
    env = {**deployed, "PREFECT_HOME": str(tmp_path / "home"), "PYTHONPATH": ROOT}
    workers = start_workers(WORKERS, RUNS_PER_WORKER, env, tmp_path)
    try:
        _workers_online(WORKERS)
        state = daily_mailroom(blocks="fanout", fan_out_deployment="process-notices/process-notices",
                               return_state=True)
    finally:
        stop_workers(workers)
    logs = "\n".join((tmp_path / f"worker-{n}.log").read_text(errors="replace")[-2000:] for n in range(WORKERS))
    assert state.is_completed(), f"{state.message}\n{logs}"

    in_scope = len(sandbox.corpus.in_scope())
    verdict = verify(sandbox)
    assert verdict.exactly_once and verdict.lost == 0, verdict
    summary = summary_of(state)
    assert summary.total == in_scope and summary.failed == 0  # the parent reported every notice, once
    assert summary.matched == sum(f.expected_outcome.value == Outcome.MATCHED.value for f in sandbox.corpus.in_scope())

    with get_client(sync_client=True) as client:
        batches = [run for run in client.read_flow_runs(flow_run_filter=FlowRunFilter(
            name=FlowRunFilterName(like_="batch-"))) if run.parameters.get("parent_run_id") == str(
            state.state_details.flow_run_id)]
    assert len(batches) == math.ceil(in_scope / batch_size) == BATCHES
    assert all(run.state.is_completed() for run in batches)
    assert {run.parameters["batch"] for run in batches} == set(range(len(batches)))
    # Parameters carry Drive ids only, never file names.
    names = {f.drive_name for f in sandbox.corpus.in_scope()}
    assert not names & {value for run in batches for value in run.parameters["file_ids"]}
    # The rows went through the shared database and were removed once the report was written.
    with RunRows.open(postgres_url, None) as store:
        assert store.count(str(state.state_details.flow_run_id)) == 0

    # Both workers' Logiqs calls together stayed within the shared limit: burst + rate in any one second.
    assert max_in_window(logiqs_requests.times) <= LOGIQS_BURST + LOGIQS_RATE
