"""A demo run after a crash: Prefect's background-server pid file names a dead process (blocks.prefect_server)."""

from __future__ import annotations

import os
import subprocess
import sys

from blocks.prefect_server import clear_stale_pid_file


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_pid_file_naming_a_dead_process_is_removed(tmp_path):
    (tmp_path / "server.pid").write_text(str(_dead_pid()))
    assert clear_stale_pid_file(tmp_path) and not (tmp_path / "server.pid").exists()


def test_a_live_servers_pid_file_and_a_missing_or_garbled_one_are_left_alone(tmp_path):
    (tmp_path / "server.pid").write_text(str(os.getpid()))
    assert not clear_stale_pid_file(tmp_path) and (tmp_path / "server.pid").exists()
    (tmp_path / "server.pid").write_text("not a pid")
    assert not clear_stale_pid_file(tmp_path) and (tmp_path / "server.pid").exists()
    (tmp_path / "server.pid").unlink()
    assert not clear_stale_pid_file(tmp_path)
