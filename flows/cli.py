"""`python flows/daily.py ...`: run the daily flow once, against a real Prefect server, and print a short summary."""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from prefect import Flow
from prefect.settings import PREFECT_API_URL, temporary_settings

from blocks.prefect_server import ensure_server, flush_run_records, prefect_cli
from flows.records import summary_of, wait_until_recorded

SANDBOX_SETTINGS: dict[str, Any] = dict(
    # Short waits so the demo shows retries without stalling; production defaults live in PipelineSettings.
    task_retry_delay_seconds=1.0,
    call_initial_delay=0.25,
    call_max_delay=5.0,
    concurrency=4,
)
# The demo's throttles ask for a longer wait than the call level may sleep (call_max_delay), so each one is handed to
# Prefect and becomes a task-level retry: a new user sees a task run with Run Count 2 (README, "Try it"). With the
# default seed the run's very first Task/Task request, the Logiqs access check's probe, is one of them.
DEMO_RETRY_AFTER_SECONDS = SANDBOX_SETTINGS["call_max_delay"] + 1.0


def _at_least_one(text: str) -> int:
    """argparse type for counts: the same rule as the flow's parameter types (``Field(ge=1)``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python flows/daily.py", description="Run the daily mailroom flow once.")
    parser.add_argument("--sandbox", action="store_true",
                        help="start the built-in Drive/Logiqs sandbox and use it (needs the sandbox extra)")
    parser.add_argument("--notices", type=_at_least_one, default=40, help="sandbox: notices to generate (default 40)")
    parser.add_argument("--fault-rate", type=float, default=0.05, help="sandbox: injected fault rate (default 0.05)")
    parser.add_argument("--seed", type=int, default=7, help="sandbox: corpus and fault seed")
    parser.add_argument("--logiqs-dialect", choices=["v3", "v4"], default="v4",
                        help="sandbox: the case search the Logiqs emulator serves (V3 or V4 Case/FindCase)")
    parser.add_argument("--blocks", default="default", help="block documents to use (default 'default')")
    parser.add_argument("--limit", type=_at_least_one, default=None, help="process at most N notices")
    parser.add_argument("--dry-run", action="store_true", help="read and match only; write nothing")
    parser.add_argument("--concurrency", type=_at_least_one, default=None, help="notices processed at once")
    parser.add_argument("--input-folder", default=None, help="Drive folder id to read instead of the configured root")
    parser.add_argument("--stop-server", action="store_true",
                        help="stop the Prefect server afterwards if this command started it")
    return parser


SANDBOX_MISSING = """\
--sandbox needs the optional sandbox extra (local Drive/Logiqs emulators, synthetic notices): {missing} is not \
installed here.
Install it with:  pip install 'mailroom[sandbox]'    (in a checkout: bash scripts/install.sh)"""


def sandbox_unavailable() -> str | None:
    """What to tell a person whose ``--sandbox`` cannot run because the sandbox extra is not installed; else None.

    The sandbox is imported here and in ``_start_sandbox`` only: the product runs without it.
    """
    try:
        import mailroom_sandbox.stack  # noqa: F401  (the emulators, the corpus generator and their libraries)
    except ModuleNotFoundError as exc:
        if (exc.name or "").startswith(("mailroom_sandbox.", "mailroom.")):
            raise  # one of our own modules is missing: a bug to show, not an extra to install
        return SANDBOX_MISSING.format(missing=exc.name)
    return None


def demo_faults(fault_rate: float, seed: int) -> Any:
    """The demo's injected faults: uniform at ``fault_rate``, throttles with ``DEMO_RETRY_AFTER_SECONDS``."""
    from mailroom_sandbox.http.faults import FaultConfig

    if not fault_rate:
        return None
    return FaultConfig.uniform(fault_rate, seed=seed, retry_after_seconds=DEMO_RETRY_AFTER_SECONDS)


def _start_sandbox(stack: ExitStack, args: argparse.Namespace) -> str:
    from blocks.register import SandboxProfile, save_sandbox_blocks
    from mailroom_sandbox.stack import SANDBOX_TODAY, Sandbox

    # Notices dated in the weeks before the sandbox's today, so the run shows overdue and urgent ones first.
    sandbox = stack.enter_context(
        Sandbox(notices=args.notices, seed=args.seed, as_of=SANDBOX_TODAY,
                faults=demo_faults(args.fault_rate, args.seed), logiqs_dialect=f"{args.logiqs_dialect}-findcase")
    )
    save_sandbox_blocks(
        SandboxProfile.of(sandbox), name="sandbox", state_dir=str(Path(sandbox.workdir) / "state"),
        report_dir=str(Path("reports").resolve()), **SANDBOX_SETTINGS,
    )
    print(f"Sandbox up: {args.notices} notices, fault rate {args.fault_rate:.0%} "
          f"(Drive {sandbox.drive_url}, Logiqs {sandbox.logiqs_url}, case search {sandbox.logiqs_dialect})")
    return "sandbox"


def _print_summary(state: Any, ui_url: str) -> None:
    flow_run_id = state.state_details.flow_run_id
    summary = summary_of(state)
    print()
    print(f"Run {state.name}: {state.message or ''}".rstrip())
    if summary is not None and summary.report:
        written = [str(path) for path in (summary.report.xlsx, summary.report.csv) if path is not None]
        for n, line in enumerate(written or [summary.report.local]):
            print(f"  report: {line}" if n == 0 else f"          {line}")
    print(f"  UI:     {ui_url}/runs/flow-run/{flow_run_id}")


def main(daily_flow: Flow[..., Any], argv: list[str] | None = None) -> int:
    """Run ``daily_flow`` (flows.daily passes its flow in, so this module never imports it back)."""
    args = _parser().parse_args(argv)
    if args.sandbox and (missing := sandbox_unavailable()):
        print(missing, file=sys.stderr)
        return 2
    logging.getLogger("googleapiclient.discovery_cache").setLevel(logging.ERROR)
    server = ensure_server(PREFECT_API_URL.value())
    if server.started_here:
        print(f"Started a Prefect server at {server.ui_url} (stop it with `prefect server stop`)")
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}), ExitStack() as stack:
            blocks = _start_sandbox(stack, args) if args.sandbox else args.blocks
            state = daily_flow(
                limit=args.limit, dry_run=args.dry_run, input_folder_id=args.input_folder,
                concurrency=args.concurrency, blocks=blocks, return_state=True,
            )
            flush_run_records()
            wait_until_recorded(state.state_details.flow_run_id, timeout=60)
            _print_summary(state, server.ui_url)
            return 0 if state.is_completed() else 1
    finally:
        if args.stop_server and server.started_here:
            _stop_background_server()


def _stop_background_server() -> None:
    subprocess.run([*prefect_cli(), "server", "stop"], check=False, capture_output=True)
