"""Scale-out: the daily run fanned out over N process workers, one PostgreSQL ledger, shared Prefect rate limits.

    python benchmarks/scale.py --workers 2 --notices 400 --fault-rate 0.1
    python benchmarks/scale.py --workers 2 --notices 40 --fault-rate 0.1 --batch-size 5     # a quick look

What runs where: a real `prefect server` (temporary home), a throwaway PostgreSQL cluster (tests/pg.py, the ledger
and the batches' report rows), the sandbox emulators in this process (so the Logiqs emulator can timestamp every
request it receives), N `prefect worker start --pool mailroom-process` processes, each running the batch flow runs
(`process-notices` deployment, one child process per flow run), and the parent daily run in this process. The
evidence is the sandbox's: documents/tasks counted by notice marker, Drive folders (benchmarks/chaos.verify).

floor = max(rate floor, CPU floor): rate floor = Logiqs requests that got an answer (not a fault) at the
configured Logiqs rate; CPU floor = extraction CPU-seconds measured in the batches (their threads + their child
processes) / the machine's cores. Figures on the sandbox corpus are tuned (docs/operations.md).

Last line: ``workers=2 duplicates=0 lost=0 max_logiqs_1s=X limit=Y ratio_to_floor=Z``.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.chaos import FAST_SETTINGS, verify  # noqa: E402

BLOCKS = "scale"
BATCH_DEPLOYMENT = "process-notices/process-notices"


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most timestamps that fall in any interval [t, t + window)."""
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)), default=0)


class RequestClock:
    """Arrival time of every request an emulator receives (its request hook runs before throttling or faults)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, _request: Any) -> None:
        now = time.monotonic()
        with self._lock:
            self.times.append(now)


def prefect(args: list[str], env: dict[str, str], cwd: Path = ROOT) -> str:
    from blocks.prefect_server import prefect_cli

    done = subprocess.run([*prefect_cli(), "--no-prompt", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"prefect {' '.join(args)} failed: {done.stdout[-1500:]}{done.stderr[-1500:]}")
    return done.stdout


def start_workers(count: int, limit: int, env: dict[str, str], workdir: Path) -> list[subprocess.Popen]:
    from blocks.prefect_server import prefect_cli

    workers = []
    for n in range(count):
        log = (workdir / f"worker-{n}.log").open("wb")
        workers.append(subprocess.Popen(
            [*prefect_cli(), "worker", "start", "--pool", "mailroom-process", "--limit", str(limit),
             "--name", f"scale-worker-{n}"],
            cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        ))
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:  # our own children only, by process group
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    # Prefect 3.9's process worker logs "Received SIGTERM. Sending SIGINT to the process worker" and then often never
    # exits (seen in every flow-test run here, its runs final and their logs sent): the wait was 30 s per worker.
    # We stop workers only once their runs are final, so a short grace, then SIGKILL.
    deadline = time.monotonic() + 5
    for worker in workers:
        try:
            worker.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)


def batch_timings(parent_id: Any) -> list[dict[str, Any]]:
    """Step times each batch put at the end of its final state's message (flows/batch.py)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter

    from flows.batch import TIMING_MARK
    timings = []
    with get_client(sync_client=True) as client:
        offset = 0
        while True:
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(), limit=200, offset=offset)
            for run in runs:
                message = (run.state.message or "") if run.state else ""
                if run.parameters.get("parent_run_id") == str(parent_id) and TIMING_MARK in message:
                    timings.append(json.loads(message.split(TIMING_MARK, 1)[1]))
            if len(runs) < 200:
                return timings
            offset += 200


def add_timings(timings: list[dict[str, Any]]) -> dict[str, Any]:
    steps: dict[str, dict[str, float]] = {}
    for timing in timings:
        for name, step in timing["steps"].items():
            total = steps.setdefault(name, dict(runs=0, calls=0, inside=0.0, around=0.0))
            for field in total:
                total[field] += step[field]
    cpu = sum(t["extract_thread_cpu"] + t["child_cpu"] for t in timings)
    waits: dict[str, float] = {}
    for timing in timings:
        for service, seconds in timing.get("limiter_wait", {}).items():
            waits[service] = waits.get(service, 0.0) + seconds
    return {"steps": steps, "extract_cpu": cpu, "limiter_wait": waits}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--notices", type=int, default=400)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=25)
    parser.add_argument("--concurrency", type=int, default=4, help="notices at once inside one batch run")
    parser.add_argument("--worker-limit", type=int, default=2, help="flow runs at once per worker")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scanned-fraction", type=float, default=0.2)
    parser.add_argument("--reruns", type=int, default=2, help="runs after one that left FAILED notices")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)

    import logging

    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_ANALYTICS_ENABLED, temporary_settings

    from blocks.prefect_server import flush_run_records, start_server
    from blocks.register import SandboxProfile, save_sandbox_blocks
    from mailroom.pipeline_settings import PipelineSettings
    from mailroom_sandbox.stack import DEFAULT_LOGIQS_RATE_LIMIT, Sandbox
    from tests.pg import ThrowawayPostgres

    logging.getLogger("googleapiclient.discovery_cache").setLevel(logging.ERROR)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mailroom-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"workdir {workdir}; load before: {os.getloadavg()[0]:.1f}", flush=True)
    pg = ThrowawayPostgres.create()
    # Several workers report to one server: it runs on PostgreSQL, as in production (on SQLite it answered 503s).
    prefect_db = pg.create_database("prefect").replace("postgresql+psycopg", "postgresql+asyncpg")
    server = start_server(home=workdir / "prefect-home", log_path=workdir / "prefect-server.log",
                          env={"PREFECT_API_DATABASE_CONNECTION_URL": prefect_db})
    env = {**os.environ, "PREFECT_API_URL": server.api_url, "PREFECT_HOME": str(workdir / "prefect-home"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PWD": str(ROOT),  # PWD: prefect.yaml's pull step
           "PYTHONPATH": str(ROOT)}
    workers: list[subprocess.Popen] = []
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url, PREFECT_SERVER_ANALYTICS_ENABLED: False}), \
                Sandbox(notices=args.notices, seed=args.seed, fault_rate=args.fault_rate,
                        scanned_fraction=args.scanned_fraction) as sandbox:
            ledger_url = pg.create_database("mailroom")
            logiqs_clock = RequestClock()
            sandbox.logiqs.server.add_request_hook(logiqs_clock)
            save_sandbox_blocks(
                SandboxProfile.of(sandbox), name=BLOCKS, state_dir=str(workdir / "state"),
                report_dir=str(workdir / "reports"),
                **{**FAST_SETTINGS, "concurrency": args.concurrency}, ledger_url=ledger_url, shared_rate_limits=True,
                fan_out_deployment=BATCH_DEPLOYMENT, batch_size=args.batch_size,
            )
            prefect(["work-pool", "create", "mailroom-process", "--type", "process", "--overwrite"], env)
            prefect(["deploy", "--name", "process-notices"], env)
            workers = start_workers(args.workers, args.worker_limit, env, workdir)
            from flows.daily import daily_mailroom

            print(f"{len(sandbox.corpus.in_scope())} notices in scope; {args.workers} workers x {args.worker_limit} "
                  f"flow runs, batches of {args.batch_size}, {args.concurrency} notices at once per batch", flush=True)
            started = time.perf_counter()
            states = [daily_mailroom(blocks=BLOCKS, return_state=True)]
            # FAILED notices stay in their input folders for the next run (the product's answer): rerun like
            # benchmarks/chaos.py does, and count the reruns and their time.
            while not states[-1].is_completed() and len(states) <= args.reruns:
                print(f"run {len(states)} ended {states[-1].name}: {states[-1].message}; running again", flush=True)
                states.append(daily_mailroom(blocks=BLOCKS, return_state=True))
            state = states[-1]
            wall = time.perf_counter() - started
            flush_run_records()
            load = os.getloadavg()
            verdict = verify(sandbox)
            stats = sandbox.stats()["logiqs"]
            timing = add_timings([t for s in states for t in batch_timings(s.state_details.flow_run_id)])
    finally:
        stop_workers(workers)
        server.stop()
        pg.stop()

    settings = PipelineSettings()
    logiqs_faults = sum(stats["faults"].values())
    answered = stats["requests"] - logiqs_faults
    rate_floor = answered / settings.logiqs_calls_per_second
    cores = os.cpu_count() or 1
    cpu_floor = timing["extract_cpu"] / cores
    floor = max(rate_floor, cpu_floor)
    limit = DEFAULT_LOGIQS_RATE_LIMIT.requests_per_second
    max_1s = max_in_window(logiqs_clock.times)
    print(f"run {state.name} after {len(states)} run(s): {state.message}")
    print(f"wall {wall:.1f}s; Logiqs {stats['requests']} requests ({logiqs_faults} faulted); floor {floor:.1f}s = max("
          f"rate {rate_floor:.1f}s at {settings.logiqs_calls_per_second:g}/s, CPU {cpu_floor:.1f}s = "
          f"{timing['extract_cpu']:.1f} CPU-s extraction / {cores} cores); load avg at end {load[0]:.1f}")
    for name, step in sorted(timing["steps"].items()):
        overhead = max(0.0, step["around"] - step["inside"]) / step["calls"] if step["calls"] else 0.0
        print(f"  {name:22s} runs={int(step['runs']):5d} inside={step['inside']:8.1f}s "
              f"prefect overhead/run={overhead * 1000:6.1f} ms")
    print("  thread-seconds waiting for a rate limiter (local bucket + the pool's shared limit): "
          + ", ".join(f"{service} {seconds:.1f}s" for service, seconds in sorted(timing["limiter_wait"].items())))
    print(f"verdict {verdict.model_dump(exclude={'wrong_folder_keys'})}")
    if len(states) > 1:
        print(f"wall and ratio cover {len(states)} runs: the first left FAILED notices, the next finished them")
    print(f"workers={args.workers} duplicates={verdict.duplicates + verdict.emulator_duplicates} lost={verdict.lost} "
          f"max_logiqs_1s={max_1s} limit={limit:g} ratio_to_floor={wall / floor:.2f}")
    ok = verdict.exactly_once and verdict.lost == 0 and max_1s <= limit
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
