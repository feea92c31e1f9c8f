"""Run work dirs: private, inside the state dir, removed at the end, and swept by the next run after a kill -9."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from mailroom.workdirs import (
    LEGACY_MAX_AGE_SECONDS,
    UNLOCKED_GRACE_SECONDS,
    RunWorkdir,
    sweep_dead,
    sweep_legacy,
    work_root,
)

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_run_gets_a_private_dir_in_the_state_dir_and_leaves_nothing(tmp_path):
    state = tmp_path / "state"
    with RunWorkdir(state, owner="0d7c-flow-run-id") as workdir:
        (workdir / "notice.pdf").write_bytes(b"%PDF- full SSN inside")
        assert workdir.parent == state / "work" and workdir.name.startswith("run-0d7cflowrun")
        assert _mode(workdir) == 0o700 and _mode(state / "work") == 0o700
        assert sweep_dead(state) == []  # held by this live run: another open of its lock cannot take it
    assert list((state / "work").iterdir()) == []


def test_a_loosened_work_root_is_tightened_again(tmp_path):
    root = tmp_path / "work"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    assert _mode(work_root(tmp_path)) == 0o700


def test_the_dir_of_a_killed_run_is_swept_and_a_live_ones_is_not(tmp_path):
    state = tmp_path / "state"
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            from mailroom.workdirs import RunWorkdir
            with RunWorkdir(Path({str(state)!r}), owner="killed-run") as workdir:
                (workdir / "abc.pdf.part").write_bytes(b"%PDF- half a notice")
                print(workdir, flush=True)
                time.sleep(600)
        """)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True,
    )
    try:
        workdir = Path(child.stdout.readline().strip())  # the child has its dir, locked, with a partial download
        assert (workdir / "abc.pdf.part").is_file()
        assert sweep_dead(state) == [] and workdir.exists()  # alive: left alone

        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        assert workdir.exists()  # a killed run cannot clean up after itself ...

        assert sweep_dead(state) == [workdir.name]  # ... the next run does
        assert not workdir.exists()
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
        child.stdout.close()


def test_a_dir_not_locked_yet_is_left_alone_for_a_grace_period(tmp_path):
    half_made = work_root(tmp_path) / "run-starting-abc"
    half_made.mkdir(mode=0o700)
    now = time.time()
    assert sweep_dead(tmp_path, now=now) == []
    assert sweep_dead(tmp_path, now=now + UNLOCKED_GRACE_SECONDS + 1) == ["run-starting-abc"]
    assert not half_made.exists()


def test_old_versions_temp_dirs_are_removed_once_a_day_old(tmp_path):
    old, young, other = tmp_path / "mailroom-run-old", tmp_path / "mailroom-run-young", tmp_path / "unrelated"
    for path in (old, young, other):
        path.mkdir()
        (path / "x.pdf").write_bytes(b"%PDF-")
    day_ago = time.time() - LEGACY_MAX_AGE_SECONDS - 60
    os.utime(old, (day_ago, day_ago))
    os.utime(other, (day_ago, day_ago))

    assert sweep_legacy(tmp_path) == ["mailroom-run-old"]
    assert not old.exists() and young.exists() and other.exists()
