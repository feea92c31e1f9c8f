"""What one task run costs in Prefect with each of the options mailroom's service tasks carry, side by side.

    python benchmarks/task_overhead.py --tasks 400 --threads 8

Each variant runs the same trivial body (a few microseconds) as nested task runs under ``--threads`` parent task
runs on a thread-pool runner, in one flow run reported to a `prefect server` started here: the time and CPU per task
run are Prefect's alone. Variants: bare ``@task``; + tags; + ``timeout_seconds``; + retries with a
``retry_condition_fn`` and jitter; all of them (what ``tasks.retry.service_task`` declares). Rounds alternate the
variants so a change in the machine's load hits them alike. Last line: ratios to the bare task.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from prefect import flow, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402


def _body(n: int) -> int:
    return n + 1


def _never(*_args: Any) -> bool:
    return False


COMMON = dict(cache_policy=NO_CACHE, persist_result=False)
VARIANTS = {
    "bare": task(_body, name="bare", **COMMON),
    "tags": task(_body, name="tags", tags=["drive"], **COMMON),
    "timeout": task(_body, name="timeout", timeout_seconds=300, **COMMON),
    "retries": task(_body, name="retries", retries=3, retry_delay_seconds=[1.0, 2.0, 4.0], retry_jitter_factor=0.5,
                    retry_condition_fn=_never, **COMMON),
    "all": task(_body, name="all", tags=["drive"], timeout_seconds=300, retries=3,
                retry_delay_seconds=[1.0, 2.0, 4.0], retry_jitter_factor=0.5, retry_condition_fn=_never, **COMMON),
}


@task(name="parent", **COMMON)
def parent(variant: str, count: int) -> None:
    child = VARIANTS[variant]
    for n in range(count):
        child(n)


@flow(name="task-overhead", persist_result=False)
def measure(variant: str, tasks: int, threads: int) -> tuple[float, float]:
    per_thread = max(1, tasks // threads)
    cpu, started = time.process_time(), time.perf_counter()
    with ThreadPoolTaskRunner(max_workers=threads) as runner:
        futures = [runner.submit(parent, {"variant": variant, "count": per_thread}) for _ in range(threads)]
        for future in futures:
            future.result()
    done = per_thread * threads
    return (time.perf_counter() - started) / done, (time.process_time() - cpu) / done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=400)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    import os

    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_ANALYTICS_ENABLED, temporary_settings

    from blocks.prefect_server import start_server

    workdir = Path(tempfile.mkdtemp(prefix="mailroom-task-overhead-"))
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    server = start_server(home=workdir / "home", log_path=workdir / "server.log")
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in VARIANTS}
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url, PREFECT_SERVER_ANALYTICS_ENABLED: False}):
            measure("bare", args.threads, args.threads)  # warm-up: imports, client, first flow run
            for _ in range(args.rounds):
                for name in VARIANTS:
                    results[name].append(measure(name, args.tasks, args.threads))
    finally:
        server.stop()
    bare = statistics.median(w for w, _ in results["bare"])
    for name, runs in results.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name:8s} wall/task={wall * 1000:7.2f} ms  cpu/task={cpu * 1000:6.2f} ms  vs bare x{wall / bare:.2f}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(" ".join(f"{name}={statistics.median(w for w, _ in runs) / bare:.2f}" for name, runs in results.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
