"""Chaos benchmark: exactly-once filing under faults, lost responses, kill -9 and a Logiqs outage.

    python benchmarks/chaos.py                      # full sizes: 1,000 notices x 10/20/30 % faults + 5 % ambiguous,
                                                    # 500-notice crash-resume with 5 kills, 500 notices + 2-min outage
    python benchmarks/chaos.py --scenario chaos --notices 200 --rates 0.1

The sandbox (Drive + Logiqs emulators) always lives in *this* process; the flow runs either here (chaos, outage) or
in a child process that is killed with SIGKILL (crash-resume), pointed at the sandbox through Prefect blocks on a
real `prefect server`. The evidence is read from the sandbox, never from the flow: Logiqs documents/tasks counted by
the notice marker in their comments, Drive folder contents, the emulators' request counters.

Last line of each scenario: ratios, e.g. ``ratio_to_floor=1.31 amplification=1.22 duplicates=0 lost=0``. The floor
is the fault-free baseline's Logiqs requests divided by the Logiqs rate limit (10 req/s): no run can be faster.
The tests in tests/flow/test_chaos_small.py, test_crash_resume.py and test_outage.py call the same functions at
small N.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MARKER = re.compile(r"mailroom:([A-Za-z0-9_-]+):([0-9a-f]{12})")
LOGIQS_RATE = 10.0  # the sandbox default (docs/logiqs-api.md)
# Short call-level waits: the benchmark measures filing under faults, not how long we are willing to sleep. The
# Prefect-level window (1.5 s doubling, 6 retries, x0.5-1.5 jitter = 47-142 s) must still outlast the Logiqs breaker's
# 30 s cooldown, or a notice spends every attempt on an open circuit (0.5 s gave 16-47 s: 48 FAILED at 30 %).
FAST_SETTINGS: dict[str, Any] = dict(
    call_max_retries=3, call_initial_delay=0.1, call_max_delay=2.0, task_retries=6, task_retry_delay_seconds=1.5,
    concurrency=4,
    review_enabled=False,  # verify() compares Drive folders with the manifest, which knows no review queue
)


class Verdict(BaseModel):
    """What the sandbox says happened, whatever the flow believes."""

    in_scope: int
    matched: int  # files in the MATCHED folder
    unmatched: int
    lost: int  # in-scope files in neither output folder
    wrong_folder: int  # in an output folder other than the manifest expects
    duplicate_documents: int  # extra documents carrying one notice's marker
    duplicate_tasks: int
    missing_effects: int  # MATCHED files without exactly one marked document and task
    effects_outside_matched: int  # marked documents/tasks of notices not in MATCHED
    emulator_duplicates: int  # the emulator's own counter (same case + file name / subject + due)
    wrong_folder_keys: list[str] = []  # corpus keys (no taxpayer data): extraction/matching accuracy, not effects

    @property
    def duplicates(self) -> int:
        return self.duplicate_documents + self.duplicate_tasks

    @property
    def exactly_once(self) -> bool:
        return (self.duplicates == 0 and self.lost == 0 and self.missing_effects == 0
                and self.effects_outside_matched == 0 and self.emulator_duplicates == 0)


def verify(sandbox: Any) -> Verdict:
    """Compare the sandbox's final state with the corpus manifest (Drive folders) and count effects by marker."""
    ids = dict(sandbox.file_ids)
    in_scope = sandbox.corpus.in_scope()
    folders = sandbox.folders
    matched = {f.id for f in sandbox.drive.files_in(folders.matched)}
    unmatched = {f.id for f in sandbox.drive.files_in(folders.unmatched)}
    store = sandbox.logiqs.store
    documents = Counter(m.group(1) for d in store.documents if (m := MARKER.search(d.comment or "")))
    tasks = Counter(m.group(1) for t in store.tasks if (m := MARKER.search(t.comments or "")))
    lost = wrong = missing = 0
    wrong_keys: list[str] = []
    for file in in_scope:
        drive_id = ids[file.key]
        where = "MATCHED" if drive_id in matched else "UNMATCHED" if drive_id in unmatched else None
        lost += where is None
        if where is not None and where != file.expected_outcome.value:
            wrong += 1
            wrong_keys.append(f"{file.key}:{file.trouble or '-'}->{where}")
        missing += drive_id in matched and (documents[drive_id] != 1 or tasks[drive_id] != 1)
    outside = sum(1 for drive_id in set(documents) | set(tasks) if drive_id not in matched)
    return Verdict(
        in_scope=len(in_scope), matched=len(matched), unmatched=len(unmatched), lost=lost, wrong_folder=wrong,
        duplicate_documents=sum(n - 1 for n in documents.values() if n > 1),
        duplicate_tasks=sum(n - 1 for n in tasks.values() if n > 1),
        missing_effects=missing, effects_outside_matched=outside,
        emulator_duplicates=sandbox.logiqs.stats()["duplicates"]["total"], wrong_folder_keys=wrong_keys,
    )


def requests_seen(sandbox: Any) -> dict[str, int]:
    stats = sandbox.stats()
    return {service: int(stats[service]["requests"]) for service in ("drive", "logiqs")}


# -- running the flow ------------------------------------------------------------------------------------------


def save_blocks(sandbox: Any, name: str, workdir: Path, **settings: Any) -> Path:
    """Point blocks called ``name`` at the sandbox; returns the ledger's state dir (shared by every rerun)."""
    from blocks.register import SandboxProfile, save_sandbox_blocks

    state_dir = workdir / "state"
    values = {**FAST_SETTINGS, **settings}
    save_sandbox_blocks(SandboxProfile.of(sandbox), name=name, state_dir=str(state_dir),
                        report_dir=str(workdir / "reports"), **values)
    return state_dir


def run_flow_here(blocks: str, **parameters: Any) -> Any:
    """One flow run in this process (PREFECT_API_URL must point at a started server); returns its final state."""
    from flows.daily import daily_mailroom
    from blocks.prefect_server import flush_run_records

    state = daily_mailroom(blocks=blocks, return_state=True, **parameters)
    flush_run_records()
    return state


class ChildRun(BaseModel):
    returncode: int | None
    killed: bool
    seconds: float


def run_flow_child(
    blocks: str, api_url: str, workdir: Path, *, kill_when: Callable[[], bool] | None = None, timeout: float = 900.0,
    log_name: str = "flow-child.log", env: dict[str, str] | None = None,
) -> ChildRun:
    """``python flows/daily.py --blocks NAME`` in a child process; SIGKILL it as soon as ``kill_when()`` is true.

    The child's temp dir is ``workdir`` unless ``env`` says otherwise (TMPDIR): whatever a killed run leaves there
    stays with the test that killed it.
    """
    env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "TMPDIR": str(workdir), **(env or {})}
    workdir.mkdir(parents=True, exist_ok=True)
    log = (workdir / log_name).open("ab")
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, str(ROOT / "flows" / "daily.py"), "--blocks", blocks],
                             cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    killed = False
    try:
        while child.poll() is None:
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"flow child did not finish within {timeout:.0f}s")
            if kill_when is not None and kill_when():
                os.kill(child.pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.02)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:  # our own child only, by pid
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=60)
        log.close()
    return ChildRun(returncode=child.returncode, killed=killed, seconds=time.monotonic() - started)


# -- scenarios -------------------------------------------------------------------------------------------------


def crash_resume(sandbox: Any, api_url: str, workdir: Path, *, kills: int, seed: int = 5,
                 say: Callable[[str], None] = print, **settings: Any) -> tuple[Verdict, list[ChildRun]]:
    """Kill the flow child at ``kills`` random points (by Logiqs requests seen), rerun after each, then finish.

    ``settings`` override the settings block (e.g. ``ledger_url`` for a PostgreSQL ledger)."""
    rng = random.Random(seed)
    blocks = "chaos-crash"
    save_blocks(sandbox, blocks, workdir, **settings)
    runs: list[ChildRun] = []
    expected_per_run = 4 * len(sandbox.corpus.in_scope())  # rough Logiqs requests of a whole run
    for n in range(kills):
        start = requests_seen(sandbox)["logiqs"]
        # Spread kills over the run; the first request is check_access, so at least a few in.
        target = start + rng.randint(3, max(4, expected_per_run // (kills - n + 1)))
        run = run_flow_child(blocks, api_url, workdir, kill_when=lambda: requests_seen(sandbox)["logiqs"] >= target)
        runs.append(run)
        say(f"  run {n + 1}: {'killed' if run.killed else f'ended rc={run.returncode}'} after {run.seconds:.1f}s "
            f"at logiqs request {requests_seen(sandbox)['logiqs']}")
    for _ in range(3):  # the finishing run; a second one only if the first left FAILED notices behind
        run = run_flow_child(blocks, api_url, workdir)
        runs.append(run)
        say(f"  final run: rc={run.returncode} after {run.seconds:.1f}s")
        if run.returncode == 0:
            break
    return verify(sandbox), runs


def outage_run(sandbox: Any, blocks: str, *, outage_seconds: float, cooldown: float, after_tasks: int,
               failure_threshold: int = 5, end_after_probes: int | None = None,
               say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the flow here; once ``after_tasks`` tasks exist in Logiqs, take Logiqs down for ``outage_seconds``.

    The Logiqs breaker of this process is replaced by one with ``cooldown``. A watcher samples, every 50 ms, the
    requests that reached the down server (the emulator's ``outage`` fault counter) and the breaker's open count.
    With ``end_after_probes`` the outage ends as soon as the breaker has opened and that many probes reached the down
    server (``outage_seconds`` is then only an upper bound): what is observed no longer depends on how fast a loaded
    machine runs the flow during a fixed window.
    """
    from mailroom.resilience import CircuitBreaker, registry

    breaker = CircuitBreaker(failure_threshold=failure_threshold, cooldown=cooldown)
    registry.configure("logiqs", breaker=breaker)
    samples: list[tuple[float, int, int]] = []  # (time, outage hits so far, breaker opens so far)
    window: dict[str, float] = {}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            stats = sandbox.logiqs.stats()
            if "start" not in window and stats["tasks_total"] >= after_tasks:
                sandbox.outage("logiqs", outage_seconds)
                window["start"] = time.monotonic()
                window["end"] = window["start"] + outage_seconds
                say(f"  outage: Logiqs down for {outage_seconds:.0f}s after {stats['tasks_total']} tasks")
            samples.append((time.monotonic(), int(stats["faults"].get("outage", 0)), breaker.opens))
            if end_after_probes and "start" in window and time.monotonic() < window["end"]:
                seen = probe_report(samples, window, cooldown)
                if seen.get("probes", 0) >= end_after_probes:
                    sandbox.end_outage("logiqs")
                    window["end"] = time.monotonic()
                    say(f"  outage: ended after {seen['probes']} probes")
            stop.wait(0.05)

    watcher = threading.Thread(target=watch, name="outage-watch", daemon=True)
    watcher.start()
    started = time.monotonic()
    try:
        state = run_flow_here(blocks)
    finally:
        stop.set()
        watcher.join(timeout=10)
    return dict(state=state, report=probe_report(samples, window, cooldown), seconds=time.monotonic() - started)


def probe_report(samples: list[tuple[float, int, int]], window: dict[str, float], cooldown: float,
                 grace: float = 0.5) -> dict[str, Any]:
    """Requests that reached the down server before the breaker opened, and the probes after it.

    Requests admitted while the circuit was still closed may land up to ``grace`` seconds after it opened (they
    wait in the rate limiter after admission); later arrivals are probes. "At most one probe per cooldown" holds
    when no sample saw two arrivals at once and consecutive probes are at least a cooldown apart (minus the 50 ms
    sampling step on either side).
    """
    if not window:
        return dict(outage_started=False)
    during = [s for s in samples if s[0] >= window["start"]]
    changes = [(t, hits - prev[1], opens) for (t, hits, opens), prev in zip(during[1:], during)
               if (hits, opens) != (prev[1], prev[2])]
    timeline = [(round(t - window["start"], 2), new, opens) for t, new, opens in changes]
    opened = next((s for s in during if s[2] >= 1), None)
    total = during[-1][1] - during[0][1] if during else 0
    if opened is None:
        return dict(outage_started=True, breaker_opened=False, hits=total, timeline=timeline)
    probes = [(t, new) for t, new, _ in changes if t > opened[0] + grace and new > 0]
    gaps = [b[0] - a[0] for a, b in zip(probes, probes[1:])]
    return dict(
        outage_started=True, breaker_opened=True, hits=total,
        hits_before_probes=total - sum(n for _, n in probes), probes=sum(n for _, n in probes),
        most_at_once=max((n for _, n in probes), default=0), min_probe_gap=round(min(gaps), 2) if gaps else None,
        one_probe_per_cooldown=all(n <= 1 for _, n in probes) and all(g >= cooldown - 0.15 for g in gaps),
        open_seconds=round(window["end"] - opened[0], 1), opens=during[-1][2], timeline=timeline,
    )


def _ratios(verdict: Verdict, wall: float, floor: float, calls: int, baseline_calls: int) -> str:
    return (f"ratio_to_floor={wall / floor:.2f} amplification={calls / baseline_calls:.2f} "
            f"duplicates={verdict.duplicates} lost={verdict.lost} processed={verdict.matched + verdict.unmatched}"
            f"/{verdict.in_scope} wrong_folder={verdict.wrong_folder}")


def _one_run(args: argparse.Namespace, workdir: Path, name: str, faults: Any | None) -> tuple[Verdict, float, dict]:
    """One flow run on a fresh sandbox; a run that leaves FAILED notices is followed by the next day's rerun (up to
    ``args.reruns``), which must finish them without repeating an effect. Wall time and requests are the first run's.
    """
    from mailroom.resilience import reset_registry
    from mailroom_sandbox.stack import Sandbox

    reset_registry()  # each run starts with a closed breaker, a full budget and fresh metrics
    with Sandbox(notices=args.notices, seed=args.seed, scanned_fraction=args.scanned_fraction) as sandbox:
        save_blocks(sandbox, name, workdir / name, concurrency=args.concurrency)
        if faults is not None:
            sandbox.set_faults(faults)
        started = time.monotonic()
        state = run_flow_here(name)
        wall = time.monotonic() - started
        verdict, calls = verify(sandbox), requests_seen(sandbox)
        summary = verdict.model_dump(exclude={"wrong_folder_keys"})
        print(f"  {name}: {state.name} in {wall:.1f}s, requests {calls}, {summary}")
        for n in range(args.reruns):
            if state.is_completed():
                break
            reset_registry()  # tomorrow's run is a new process: no breaker left open by today's
            state = run_flow_here(name)  # same ledger, same faults: what tomorrow's scheduled run would do
            verdict = verify(sandbox)
            print(f"  {name} rerun {n + 1}: {state.name}, {verdict.model_dump(exclude={'wrong_folder_keys'})}")
    return verdict, wall, calls


def scenario_chaos(args: argparse.Namespace, workdir: Path) -> bool:
    from mailroom_sandbox.http.faults import FaultConfig

    print(f"chaos: {args.notices} notices, rates {args.rates}, +{args.ambiguous:.0%} ambiguous POSTs")
    if args.baseline_per_notice:  # requests per in-scope notice measured by an earlier baseline run
        from mailroom_sandbox.stack import Sandbox

        with Sandbox(notices=args.notices, seed=args.seed, scanned_fraction=args.scanned_fraction) as sandbox:
            in_scope = len(sandbox.corpus.in_scope())
        drive, logiqs = args.baseline_per_notice
        base = {"drive": round(drive * in_scope), "logiqs": round(logiqs * in_scope)}
        print(f"  baseline not run: {drive}/{logiqs} Drive/Logiqs requests per notice x {in_scope} notices")
    else:
        _, base_wall, base = _one_run(args, workdir, "chaos-baseline", None)
    floor = base["logiqs"] / LOGIQS_RATE
    print(f"  floor: {base['logiqs']} Logiqs requests / {LOGIQS_RATE:.0f} per s = {floor:.1f}s")
    ok = True
    for rate in args.rates:
        faults = FaultConfig.uniform(rate, seed=args.seed, ambiguous_rate=args.ambiguous)
        verdict, wall, calls = _one_run(args, workdir, f"chaos-{int(rate * 100)}", faults)
        ok &= verdict.exactly_once and verdict.lost == 0
        print(f"  rate {rate:.0%}: " + _ratios(verdict, wall, floor, sum(calls.values()), sum(base.values())))
    return ok


def scenario_crash(args: argparse.Namespace, workdir: Path, api_url: str) -> bool:
    from mailroom_sandbox.http.faults import FaultConfig
    from mailroom_sandbox.stack import Sandbox

    print(f"crash-resume: {args.crash_notices} notices, {args.kills} kill -9s")
    with Sandbox(notices=args.crash_notices, seed=args.seed, scanned_fraction=args.scanned_fraction) as sandbox:
        sandbox.set_faults(FaultConfig.uniform(0.05, seed=args.seed, ambiguous_rate=args.ambiguous))
        started = time.monotonic()
        verdict, runs = crash_resume(sandbox, api_url, workdir / "crash", kills=args.kills, seed=args.seed)
    print(f"  {verdict.model_dump(exclude={'wrong_folder_keys'})} in {time.monotonic() - started:.0f}s")
    print(f"  killed={sum(r.killed for r in runs)} reruns={len(runs) - 1} duplicates={verdict.duplicates} "
          f"lost={verdict.lost} exactly_once={verdict.exactly_once} wrong_folder={verdict.wrong_folder}")
    return verdict.exactly_once and sum(r.killed for r in runs) == args.kills


def scenario_outage(args: argparse.Namespace, workdir: Path) -> bool:
    from mailroom.resilience import reset_registry
    from mailroom_sandbox.stack import Sandbox

    print(f"outage: {args.outage_notices} notices, Logiqs down {args.outage:.0f}s, "
          f"breaker cooldown {args.cooldown:.0f}s")
    reset_registry()
    with Sandbox(notices=args.outage_notices, seed=args.seed, scanned_fraction=args.scanned_fraction) as sandbox:
        # Prefect retries must outlast the outage: 2 s doubling, 8 retries (about 8 minutes in all).
        save_blocks(sandbox, "chaos-outage", workdir / "outage", task_retries=8, task_retry_delay_seconds=2.0,
                    concurrency=args.concurrency)
        result = outage_run(sandbox, "chaos-outage", outage_seconds=args.outage, cooldown=args.cooldown,
                            after_tasks=max(1, args.outage_notices // 10))
        verdict = verify(sandbox)
    report = result["report"]
    print(f"  {result['state'].name} in {result['seconds']:.0f}s; {verdict.model_dump(exclude={'wrong_folder_keys'})}")
    print(f"  probes={report.get('probes')} (one per cooldown: {report.get('one_probe_per_cooldown')}, "
          f"min gap {report.get('min_probe_gap')}s) before_open={report.get('hits_before_probes')} "
          f"opens={report.get('opens')} timeline={report.get('timeline')}")
    print(f"  duplicates={verdict.duplicates} lost={verdict.lost} finished={verdict.matched + verdict.unmatched}"
          f"/{verdict.in_scope}")
    return bool(report.get("one_probe_per_cooldown")) and verdict.exactly_once and verdict.lost == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=["all", "chaos", "crash", "outage"], default="all")
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--rates", type=float, nargs="+", default=[0.1, 0.2, 0.3])
    parser.add_argument("--ambiguous", type=float, default=0.05, help="commit-then-lose rate on POSTs")
    parser.add_argument("--crash-notices", type=int, default=500)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--outage-notices", type=int, default=500)
    parser.add_argument("--outage", type=float, default=120.0, help="seconds Logiqs is down")
    parser.add_argument("--cooldown", type=float, default=30.0, help="Logiqs breaker cooldown")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--scanned-fraction", type=float, default=0.0,
                        help="share of image-only notices (OCR costs CPU, not Logiqs calls; default 0)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reruns", type=int, default=2, help="reruns after a run that left FAILED notices")
    parser.add_argument("--baseline-per-notice", type=float, nargs=2, metavar=("DRIVE", "LOGIQS"), default=None,
                        help="skip the fault-free run; use these requests per in-scope notice (from an earlier one)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)

    import logging
    import tempfile

    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_ANALYTICS_ENABLED, temporary_settings

    from blocks.prefect_server import start_server

    logging.getLogger("googleapiclient.discovery_cache").setLevel(logging.ERROR)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mailroom-chaos-"))
    workdir.mkdir(parents=True, exist_ok=True)
    server = start_server(home=workdir / "prefect-home", log_path=workdir / "prefect-server.log")
    results: dict[str, bool] = {}
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url, PREFECT_SERVER_ANALYTICS_ENABLED: False}):
            if args.scenario in ("all", "chaos"):
                results["chaos"] = scenario_chaos(args, workdir)
            if args.scenario in ("all", "crash"):
                results["crash"] = scenario_crash(args, workdir, server.api_url)
            if args.scenario in ("all", "outage"):
                results["outage"] = scenario_outage(args, workdir)
    finally:
        server.stop()
    print("result: " + " ".join(f"{name}={'PASS' if ok else 'FAIL'}" for name, ok in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
