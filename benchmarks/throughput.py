"""Throughput of the one-process daily run against its real floor, where the time goes, and the flow's own memory.

    python benchmarks/throughput.py --notices 1000 --fault-rate 0.1
    python benchmarks/throughput.py --notices 100 --fault-rate 0.1 --concurrency 8

The emulators run in their own process (`python -m mailroom_sandbox up`, one per run, same corpus), so this process
is the flow alone (plus the Prefect client) and its peak RSS is the flow's. Both runs (fault-free baseline, then
faulty) report to a `prefect server` started here.

floor = max(rate floor, CPU floor):
- rate floor: the baseline's requests at the client-side rates (``max(logiqs / logiqs_rate, drive / drive_rate)``);
- CPU floor: CPU-seconds of extraction measured in the baseline (its threads' CPU clock, plus the CPU of the child
  processes it started: Tesseract, isolated readers) divided by the machine's cores.
Per step: thread-seconds inside the task bodies (they overlap: ``concurrency`` notices at once), the part of it spent
waiting for the rate limiter, and Prefect's overhead per task run (time around the task call minus inside it).
Figures on the sandbox corpus are tuned, not held-out (docs/operations.md).

Last line: ``ratio_to_floor=... baseline_ratio_to_floor=... slowdown_vs_baseline=... amplification=... peak_rss_mb=...``
(``peak_rss_mb``: the process's peak as each flow run returned, before the benchmark counts that run's results;
with several runs, the counting after an earlier run is in a later run's figure, so it is an upper bound).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The steps, each the task runs it is made of.
STEPS = {
    "list": ("discover-folders", "list-new-notices"),
    "download": ("download-notice",),
    "extract": ("extract-notice",),
    "match": ("match-notice",),
    "upload": ("upload-document",),
    "task": ("create-follow-up-task",),
    "move": ("move-notice",),
    "report": ("write-report", "upload-report"),
}
LIMITER_OPERATIONS = {  # resilience metrics (service, operation) behind each step: their limiter waits
    "list": (("drive", "drive.list"),), "download": (("drive", "drive.get"), ("drive", "drive.download_chunk"),
                                                     ("drive", "drive.download")),
    "match": (("logiqs", "find_case"), ("logiqs", "get_case")),
    "upload": (("logiqs", "upload_document"), ("logiqs", "activities")),
    "task": (("logiqs", "create_task"),), "move": (("drive", "drive.move"),),
    "report": (("drive", "drive.upload"), ("drive", "drive.upload_chunk")),
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


class RssSampler:
    """The flow process's resident memory once a second, against notices finished (moves recorded so far)."""

    def __init__(self) -> None:
        self.samples: list[tuple[int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from tasks.timing import STEP_TIMES

        while not self._stop.wait(1.0):
            step = STEP_TIMES.steps.get("move-notice")
            self.samples.append((step.runs if step else 0, current_rss_mb()))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def growth_kb_per_notice(self) -> float | None:
        """RSS slope from the first quarter of the notices to the end (start-up and warm-up left out)."""
        if not self.samples or self.samples[-1][0] < 8:
            return None
        last_done, last_rss = self.samples[-1]
        first = next(((d, r) for d, r in self.samples if d >= last_done // 4), None)
        if first is None or last_done == first[0]:
            return None
        return (last_rss - first[1]) * 1024 / (last_done - first[0])


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def group_cpu_seconds(group: int | None) -> float:
    """CPU seconds (user + system) of every live process in a process group: the emulators' child, or the Prefect
    server with its uvicorn workers. They share this machine's cores with the flow (in production they do not)."""
    if group is None:
        return 0.0
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp; utime and stime follow at fields 11 and 12, in clock ticks
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


SERVER_GROUP: list[int] = []  # the benchmark's Prefect server process group (set in main)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def sandbox_process(workdir: Path, name: str, args: argparse.Namespace, fault_rate: float) -> Iterator[dict]:
    """``python -m mailroom_sandbox up`` in a child process; yields its profile once it is up."""
    profile = workdir / f"{name}-profile.json"
    log = (workdir / f"{name}-sandbox.log").open("wb")
    command = [sys.executable, "-m", "mailroom_sandbox", "up", "--notices", str(args.notices), "--seed",
               str(args.seed), "--scanned-fraction", str(args.scanned_fraction), "--profile", str(profile)]
    if fault_rate:
        command += ["--fault-rate", str(fault_rate), "--ambiguous-rate", str(args.ambiguous)]
    child = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
    try:
        deadline = time.monotonic() + 3600  # a first 1,000-notice corpus takes minutes to generate
        while not profile.exists() or "sandbox is up" not in (workdir / f"{name}-sandbox.log").read_text():
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox did not come up; see {workdir / f'{name}-sandbox.log'}")
            time.sleep(0.5)
        yield {**json.loads(profile.read_text()), "group": child.pid}
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            child.wait(timeout=60)
        log.close()


def emulator_stats(profile: dict) -> dict[str, dict[str, Any]]:
    return {service: json.load(urllib.request.urlopen(url, timeout=30))
            for service, url in profile["stats_urls"].items()}


def manifest_in_scope(profile: dict) -> int:
    from mailroom_sandbox.corpus.models import Corpus

    return len(Corpus.load(Path(profile["corpus_manifest"]).parent).in_scope())


def run_once(workdir: Path, name: str, args: argparse.Namespace, fault_rate: float) -> dict[str, Any]:
    from blocks.prefect_server import flush_run_records
    from blocks.register import SandboxProfile, save_sandbox_blocks
    from flows.daily import daily_mailroom
    from flows.records import summary_of
    from mailroom.resilience import metrics_snapshot, reset_registry
    from tasks.timing import STEP_TIMES

    with sandbox_process(workdir, name, args, fault_rate) as profile:
        save_sandbox_blocks(SandboxProfile.model_validate(profile), name=name, state_dir=str(workdir / name / "state"),
                            report_dir=str(workdir / name / "reports"), **settings_of(args))
        reset_registry()
        STEP_TIMES.reset()
        cpu_children, cpu_self = children_cpu(), time.process_time()
        others = lambda: (group_cpu_seconds(profile["group"]), group_cpu_seconds(next(iter(SERVER_GROUP), None)))  # noqa: E731
        emulators_before, server_before = others()
        started = time.perf_counter()
        with RssSampler() as rss:
            state = daily_mailroom(blocks=name, return_state=True)
        wall = time.perf_counter() - started
        emulators_after, server_after = others()
        timing = STEP_TIMES.snapshot()
        result = dict(state=state.name, wall=wall, summary=summary_of(state), timing=timing,
                      extract_cpu=timing["extract_thread_cpu"] + children_cpu() - cpu_children,
                      process_cpu=time.process_time() - cpu_self, metrics=metrics_snapshot(),
                      peak_rss_mb=peak_rss_mb(), rss_growth_kb=rss.growth_kb_per_notice(),
                      in_scope=manifest_in_scope(profile), emulators_cpu=emulators_after - emulators_before,
                      server_cpu=server_after - server_before)
        flush_run_records()
        stats = emulator_stats(profile)
    result.update(
        drive_requests=stats["drive"]["requests"], logiqs_requests=stats["logiqs"]["requests"],
        faults=sum(stats["drive"]["faults"].values()) + sum(stats["logiqs"]["faults"].values()),
        duplicates=stats["logiqs"]["duplicates"]["total"],
    )
    return result


def settings_of(args: argparse.Namespace) -> dict[str, Any]:
    return {**dict(concurrency=args.concurrency, call_initial_delay=0.25, call_max_delay=5.0,
                   task_retry_delay_seconds=1.0, task_retries=4,
                   review_enabled=False),  # outcomes as the manifest expects them
            **getattr(args, "overrides", {})}


def variant(text: str) -> tuple[str, dict[str, Any]]:
    """``label:setting=value,setting=value`` (values as JSON, else strings): a baseline run with these settings."""
    label, _, assignments = text.partition(":")
    overrides: dict[str, Any] = {}
    for assignment in filter(None, assignments.split(",")):
        name, _, value = assignment.partition("=")
        try:
            overrides[name] = json.loads(value)
        except json.JSONDecodeError:
            overrides[name] = value
    return label, overrides


def describe(label: str, r: dict[str, Any]) -> None:
    s, n = r["summary"], max(1, r["in_scope"])
    counts = f"{s.matched} MATCHED / {s.unmatched} UNMATCHED / {s.failed} FAILED" if s else "no summary"
    print(f"{label:9s} {r['state']:9s} wall={r['wall']:7.1f}s {r['wall'] / n:5.2f} s/file  drive={r['drive_requests']:6d} "
          f"logiqs={r['logiqs_requests']:6d} faults={r['faults']:5d}  {counts}  "
          f"retries task={s.task_retries if s else 0} call={s.call_retries if s else 0}  "
          f"flow CPU={r['process_cpu']:.0f}s extraction CPU={r['extract_cpu']:.0f}s peak RSS {r['peak_rss_mb']:.0f} MB, "
          f"growing {r['rss_growth_kb'] or 0:.1f} KB per notice; on the same cores: emulators CPU="
          f"{r['emulators_cpu']:.0f}s, Prefect server CPU={r['server_cpu']:.0f}s")


def breakdown(r: dict[str, Any]) -> None:
    steps, metrics = r["timing"]["steps"], r["metrics"]
    limiter = {(service, op): m.limiter_wait_seconds for service, ops in metrics.items() for op, m in ops.items()}
    total = sum(step["inside"] for step in steps.values()) or 1.0
    print(f"  {'step':9s} {'task runs':>9s} {'thread-s':>9s} {'share':>6s} {'limiter-s':>9s} {'prefect ms/run':>14s}")
    around = inside = calls = 0.0
    for step, names in STEPS.items():
        parts = [steps[name] for name in names if name in steps]
        runs = sum(p["runs"] for p in parts)
        seconds = sum(p["inside"] for p in parts)
        waits = sum(limiter.get(op, 0.0) for op in LIMITER_OPERATIONS.get(step, ()))
        measured = [p for p in parts if p["calls"]]
        per_run = (sum(p["around"] - p["inside"] for p in measured) / sum(p["calls"] for p in measured)
                   if measured else float("nan"))
        around += sum(p["around"] for p in measured)
        inside += sum(p["inside"] for p in measured)
        calls += sum(p["calls"] for p in measured)
        print(f"  {step:9s} {runs:9d} {seconds:9.1f} {seconds / total:6.0%} {waits:9.1f} {per_run * 1000:14.1f}")
    print(f"  Prefect overhead per task run (all measured steps): {(around - inside) / max(1, calls) * 1000:.1f} ms "
          f"over {int(calls)} task runs = {around - inside:.1f} thread-s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--ambiguous", type=float, default=0.0, help="commit-then-lose rate on POSTs (faulty run)")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--scanned-fraction", type=float, default=0.2)
    parser.add_argument("--skip-faulty", action="store_true", help="baseline only (memory runs)")
    parser.add_argument("--variant", type=variant, action="append", default=[],
                        help="also run the baseline with other settings, side by side, e.g. "
                        "as-runs:steps_as_task_runs_up_to=1000000 or fifo:file_most_urgent_first=false")
    args = parser.parse_args(argv)

    import logging

    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_ANALYTICS_ENABLED, temporary_settings

    from blocks.prefect_server import start_server
    from mailroom.pipeline_settings import PipelineSettings

    logging.getLogger("googleapiclient.discovery_cache").setLevel(logging.ERROR)
    workdir = Path(tempfile.mkdtemp(prefix="mailroom-throughput-"))
    drive_rate = PipelineSettings().drive_calls_per_second
    logiqs_rate = PipelineSettings().logiqs_calls_per_second
    cores = os.cpu_count() or 1
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {cores} cores", flush=True)
    server = start_server(home=workdir / "prefect-home", log_path=workdir / "prefect-server.log")
    if server.process is not None:
        SERVER_GROUP.append(server.process.pid)
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url, PREFECT_SERVER_ANALYTICS_ENABLED: False}):
            baseline = run_once(workdir, "baseline", args, 0.0)
            faulty = None if args.skip_faulty else run_once(workdir, "faulty", args, args.fault_rate)
            variants = [(label, run_once(workdir, label, argparse.Namespace(**{**vars(args), "overrides": overrides}),
                                         0.0)) for label, overrides in args.variant]
    finally:
        server.stop()
    load_after = os.getloadavg()

    rate_floor = max(baseline["logiqs_requests"] / logiqs_rate, baseline["drive_requests"] / drive_rate)
    cpu_floor = baseline["extract_cpu"] / cores
    floor = max(rate_floor, cpu_floor)
    print(f"{baseline['in_scope']} notices in scope, concurrency {args.concurrency}; floor {floor:.1f}s = max(rate "
          f"{rate_floor:.1f}s [Logiqs {baseline['logiqs_requests']} req at {logiqs_rate:g}/s, Drive "
          f"{baseline['drive_requests']} at {drive_rate:g}/s], CPU {cpu_floor:.1f}s [{baseline['extract_cpu']:.0f} "
          f"CPU-s of extraction / {cores} cores]); load average after: {load_after[0]:.1f}")
    describe("baseline", baseline)
    breakdown(baseline)
    shared = (baseline["process_cpu"] + baseline["emulators_cpu"] + baseline["server_cpu"]) / cores
    line = (f"baseline_ratio_to_floor={baseline['wall'] / floor:.2f} rate_floor_s={rate_floor:.1f} "
            f"cpu_floor_s={cpu_floor:.1f} all_cpu_on_these_cores_s={shared:.1f}")
    if faulty is not None:
        describe("faulty", faulty)
        breakdown(faulty)
        requests = lambda r: r["drive_requests"] + r["logiqs_requests"]  # noqa: E731
        line = (f"ratio_to_floor={faulty['wall'] / floor:.2f} {line} "
                f"slowdown_vs_baseline={faulty['wall'] / baseline['wall']:.2f} "
                f"amplification={requests(faulty) / requests(baseline):.2f} "
                f"logiqs_amplification={faulty['logiqs_requests'] / baseline['logiqs_requests']:.2f} "
                f"failed={faulty['summary'].failed if faulty['summary'] else -1} duplicates={faulty['duplicates']}")
    for label, other in variants:
        describe(label, other)
        breakdown(other)
        line += f" {label}_ratio_to_floor={other['wall'] / floor:.2f} {label}_vs_baseline={other['wall'] / baseline['wall']:.2f}"
    growth = baseline["rss_growth_kb"]
    # Each run's peak is read as its flow returns: after that this process loads the corpus manifest and the
    # emulators' stats for its own counting (+87 MB at 10,000 notices), which the flow never holds.
    flow_peak = max(run["peak_rss_mb"] for run in (baseline, faulty, *(other for _, other in variants)) if run)
    print(f"{line} rss_growth_kb_per_notice={growth if growth is not None else float('nan'):.1f} "
          f"peak_rss_mb={flow_peak:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
