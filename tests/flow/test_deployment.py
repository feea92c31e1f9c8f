"""`prefect deploy --all` with the project's prefect.yaml, a process worker, a run triggered from the CLI, completed
against the sandbox: what an operator does, in the same order."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client

from blocks.register import SandboxProfile, save_sandbox_blocks
from blocks.prefect_server import prefect_cli
from mailroom.report import Outcome

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def _cli(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([*prefect_cli(), "--no-prompt", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def _wait_final(flow_run_id: UUID, timeout: float = 180.0):
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            run = client.read_flow_run(flow_run_id)
            if run.state is not None and run.state.is_final():
                return run
            time.sleep(1.0)
    raise AssertionError(f"flow run {flow_run_id} not final after {timeout:.0f}s (state {run.state_name})")


def test_deploy_all_then_a_process_worker_completes_a_cli_triggered_run(prefect_server, tmp_path):
    from mailroom_sandbox.stack import Sandbox

    env = {**os.environ, "PREFECT_API_URL": prefect_server.api_url, "PREFECT_HOME": str(tmp_path / "home"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PWD": str(ROOT)}  # PWD: prefect.yaml's pull step
    _cli(["work-pool", "create", "mailroom-process", "--type", "process", "--overwrite"], env)
    _cli(["deploy", "--all"], env)

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("daily-mailroom/daily-mailroom")
    assert deployment.work_pool_name == "mailroom-process"
    assert deployment.parameters["blocks"] == "default" and deployment.parameters["dry_run"] is False
    assert {"mailroom", "drive", "logiqs"} <= set(deployment.tags)
    (schedule,) = deployment.schedules
    assert schedule.schedule.cron == "0 7 * * 1-5" and schedule.schedule.timezone == "America/New_York"
    with get_client(sync_client=True) as client:  # the review flow's deployment, started by the daily run
        review = client.read_deployment_by_name("review-mailroom/review-mailroom")
    assert review.work_pool_name == "mailroom-process" and not review.schedules
    assert set(review.parameter_openapi_schema["required"]) == {"review_id"}

    with Sandbox(notices=6, seed=3) as sandbox:
        save_sandbox_blocks(SandboxProfile.of(sandbox), name="deploytest", state_dir=str(tmp_path / "state"),
                            report_dir=str(tmp_path / "reports"), task_retry_delay_seconds=0.2,
                            review_enabled=False)  # effects are counted from the manifest
        out = _cli(["deployment", "run", "daily-mailroom/daily-mailroom", "--param", "blocks=deploytest"], env)
        flow_run_id = UUID(re.search(r"UUID:\s*([0-9a-f-]{36})", out).group(1))
        worker = subprocess.Popen(
            [*prefect_cli(), "worker", "start", "--pool", "mailroom-process", "--limit", "1"], cwd=tmp_path,
            env=env, stdout=open(tmp_path / "worker.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            run = _wait_final(flow_run_id)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        log_tail = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
        assert run.state.is_completed(), f"{run.state.name}: {run.state.message}\n{log_tail}"
        expected_matched = sum(f.expected_outcome.value == Outcome.MATCHED.value for f in sandbox.corpus.in_scope())
        stats = sandbox.stats()["logiqs"]
        assert stats["documents_total"] == expected_matched == stats["tasks_total"]
        assert len(sandbox.drive.files_in(sandbox.folders.matched)) == expected_matched
