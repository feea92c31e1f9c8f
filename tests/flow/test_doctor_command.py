"""`python -m mailroom doctor --blocks NAME` as an operator runs it: a subprocess reading blocks from a real Prefect
server, checking the sandbox they point at, printing the table and exiting 0 / 1 / 2. Nothing is ever written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from blocks.register import SandboxProfile, save_sandbox_blocks
from tests.integration.test_doctor import assert_nothing_written

pytestmark = [pytest.mark.prefect_server]
ROOT = Path(__file__).resolve().parents[2]


def doctor(api_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PREFECT_API_URL=api_url, PYTHONPATH=str(ROOT), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    return subprocess.run([sys.executable, "-m", "mailroom", "doctor", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def sandbox(prefect_server):
    from mailroom_sandbox.stack import Sandbox

    with Sandbox(notices=2, seed=12, logiqs_dialect="v3-findcase") as running:
        yield running


def test_doctor_on_the_sandbox_blocks_is_all_green(prefect_server, sandbox, tmp_path):
    save_sandbox_blocks(SandboxProfile.of(sandbox), name="doctor-ok", state_dir=str(tmp_path / "state"))
    result = doctor(prefect_server.api_url, "--blocks", "doctor-ok")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ready: nothing blocks a run" in result.stdout and "v3-findcase answers" in result.stdout
    assert " FAIL " not in result.stdout and " WARN " not in result.stdout
    assert sandbox.logiqs_secret not in result.stdout + result.stderr
    assert_nothing_written(sandbox)


def test_doctor_names_each_problem_and_exits_non_zero(prefect_server, sandbox, tmp_path):
    key, secret = sandbox.limited_api_key  # no task.write
    profile = SandboxProfile.of(sandbox).model_copy(update={
        "logiqs_api_key": key, "logiqs_secret": secret, "logiqs_search_dialect": "v4-findcase"})
    save_sandbox_blocks(profile, name="doctor-broken", state_dir=str(tmp_path / "state"),
                        unmatched_folder_id="no-such-folder")
    result = doctor(prefect_server.api_url, "--blocks", "doctor-broken")
    assert result.returncode == 1, result.stdout + result.stderr
    for named in ("unmatched_folder_id", "no-such-folder", "task.write", "search_dialect = v3-findcase", "BLOCKED"):
        assert named in result.stdout, named
    assert secret not in result.stdout + result.stderr
    assert_nothing_written(sandbox)


def test_missing_blocks_and_a_missing_server(prefect_server):
    missing = doctor(prefect_server.api_url, "--blocks", "doctor-nothing-here")
    assert missing.returncode == 1 and "no such block" in missing.stdout
    nobody = doctor("http://127.0.0.1:9/api")
    assert nobody.returncode == 2 and "No Prefect server answers" in nobody.stderr
    usage = subprocess.run([sys.executable, "-m", "mailroom"], cwd=ROOT, capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)
    assert usage.returncode == 2 and "python -m mailroom doctor" in usage.stderr
