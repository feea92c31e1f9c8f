"""Ledger throughput on both backends, side by side in one run: claim, record (write-ahead + confirm), finish.

    python benchmarks/ledger.py                     # 400 notices per round, 3 rounds, 1 and 4 workers
    python benchmarks/ledger.py --notices 2000 --rounds 5 --workers 1 2 4

Both backends are durable as in production: SQLite in WAL with synchronous=FULL, PostgreSQL with fsync and
synchronous_commit on (a throwaway cluster from tests/pg.py, unix socket, same disk as the SQLite file). Rounds
alternate the backends so load from other processes on the machine falls on both alike; medians are printed.
One notice = what the flow writes for a filed notice: claim, 2 stages, begin/record document, begin/record task,
target, finish (9 transactions). With several workers, each is a process pulling its own notices (``claim``
of disjoint keys); the figure is notices per second of all workers together.

Last line: ratios of PostgreSQL's throughput to SQLite's (above 1: PostgreSQL faster), e.g.
``postgres_vs_sqlite claim=0.71 record=0.65 finish=0.70 notices_1w=0.66 notices_4w=1.40``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mailroom.ledger import Ledger, NoticeKey, Outcome, Stage  # noqa: E402


def _keys(prefix: str, count: int) -> list[NoticeKey]:
    return [NoticeKey(file_id=f"{prefix}-{n:06d}", md5=f"{n:032x}") for n in range(count)]


def file_notices(url: str, prefix: str, count: int) -> dict[str, float]:
    """Walk ``count`` notices through every ledger write; seconds spent per kind of write."""
    ledger = Ledger.from_url(url)
    spent = {"claim": 0.0, "record": 0.0, "finish": 0.0}
    owner = f"bench-{prefix}"
    started = time.perf_counter()
    for n, key in enumerate(_keys(prefix, count)):
        t0 = time.perf_counter()
        ledger.claim(key, owner, 600, file_name=f"{key.file_id}.pdf")
        t1 = time.perf_counter()
        ledger.record_stage(key, owner, Stage.DOWNLOADED, lease_seconds=600)
        ledger.record_stage(key, owner, Stage.MATCHED_CASE, case_id=n, lease_seconds=600)
        ledger.begin_document(key, owner, n, lease_seconds=600)
        ledger.record_document(key, owner, 10_000 + n)
        ledger.begin_task(key, owner, n, lease_seconds=600)
        ledger.record_task(key, owner, 20_000 + n)
        ledger.record_target(key, owner, "matched", lease_seconds=600)
        t2 = time.perf_counter()
        ledger.finish(key, owner, Outcome.MATCHED)
        t3 = time.perf_counter()
        spent["claim"] += t1 - t0
        spent["record"] += (t2 - t1) / 7  # seven writes between the claim and the finish
        spent["finish"] += t3 - t2
    spent["wall"] = time.perf_counter() - started
    ledger.close()
    return spent


def _worker(url: str, prefix: str, count: int, start: Any, out: Any) -> None:
    Ledger.from_url(url).close()  # connect and import before the clock starts
    start.wait()
    out.put(file_notices(url, prefix, count))


def notices_per_second(url: str, workers: int, count: int, round_no: int) -> float:
    """``workers`` processes filing ``count`` notices each, started together; notices per second overall."""
    ctx = mp.get_context("spawn")
    start, out = ctx.Barrier(workers + 1), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, f"r{round_no}w{workers}-{n}", count, start, out))
             for n in range(workers)]
    for proc in procs:
        proc.start()
    start.wait()
    began = time.perf_counter()
    for _ in procs:
        out.get(timeout=1800)
    wall = time.perf_counter() - began
    for proc in procs:
        proc.join(60)
    return workers * count / wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=400, help="notices per worker per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args(argv)
    from tests.pg import ThrowawayPostgres

    results: dict[str, dict[str, list[float]]] = {"sqlite": {}, "postgresql": {}}
    with ThrowawayPostgres.start(durable=True) as pg, tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        urls = {"sqlite": f"sqlite:///{Path(tmp) / 'ledger.sqlite'}", "postgresql": pg.create_database("bench")}
        for url in urls.values():
            Ledger.from_url(url).close()  # schema created outside the measurement
        for round_no in range(args.rounds):
            for backend, url in urls.items():
                spent = file_notices(url, f"r{round_no}", args.notices)
                for op in ("claim", "record", "finish"):
                    results[backend].setdefault(op, []).append(args.notices / spent[op])  # writes per second
                for workers in args.workers:
                    rate = notices_per_second(url, workers, args.notices, round_no)
                    results[backend].setdefault(f"notices_{workers}w", []).append(rate)
                print(f"  round {round_no + 1} {backend}: " + ", ".join(
                    f"{name}={values[-1]:.0f}/s" for name, values in results[backend].items()), flush=True)
    median = {backend: {name: statistics.median(v) for name, v in by.items()} for backend, by in results.items()}
    for backend, figures in median.items():
        print(f"backend={backend} " + " ".join(f"{name}_per_s={value:.0f}" for name, value in figures.items()))
    ratios = {name: median["postgresql"][name] / median["sqlite"][name] for name in median["sqlite"]}
    print("postgres_vs_sqlite " + " ".join(f"{name}={ratio:.2f}" for name, ratio in ratios.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
