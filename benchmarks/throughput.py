"""Throughput of the daily flow on the sandbox: wall time against the rate-limit floor, call amplification,
seconds per file and peak memory, for a fault-free baseline and a faulty run over the same corpus.

    python benchmarks/throughput.py --notices 1000 --fault-rate 0.1
    python benchmarks/throughput.py --notices 60 --fault-rate 0.1 --concurrency 8

Both runs report to a `prefect server` started here (temporary PREFECT_HOME), like a production run. The floor is
the least time the baseline's requests can take at the client-side rate limits (Logiqs usually binds):
``max(logiqs_requests / logiqs_rate, drive_requests / drive_rate)``. Amplification is requests sent by the faulty
run over requests the baseline needed. Last line: the ratios.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from prefect.settings import PREFECT_API_URL, temporary_settings  # noqa: E402

from blocks.register import SandboxProfile, save_sandbox_blocks  # noqa: E402
from blocks.prefect_server import flush_run_records, start_server  # noqa: E402
from flows.records import summary_of  # noqa: E402
from mailroom.pipeline_settings import PipelineSettings  # noqa: E402



def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def run_once(sandbox: Any, workdir: Path, name: str, settings: dict[str, Any]) -> dict[str, Any]:
    from flows.daily import daily_mailroom

    save_sandbox_blocks(SandboxProfile.of(sandbox), name=name, state_dir=str(workdir / name / "state"),
                        report_dir=str(workdir / name / "reports"),
                        **{"review_enabled": False, **settings})  # outcomes as the manifest expects them
    before = sandbox.stats()
    started = time.perf_counter()
    state = daily_mailroom(blocks=name, return_state=True)
    wall = time.perf_counter() - started
    flush_run_records()
    after = sandbox.stats()
    summary = summary_of(state)
    return {
        "state": state.name,
        "wall": wall,
        "summary": summary,
        "drive_requests": after["drive"]["requests"] - before["drive"]["requests"],
        "logiqs_requests": after["logiqs"]["requests"] - before["logiqs"]["requests"],
        "faults": sum(after["drive"]["faults"].values()) + sum(after["logiqs"]["faults"].values())
        - sum(before["drive"]["faults"].values()) - sum(before["logiqs"]["faults"].values()),
        "duplicates": after["logiqs"]["duplicates"]["total"],
    }


def describe(label: str, result: dict[str, Any], notices: int) -> None:
    s = result["summary"]
    counts = f"{s.matched} MATCHED / {s.unmatched} UNMATCHED / {s.failed} FAILED" if s else "no summary"
    print(f"{label:9s} {result['state']:9s} wall={result['wall']:7.1f}s  {result['wall'] / notices:5.2f} s/file  "
          f"drive={result['drive_requests']:6d} logiqs={result['logiqs_requests']:6d} faults={result['faults']:5d}  "
          f"{counts}  retries task={s.task_retries if s else 0} call={s.call_retries if s else 0}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)

    from mailroom_sandbox.stack import Sandbox

    workdir = Path(tempfile.mkdtemp(prefix="mailroom-throughput-"))
    settings = dict(concurrency=args.concurrency, call_initial_delay=0.25, call_max_delay=5.0,
                    task_retry_delay_seconds=1.0, task_retries=4)
    drive_rate = PipelineSettings().drive_calls_per_second
    logiqs_rate = PipelineSettings().logiqs_calls_per_second  # the sandbox server allows 10/s
    server = start_server(home=workdir / "prefect-home", log_path=workdir / "prefect-server.log")
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            print(f"generating/loading a corpus of {args.notices} notices (seed {args.seed}) ...", flush=True)
            with Sandbox(notices=args.notices, seed=args.seed) as sandbox:
                in_scope = len(sandbox.corpus.in_scope())
                baseline = run_once(sandbox, workdir, "baseline", settings)
            with Sandbox(notices=args.notices, seed=args.seed, fault_rate=args.fault_rate) as sandbox:
                faulty = run_once(sandbox, workdir, "faulty", settings)
    finally:
        server.stop()

    floor = max(baseline["logiqs_requests"] / logiqs_rate, baseline["drive_requests"] / drive_rate)
    requests = lambda r: r["drive_requests"] + r["logiqs_requests"]  # noqa: E731
    print(f"{in_scope} notices in scope, concurrency {args.concurrency}, fault rate {args.fault_rate:.0%}; "
          f"floor {floor:.1f}s (Logiqs {baseline['logiqs_requests']} req at {logiqs_rate:g}/s, "
          f"Drive {baseline['drive_requests']} req at {drive_rate:g}/s)")
    describe("baseline", baseline, in_scope)
    describe("faulty", faulty, in_scope)
    print(f"peak RSS {peak_rss_mb():.0f} MB (flow process, both runs)")
    print(
        f"ratio_to_floor={faulty['wall'] / floor:.2f} baseline_ratio_to_floor={baseline['wall'] / floor:.2f} "
        f"slowdown_vs_baseline={faulty['wall'] / baseline['wall']:.2f} "
        f"amplification={requests(faulty) / requests(baseline):.2f} "
        f"logiqs_amplification={faulty['logiqs_requests'] / baseline['logiqs_requests']:.2f} "
        f"s_per_file={faulty['wall'] / in_scope:.3f} peak_rss_mb={peak_rss_mb():.0f} "
        f"failed={faulty['summary'].failed if faulty['summary'] else -1} duplicates={faulty['duplicates']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
