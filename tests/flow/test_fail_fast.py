"""A bad Logiqs key, a missing scope or a search dialect the tenant does not serve stops the run before any notice
is touched: clear message, zero retries."""

from __future__ import annotations

import pytest

from blocks.register import SandboxProfile, save_sandbox_blocks
from tests.flow.test_daily_flow import run_flow

pytestmark = [pytest.mark.prefect_server]

# Generous retry settings: the point is that none of them is used for a permanent error.
RETRY_HAPPY = dict(call_max_retries=3, call_initial_delay=0.05, task_retries=3, task_retry_delay_seconds=0.2)


def logiqs_requests(sandbox) -> int:
    """Requests Logiqs saw, including those to a route it does not serve (answered 404 before any counting)."""
    stats = sandbox.stats()["logiqs"]
    return stats["requests"] + sum(stats["calls"].get("<unrouted>", {}).values())


@pytest.fixture(scope="module")
def small_sandbox(prefect_server):
    from mailroom_sandbox.stack import Sandbox

    with Sandbox(notices=3, seed=5) as sandbox:
        yield sandbox


@pytest.mark.parametrize(
    ("case", "expected_words"),
    [("bad-key", ["Logiqs", "401"]), ("missing-scope", ["Logiqs", "task.write"]),
     ("wrong-dialect", ["Logiqs", "404", "mailroom doctor"])],
)
def test_access_problems_fail_fast_without_retries(small_sandbox, tmp_path, case, expected_words):
    sandbox = small_sandbox
    profile = SandboxProfile.of(sandbox)
    if case == "bad-key":
        profile = profile.model_copy(update={"logiqs_secret": "not-the-secret"})
    elif case == "wrong-dialect":  # the sandbox serves V4 FindCase
        profile = profile.model_copy(update={"logiqs_search_dialect": "v3-findcase"})
    else:
        key, secret = sandbox.limited_api_key  # case.read + case.write, no task.write
        profile = profile.model_copy(update={"logiqs_api_key": key, "logiqs_secret": secret})
    save_sandbox_blocks(profile, name=f"failfast-{case}", state_dir=str(tmp_path / "state"),
                        report_dir=str(tmp_path / "reports"), **RETRY_HAPPY)
    inputs_before = {fid: sandbox.drive.store.get(fid).parents for fid in sandbox.file_ids.values()}
    requests_before = logiqs_requests(sandbox)

    state, runs = run_flow(f"failfast-{case}")

    assert state.is_failed()
    assert state.message.startswith("Cannot start:")
    for word in expected_words:
        assert word in state.message, state.message
    assert [run.task_key.rsplit("-", 1)[0] for run in runs] == ["check_logiqs_access"]  # nothing else started
    assert runs[0].run_count == 1 and runs[0].state_type.value == "FAILED"
    probes = logiqs_requests(sandbox) - requests_before
    assert 1 <= probes <= 3, probes  # one probe per scope at most, none repeated
    assert {fid: sandbox.drive.store.get(fid).parents for fid in sandbox.file_ids.values()} == inputs_before
    assert "not-the-secret" not in state.message
