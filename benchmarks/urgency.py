"""What filing the most urgent notices first costs: the daily flow with ``file_most_urgent_first`` on (read every
notice, then file by days left) and off (file each notice as soon as it is read), side by side on the same corpus.

    python benchmarks/urgency.py --notices 200
    python benchmarks/urgency.py --notices 100 --scanned-fraction 0 --concurrency 4

Both runs report to a `prefect server` started here, each on a fresh sandbox seeded from the same corpus (dated as
of the sandbox's today, so some notices are overdue and CP504s are days from their deadline). Printed per run: wall
time, when the first and the last document was filed (seconds from the start), and how far the filing order is from
the urgency order (the share of document pairs filed in the wrong order, 0 = exactly most urgent first). Numbers on
our own generator and emulator: tuned, not a forecast for production. Last line: the ratios.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from prefect.settings import PREFECT_API_URL, temporary_settings  # noqa: E402

from blocks.prefect_server import flush_run_records, start_server  # noqa: E402
from blocks.register import SandboxProfile, save_sandbox_blocks  # noqa: E402
from benchmarks.chaos import MARKER  # noqa: E402  (the notice's marker in a document's comment: its Drive id)
from flows.records import summary_of  # noqa: E402



def run_once(sandbox: Any, workdir: Path, name: str, ordered: bool, concurrency: int) -> dict[str, Any]:
    from flows.daily import daily_mailroom

    save_sandbox_blocks(SandboxProfile.of(sandbox), name=name, state_dir=str(workdir / name / "state"),
                        report_dir=str(workdir / name / "reports"), concurrency=concurrency,
                        file_most_urgent_first=ordered, review_enabled=False, call_initial_delay=0.25,
                        task_retry_delay_seconds=1.0)
    started_at = time.time()
    started = time.perf_counter()
    state = daily_mailroom(blocks=name, return_state=True)
    wall = time.perf_counter() - started
    flush_run_records()
    due_by_drive_id = {sandbox.file_ids[f.key]: f.notice.response_due_date
                       for f in sandbox.corpus.in_scope() if f.notice is not None}
    filed = sorted((d.created.timestamp() - started_at, due_by_drive_id[m.group(1)])
                   for d in sandbox.logiqs.store.documents if (m := MARKER.search(d.comment or "")))
    pairs = list(combinations(filed, 2))  # (earlier filed, later filed)
    inversions = sum(1 for (_, due_a), (_, due_b) in pairs if due_a > due_b)
    return {"state": state.name, "wall": wall, "summary": summary_of(state), "first": filed[0][0] if filed else 0.0,
            "last": filed[-1][0] if filed else 0.0, "documents": len(filed),
            "out_of_order": inversions / len(pairs) if pairs else 0.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=200)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--scanned-fraction", type=float, default=0.2)
    parser.add_argument("--api-url", default=None, help="report to this running Prefect server instead of a new one")
    args = parser.parse_args(argv)

    from mailroom_sandbox.stack import SANDBOX_TODAY, Sandbox

    workdir = Path(tempfile.mkdtemp(prefix="mailroom-urgency-"))
    corpus = dict(notices=args.notices, seed=args.seed, scanned_fraction=args.scanned_fraction, as_of=SANDBOX_TODAY)
    server = None if args.api_url else start_server(home=workdir / "prefect-home",
                                                    log_path=workdir / "prefect-server.log")
    results: dict[str, dict[str, Any]] = {}
    try:
        with temporary_settings(updates={PREFECT_API_URL: args.api_url or server.api_url}):
            for label, ordered in (("as-read", False), ("urgent-1st", True)):
                with Sandbox(**corpus) as sandbox:
                    results[label] = run_once(sandbox, workdir, label, ordered, args.concurrency)
    finally:
        if server is not None:
            server.stop()

    for label, r in results.items():
        s = r["summary"]
        print(f"{label:10s} {r['state']:9s} wall={r['wall']:7.1f}s  documents={r['documents']:4d}  "
              f"first filed at {r['first']:6.1f}s  last at {r['last']:6.1f}s  out_of_order={r['out_of_order']:.3f}  "
              f"({s.matched if s else '?'} MATCHED, {s.overdue if s else '?'} overdue, "
              f"{s.due_this_week if s else '?'} due this week)")
    plain, ordered = results["as-read"], results["urgent-1st"]
    print(f"wall_ratio={ordered['wall'] / plain['wall']:.2f} "
          f"first_filing_delay_ratio={ordered['first'] / max(plain['first'], 1e-9):.2f} "
          f"out_of_order_as_read={plain['out_of_order']:.3f} out_of_order_urgent_first={ordered['out_of_order']:.3f} "
          f"concurrency={args.concurrency} notices={args.notices} (tuned: own generator and emulators)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
