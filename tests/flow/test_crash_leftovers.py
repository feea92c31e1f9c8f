"""What a kill -9 leaves behind, and who cleans it: the flow runs in a child process (``python flows/daily.py``) with
its own empty temp dir; the sandbox lives in the test process and forces the interleaving with request hooks."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from benchmarks.chaos import run_flow_child, save_blocks, verify
from mailroom.ledger import Ledger, default_ledger_path
from mailroom.outcomes import Outcome
from mailroom.report import read_csv

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


def test_a_run_killed_between_the_move_and_the_ledger_update_is_reported_by_the_next_run(prefect_server,
                                                                                        sandbox_factory, tmp_path):
    """The Drive emulator has committed the first MATCHED move and holds its answer until the child is dead: the file
    sits in MATCHED with its document and task, its ledger row unfinished. The next run reconciles it."""
    sandbox = sandbox_factory(notices=4, seed=43, scanned_fraction=0.0, include_bad_files=False)
    save_blocks(sandbox, "move-kill", tmp_path)
    moved: list[str] = []
    committed, killed = threading.Event(), threading.Event()

    def hold_the_answer_to_the_first_matched_move(request, response) -> None:
        if (request.endpoint == "files.update" and response.status == 200 and not moved
                and request.query_value("addParents") == sandbox.folders.matched):
            moved.append(request.path_params["fileId"])
            committed.set()
            killed.wait(timeout=240)  # the child never hears that its move succeeded

    sandbox.drive.server.add_response_hook(hold_the_answer_to_the_first_matched_move)
    try:
        run = run_flow_child("move-kill", prefect_server.api_url, tmp_path, kill_when=committed.is_set,
                             log_name="killed.log")
    finally:
        killed.set()
    assert run.killed, (tmp_path / "killed.log").read_text(errors="replace")[-3000:]
    ledger = Ledger(default_ledger_path(tmp_path / "state"))
    (left,) = [r for r in ledger.unfinished() if r.key.file_id == moved[0]]
    assert left.document_id and left.task_id and left.target_folder_id == sandbox.folders.matched
    assert moved[0] in {f.id for f in sandbox.drive.files_in(sandbox.folders.matched)}

    finished = run_flow_child("move-kill", prefect_server.api_url, tmp_path, log_name="next.log")

    assert finished.returncode == 0, (tmp_path / "next.log").read_text(errors="replace")[-3000:]
    (report,) = (tmp_path / "reports").glob("*.csv")  # the killed run wrote none
    rows = [row for row in read_csv(report) if row.file_id == moved[0]]
    assert [(row.outcome, row.reconciled, row.document_id) for row in rows] == [
        (Outcome.MATCHED, True, left.document_id)]
    assert ledger.unfinished() == []
    assert verify(sandbox).exactly_once
