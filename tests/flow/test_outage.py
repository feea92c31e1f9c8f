"""Outage: Logiqs answers 503 to everything for a while in the middle of a run. The circuit must open, at most one
probe per cooldown may reach the down server (counted by the emulator), and every notice must still finish once
Logiqs is back, exactly once. Small version (1.5 s cooldown; the outage ends once two probes have reached the down
server, at most 120 s); the benchmark runs 2 minutes / 30 s.
"""

from __future__ import annotations

import pytest

from benchmarks.chaos import outage_run, save_blocks, verify

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]

OUTAGE_SECONDS = 120.0  # an upper bound: the outage ends on PROBES, so a slow machine cannot miss the window
COOLDOWN = 1.5
PROBES = 2


def test_outage_opens_the_circuit_probes_once_per_cooldown_and_every_notice_finishes(
    prefect_server, sandbox_factory, tmp_path
):
    sandbox = sandbox_factory(notices=14, seed=41, scanned_fraction=0.0)
    # Prefect retries (0.5 s doubling, 8 of them) must outlast the outage so the notices wait instead of failing.
    save_blocks(sandbox, "outage-small", tmp_path, task_retries=8, task_retry_delay_seconds=0.5)

    result = outage_run(sandbox, "outage-small", outage_seconds=OUTAGE_SECONDS, cooldown=COOLDOWN, after_tasks=2,
                         end_after_probes=PROBES)

    report, state = result["report"], result["state"]
    verdict = verify(sandbox)
    print(f"\noutage: {report} run={result['seconds']:.1f}s state={state.name}\nverdict: {verdict.model_dump()}")
    assert report["outage_started"], "the run ended before the outage began: nothing was tested"
    assert report["breaker_opened"], report
    assert report["one_probe_per_cooldown"], report
    assert report["probes"] >= PROBES, report  # the outage lasted until the breaker had probed (spacing above)
    assert report["hits_before_probes"] <= 5 + 4, report  # the breaker's threshold + requests already admitted
    assert state.is_completed(), state.message
    assert verdict.exactly_once and verdict.lost == 0, verdict
    assert verdict.matched + verdict.unmatched == verdict.in_scope
