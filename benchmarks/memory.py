"""What a run holds per notice, at 10,000 notices: the parts of the flow process's memory that grow with N.

    python benchmarks/memory.py --notices 10000

A notice's bytes live on disk only while it is worked on (``concurrency`` at a time); what grows with the number of
notices is the listing (``DriveFile`` metadata), the report rows, the report files being written, the UI's notice
table, and whatever Prefect keeps per task run (measured separately: ``benchmarks/throughput.py`` prints the flow's
RSS growth per notice of a real run). This measures the first four at full size in one process, with the report
written both ways side by side (openpyxl's write-only mode, which mailroom uses, and a regular workbook), and prints
the process's RSS after importing the flow (the fixed cost) and its peak. Synthetic rows; no taxpayer data.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import tempfile
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=10_000)
    args = parser.parse_args(argv)

    import flows.daily  # noqa: F401 - the fixed cost: Prefect, googleapiclient, PyMuPDF, pydantic models
    from openpyxl import Workbook

    from mailroom.drive import PDF_MIME, DriveFile
    from mailroom.outcomes import Outcome
    from mailroom.report import COLUMNS, ReportRow, RunSummary, _cell, notice_table, write_report

    gc.collect()
    fixed = rss_mb()
    print(f"after importing the flow: {fixed:.0f} MB")
    created = datetime(2026, 1, 5, 8, tzinfo=timezone.utc)
    listing = [DriveFile(id=f"1{n:032d}", name=f"Scan_{n:06d} CP2000 SMITH.pdf", mime_type=PDF_MIME,
                         parents=["folder"], md5=f"{n:032x}", size=180_000, created_time=created + timedelta(seconds=n))
               for n in range(args.notices)]
    outcomes = [Outcome.MATCHED, Outcome.MATCHED, Outcome.MATCHED, Outcome.UNMATCHED]
    rows = [ReportRow(file_id=f.id, file_name=f.name, outcome=outcomes[n % 4], reason="MATCHED: one clear winner",
                      case_id=40_000 + n, document_name=f"IRS_CORR_CP2000_2023_DTD_01.05.2026_SMITH{n}.pdf",
                      document_id=90_000 + n, task_id=70_000 + n, letter_type="CP2000", tax_year=2023,
                      notice_date=date(2026, 1, 5), response_due_date=date(2026, 2, 4), ssn="***-**-1234",
                      match_score=0.97) for n, f in enumerate(listing)]
    gc.collect()
    held = rss_mb()
    print(f"listing + report rows of {args.notices:,} notices held: +{held - fixed:.0f} MB")

    with tempfile.TemporaryDirectory() as tmp:
        tracemalloc.start()
        write_report(rows, Path(tmp), "streamed")
        streamed = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        tracemalloc.start()
        book = Workbook()  # the previous way: every cell an object in memory until save
        sheet = book.active
        for row in rows:
            sheet.append([_cell(getattr(row, column)) for column in COLUMNS])
        book.save(Path(tmp) / "regular.xlsx")
        regular = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        del book, sheet
    print(f"writing the report: peak {streamed:.0f} MB allocated (write-only, mailroom) vs {regular:.0f} MB "
          f"(regular workbook)")
    table = notice_table(rows)
    summary = RunSummary.of(rows)
    gc.collect()
    print(f"UI notice table + summary built ({len(table):,} rows, {summary.total:,} notices): now {rss_mb():.0f} MB")
    print(f"fixed_mb={fixed:.0f} per_notice_kb={(held - fixed) * 1024 / args.notices:.1f} "
          f"report_write_only_mb={streamed:.0f} report_regular_mb={regular:.0f} "
          f"ratio_regular_to_write_only={regular / max(streamed, 0.1):.1f} peak_rss_mb={peak_mb():.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
