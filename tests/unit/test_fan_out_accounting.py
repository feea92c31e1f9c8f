"""The daily run accounts for every notice of a fanned-out run, whatever its batch runs did (no Prefect needed:
the accounting is a plain function over the rows handed over, the batch runs' final states and the ledger)."""

from __future__ import annotations

from flows.fan_out import account_for_every_notice, batches
from mailroom.drive import PDF_MIME, DriveFile
from mailroom.ledger import Ledger, NoticeKey
from mailroom.outcomes import Outcome
from mailroom.report import ReportRow


def _file(n: int) -> DriveFile:
    return DriveFile(id=f"f{n}", name=f"notice {n}.pdf", mime_type=PDF_MIME, md5=f"{n:032x}")


def test_every_notice_gets_a_row_or_counts_as_skipped(tmp_path):
    files = [_file(n) for n in range(7)]
    groups = batches(files, 3)
    assert [[f.id for f in g] for g in groups] == [["f0", "f1", "f2"], ["f3", "f4", "f5"], ["f6"]]
    handed_over = [ReportRow(file_id="f0", file_name="notice 0.pdf", outcome=Outcome.MATCHED),
                   ReportRow(file_id="f2", file_name="notice 2.pdf", outcome=Outcome.UNMATCHED)]
    ledger = Ledger(tmp_path / "ledger.sqlite")
    # f4 was filed by batch 1 before its process was killed: the ledger knows, the report must say so
    key = NoticeKey(file_id="f4", md5=files[4].md5)
    ledger.claim(key, "batch-1", 60)
    ledger.finish(key, "batch-1", Outcome.UNMATCHED, reason="NO_MATCH: no case")

    rows, skipped = account_for_every_notice(
        handed_over, list(enumerate(groups)),
        final_states=[("COMPLETED", "Completed"), ("CRASHED", "Crashed"), None], dry_run=False, ledger=ledger)

    by_id = {row.file_id: row for row in rows}
    assert skipped == 1  # f1: batch 0 completed without a row for it (another run held it)
    assert sorted(by_id) == ["f0", "f2", "f3", "f4", "f5", "f6"]
    assert by_id["f3"].outcome is Outcome.FAILED and by_id["f3"].reason == "batch: its batch flow run (1) ended Crashed"
    assert by_id["f3"].failed_step == "batch"
    assert by_id["f4"].outcome is Outcome.UNMATCHED and "ended Crashed before reporting" in by_id["f4"].reason
    assert by_id["f6"].outcome is Outcome.FAILED and by_id["f6"].reason.endswith("ended not finished")
