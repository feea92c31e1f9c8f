"""Which of Prefect's own means to fan out with: batch flow runs on process workers, or task workers with .delay().

    python benchmarks/fanout.py --notices 100 --workers 2

Both variants run the real per-notice pipeline (``mailroom.intake`` over the run's task set, the same ledger,
exactly-once effects) against a fresh sandbox over the same corpus, with two worker processes and the same number
of notices in flight (workers x flow runs x concurrency = workers x task-worker limit):

- ``deployment``: the daily flow with ``fan_out_deployment`` (what mailroom ships): batches of ``--batch-size`` as
  runs of the process-notices deployment, picked up by ``prefect worker start --pool mailroom-process`` processes;
- ``task-workers``: a background task per notice, ``process_notice_deferred.delay(file_id, ...)``, served by
  ``python benchmarks/fanout.py --serve`` processes (``prefect.task_worker.serve``); each serving process builds
  the clients once and hands its rows over the same run-rows table.

The ledger is SQLite in a shared state dir (one machine). Prints wall time, requests, duplicates/lost and the
Prefect server's own CPU per variant; the last line has the ratio. Tuned: sandbox corpus, this machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from prefect import task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

BLOCKS = "fanout"


@cache
def _worker_services(blocks: str) -> Any:
    """One set of clients per task-worker process (what a production task worker would have to do too)."""
    import tempfile as tmp

    from blocks.config import load_run_config
    from flows.daily import build_services

    config = load_run_config(blocks)
    return build_services(config, Path(tmp.mkdtemp(prefix="mailroom-taskworker-")), owner=f"task-worker-{os.getpid()}")


@task(name="process-notice-deferred", cache_policy=NO_CACHE, persist_result=False)
def process_notice_deferred(file_id: str, parent_run_id: str, blocks: str) -> None:
    from tasks.steps import PrefectSteps
    from mailroom.intake import Skipped
    from mailroom.run_rows import RunRows
    from tasks.context import use_services

    services = _worker_services(blocks)
    with use_services(services):
        file = services.tasks.get_notices([file_id])
        if not file:
            return
        result = services.intake.process(file[0], PrefectSteps(services.tasks))
    if not isinstance(result, Skipped):
        with RunRows.open(services.settings.ledger_url, services.settings.state_dir) as store:
            store.add(parent_run_id, 0, [result])


def serve(limit: int) -> None:
    from prefect.task_worker import serve as prefect_serve

    prefect_serve(process_notice_deferred, limit=limit)


def run_task_workers(sandbox: Any, env: dict[str, str], workdir: Path, args: argparse.Namespace) -> float:
    from prefect.futures import wait

    from flows.daily import build_services
    from blocks.config import load_run_config
    from tasks.context import use_services

    serving = []
    for n in range(args.workers):
        log = (workdir / f"task-worker-{n}.log").open("wb")
        serving.append(subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", "--limit", str(args.in_flight // args.workers)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    try:
        time.sleep(5)  # let both subscribe before the first notice is scheduled (not part of the timing)
        started = time.perf_counter()
        config = load_run_config(BLOCKS)
        services = build_services(config, workdir, owner="task-worker-parent")
        with use_services(services):
            folders = services.tasks.discover_folders(config.settings.input_root_id, config.settings.folder_name_patterns,
                                                      True, [config.settings.matched_folder_id,
                                                             config.settings.unmatched_folder_id])
            files = services.tasks.list_new_notices([f.id for f in folders])
        futures = [process_notice_deferred.delay(f.id, "task-workers", BLOCKS) for f in files]
        wait(futures)
        return time.perf_counter() - started
    finally:
        for child in serving:
            os.killpg(child.pid, signal.SIGTERM)
            child.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--in-flight", type=int, default=16, help="notices in flight over all workers")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--serve", action="store_true", help="internal: be a task worker")
    parser.add_argument("--variant", choices=["deployment", "task-workers"], help="internal: run one variant")
    parser.add_argument("--limit", type=int, default=8)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.limit)
        return 0

    if args.variant:
        result = run_variant(args.variant, args)
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    # Each variant in its own process: Prefect's client services (events, logs, slot requests) are per process and
    # keep the first server's address, so two servers one after the other in one process do not work.
    results: dict[str, dict[str, Any]] = {}
    for variant in ("deployment", "task-workers"):
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--variant", variant,
                               *(argv if argv is not None else sys.argv[1:])], cwd=ROOT, capture_output=True,
                              text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if not lines:
            print(done.stdout[-3000:], done.stderr[-3000:])
            raise SystemExit(f"{variant} did not finish (exit {done.returncode})")
        results[variant] = json.loads(lines[-1].removeprefix("RESULT "))
        r = results[variant]
        print(f"{variant:13s} wall={r['wall']:6.1f}s requests={r['requests']} prefect-server CPU={r['server_cpu']:.0f}s "
              f"load before={r['load']:.1f} duplicates={r['duplicates']} lost={r['lost']}", flush=True)
    a, b = results["deployment"], results["task-workers"]
    print(f"notices={args.notices} workers={args.workers} deployment_wall={a['wall']:.1f} "
          f"task_workers_wall={b['wall']:.1f} ratio_task_workers_to_deployment={b['wall'] / a['wall']:.2f} "
          f"duplicates={a['duplicates'] + b['duplicates']} lost={a['lost'] + b['lost']}")
    return 0


def run_variant(variant: str, args: argparse.Namespace) -> dict[str, Any]:
    import logging

    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, PREFECT_SERVER_ANALYTICS_ENABLED, temporary_settings

    from benchmarks.chaos import FAST_SETTINGS, verify
    from benchmarks.scale import prefect, start_workers, stop_workers
    from blocks.prefect_server import start_server
    from blocks.register import SandboxProfile, save_sandbox_blocks
    from mailroom_sandbox.stack import Sandbox

    logging.getLogger("googleapiclient.discovery_cache").setLevel(logging.ERROR)
    workdir = Path(tempfile.mkdtemp(prefix=f"mailroom-fanout-{variant}-"))
    home = workdir / "prefect-home"
    home.mkdir(parents=True)
    server = start_server(home=home, log_path=home / "server.log")
    env = {**os.environ, "PREFECT_API_URL": server.api_url, "PREFECT_HOME": str(home), "PYTHONPATH": str(ROOT),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PWD": str(ROOT)}
    load = os.getloadavg()[0]
    workers: list[subprocess.Popen] = []
    try:
        # PREFECT_HOME here too: deferred tasks hand their parameters to the task workers through result storage
        # (PREFECT_HOME/storage by default), which must be the same for both, i.e. shared storage across machines.
        with temporary_settings(updates={PREFECT_API_URL: server.api_url, PREFECT_HOME: str(home),
                                         PREFECT_SERVER_ANALYTICS_ENABLED: False}), \
                Sandbox(notices=args.notices, seed=args.seed) as sandbox:
            per_run = max(1, args.in_flight // (args.workers * 2))
            save_sandbox_blocks(SandboxProfile.of(sandbox), name=BLOCKS, state_dir=str(workdir / "state"),
                                report_dir=str(workdir / "reports"), **{**FAST_SETTINGS, "concurrency": per_run},
                                batch_size=args.batch_size)
            if variant == "deployment":
                prefect(["work-pool", "create", "mailroom-process", "--type", "process", "--overwrite"], env)
                prefect(["deploy", "--name", "process-notices"], env)
                workers = start_workers(args.workers, 2, env, workdir)
                time.sleep(5)  # workers polling before the run starts, like the task workers
                from flows.daily import daily_mailroom

                started = time.perf_counter()
                state = daily_mailroom(blocks=BLOCKS, fan_out_deployment="process-notices/process-notices",
                                       return_state=True)
                wall = time.perf_counter() - started
                if not state.is_completed():
                    raise RuntimeError(f"the fanned-out run ended {state.name}: {state.message}")
            else:
                wall = run_task_workers(sandbox, env, workdir, args)
            verdict = verify(sandbox)
            stats = sandbox.stats()
    finally:
        stop_workers(workers)
        server_cpu = _cpu_of(server.process.pid) if server.process else float("nan")
        server.stop()
    return dict(wall=wall, load=load, server_cpu=server_cpu, duplicates=verdict.duplicates, lost=verdict.lost,
                requests=stats["drive"]["requests"] + stats["logiqs"]["requests"])


def _cpu_of(pid: int) -> float:
    """CPU seconds of a process and its children so far (the Prefect server: uvicorn and its services)."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            times = proc.cpu_times()
            total += times.user + times.system
    except psutil.Error:
        pass
    return total


if __name__ == "__main__":
    raise SystemExit(main())
