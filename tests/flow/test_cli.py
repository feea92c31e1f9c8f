"""`python flows/daily.py` as a person runs it (a subprocess, against the test server)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], server, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_API_URL": server.api_url, "PREFECT_HOME": str(tmp_path / "home"),
           "MAILROOM_STATE_DIR": str(tmp_path / "state")}
    return subprocess.run([sys.executable, str(ROOT / "flows" / "daily.py"), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)


def test_sandbox_demo_prints_a_summary_and_exits_0(prefect_server, tmp_path):
    done = _run(["--sandbox", "--notices", "6", "--fault-rate", "0.1"], prefect_server, tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    assert "Run Completed:" in done.stdout and "MATCHED" in done.stdout
    assert f"{prefect_server.ui_url}/runs/flow-run/" in done.stdout
    reports = list((tmp_path / "reports").glob("mailroom-*.xlsx"))
    assert len(reports) == 1 and str(reports[0]) in done.stdout


def test_without_blocks_it_says_exactly_what_is_missing(prefect_server, tmp_path):
    done = _run(["--blocks", "nowhere"], prefect_server, tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    for missing in ("logiqs-credentials/nowhere", "mailroom-drive-credentials/nowhere", "mailroom-settings/nowhere"):
        assert missing in done.stdout
    assert "python -m blocks.register" in done.stdout
