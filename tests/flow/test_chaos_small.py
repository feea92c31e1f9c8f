"""Small-N chaos: the real daily flow on the sandbox with 20 % transient faults plus 15 % commit-then-lose
POSTs (denser than the benchmark's 5 % so that a small run loses several responses).

Evidence comes from the sandbox, not from the flow: every in-scope file in the folder the manifest expects, exactly
one marked document and one marked task per MATCHED notice, none elsewhere. The full sizes run in
benchmarks/chaos.py.
"""

from __future__ import annotations

import pytest

from benchmarks.chaos import requests_seen, run_flow_here, save_blocks, verify
from mailroom.ledger import Ledger, Outcome, default_ledger_path
from mailroom_sandbox.http.faults import FaultConfig

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]

NOTICES = 12


def test_faults_and_lost_responses_file_every_notice_exactly_once(prefect_server, sandbox_factory, tmp_path):
    sandbox = sandbox_factory(notices=NOTICES, seed=21, scanned_fraction=0.0)
    state_dir = save_blocks(sandbox, "chaos-small", tmp_path)
    chaos = FaultConfig.uniform(0.2, seed=21, ambiguous_rate=0.15, hang_seconds=1.0)
    sandbox.set_faults(chaos)

    state = run_flow_here("chaos-small")

    verdict = verify(sandbox)
    stats = sandbox.stats()
    lost_responses = sum(n for kind, n in stats["logiqs"]["faults"].items() if kind.startswith("ambiguous"))
    print(f"\nchaos-small: {verdict.model_dump()} logiqs_requests={requests_seen(sandbox)['logiqs']} "
          f"lost_responses={lost_responses} state={state.name}")
    assert lost_responses >= 1, "no POST lost its response: the run proved nothing about duplicates"
    assert verdict.exactly_once, verdict
    # Agreement with the manifest is extraction/matching accuracy (reported, asserted in tests/flow/test_daily_flow);
    # what this test owns is that the folder agrees with the outcome the run recorded.
    assert verdict.matched + verdict.unmatched == verdict.in_scope
    assert state.is_completed(), state.message
    records = Ledger(default_ledger_path(state_dir)).records()
    assert len(records) == verdict.in_scope
    assert {r.outcome for r in records} <= {Outcome.MATCHED, Outcome.UNMATCHED}
    assert sum(r.outcome is Outcome.MATCHED for r in records) == verdict.matched
    assert all(r.document_id and r.task_id for r in records if r.outcome is Outcome.MATCHED)
    assert not any(r.document_id or r.task_id for r in records if r.outcome is Outcome.UNMATCHED)
