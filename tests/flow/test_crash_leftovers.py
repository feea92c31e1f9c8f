"""What a kill -9 leaves behind, and who cleans it: the flow runs in a child process (``python flows/daily.py``) with
its own empty temp dir; the sandbox lives in the test process and forces the interleaving with request hooks."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from benchmarks.chaos import run_flow_child, save_blocks, verify
from mailroom.ledger import Ledger, default_ledger_path

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]


def _leftovers(temp_dir: Path) -> list[str]:
    """Anything a run could have left in the temp dir: an old-style run folder, a notice, a partial download."""
    return sorted(str(p.relative_to(temp_dir)) for p in temp_dir.rglob("*")
                  if p.name.startswith("mailroom-run-") or ".pdf" in p.name.lower())


def test_a_run_killed_mid_download_leaves_nothing_once_the_next_run_is_over(prefect_server, sandbox_factory,
                                                                            tmp_path):
    sandbox = sandbox_factory(notices=4, seed=41, scanned_fraction=0.0, include_bad_files=False)
    save_blocks(sandbox, "mid-download", tmp_path)
    state_dir, temp_dir = tmp_path / "state", tmp_path / "system-tmp"
    temp_dir.mkdir()
    held, release = threading.Event(), threading.Event()

    def hold_the_first_download(request) -> None:
        """The first media request waits here: the child is then mid-download, its partial file open."""
        if request.endpoint == "files.get" and request.query_value("alt") == "media" and not held.is_set():
            held.set()
            release.wait(timeout=240)

    sandbox.drive.server.add_request_hook(hold_the_first_download)
    try:
        killed = run_flow_child("mid-download", prefect_server.api_url, tmp_path, kill_when=held.is_set,
                                env={"TMPDIR": str(temp_dir)}, log_name="killed.log")
    finally:
        release.set()
    assert killed.killed, (tmp_path / "killed.log").read_text(errors="replace")[-3000:]
    work_dirs = list((state_dir / "work").iterdir())
    assert len(work_dirs) == 1 and list(work_dirs[0].glob("*.pdf.part")), "the kill did not land mid-download"

    finished = run_flow_child("mid-download", prefect_server.api_url, tmp_path, env={"TMPDIR": str(temp_dir)},
                              log_name="next.log")

    assert finished.returncode == 0, (tmp_path / "next.log").read_text(errors="replace")[-3000:]
    assert list((state_dir / "work").iterdir()) == []  # the killed run's dir (and the next run's own) are gone
    assert _leftovers(temp_dir) == []  # and nothing went to the temp dir, ever
    verdict = verify(sandbox)
    assert verdict.exactly_once and verdict.matched + verdict.unmatched == verdict.in_scope, verdict
    assert all(record.finished for record in Ledger(default_ledger_path(state_dir)).records())
