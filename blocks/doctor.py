"""``python -m mailroom doctor [--blocks NAME]``: load the blocks and run ``mailroom.doctor``'s read-only checks.

It lives in blocks/ because loading blocks needs Prefect, which the core never imports; ``python -m mailroom``
forwards here (docs/architecture.md). It reads the blocks from the Prefect server mailroom runs use
(``PREFECT_API_URL``, else 127.0.0.1:4200) and never starts one: with no server there are no blocks to check.

Exit status: 0 nothing blocks a run, 1 at least one FAIL row, 2 the doctor could not run (no server, bad usage).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from blocks.credentials import DriveCredentials, LogiqsCredentials
from blocks.prefect_server import DEFAULT_PORT, is_healthy
from blocks.settings import MailroomSettings
from mailroom.doctor import Check, Diagnosis, Status, diagnose
from mailroom.logiqs_dialects import LogiqsDialect
from mailroom.pipeline_settings import PipelineSettings
from mailroom.resilience import ResiliencePolicy

USAGE = "usage: python -m mailroom doctor [--blocks NAME] [--verbose]"


def _policy(service: str) -> ResiliencePolicy:
    """One quick retry: the doctor reports a flaky service rather than waiting it out."""
    return ResiliencePolicy(service, max_retries=1, initial_delay=0.5, max_delay=2.0, use_breaker=False,
                            use_budget=False)


def _load(block_type: Any, name: str, rows: list[Check]) -> Any:
    try:
        return block_type.load(name)
    except ValueError:  # Prefect's "Unable to find block document named ..."
        rows.append(Check(area="Blocks", name=f"{block_type.get_block_type_slug()}/{name}", status=Status.FAIL,
                          detail="no such block", fix="create it in the UI (Blocks > +), or run `python -m "
                          "blocks.register --sandbox-profile PROFILE` for a sandbox"))
        return None


def run_doctor(name: str) -> Diagnosis:
    """Load the blocks saved under ``name`` (from the current Prefect API) and check what they point at."""
    rows: list[Check] = []
    settings_block = _load(MailroomSettings, name, rows)
    drive_block = _load(DriveCredentials, name, rows)
    logiqs_block = _load(LogiqsCredentials, name, rows)
    settings = settings_block.to_settings() if settings_block is not None else PipelineSettings()
    drive, account = None, None
    if drive_block is not None:
        account = drive_block.service_account_info.get_secret_value().get("client_email")
        try:
            drive = drive_block.client(_policy("drive"))
        except Exception as exc:  # noqa: BLE001 -- a malformed key file is a row in the table, not a traceback
            rows.append(Check(area="Drive", name="auth", status=Status.FAIL,
                              detail=f"the service-account key cannot be used ({type(exc).__name__})",
                              fix="paste the service account's JSON key into the Drive credentials block"))
    dialect = logiqs_block.dialect() if logiqs_block is not None else LogiqsDialect()

    def logiqs_client(variant: LogiqsDialect) -> Any:
        return logiqs_block.client(_policy("logiqs"), dialect=variant)

    found = diagnose(settings, drive=drive, logiqs=logiqs_client if logiqs_block is not None else None,
                     dialect=dialect, service_account=account)
    return Diagnosis(checks=rows + found.checks)


def _api_url() -> str | None:
    from prefect.settings import PREFECT_API_URL

    configured = PREFECT_API_URL.value()
    candidate = configured or f"http://127.0.0.1:{DEFAULT_PORT}/api"
    return candidate if is_healthy(candidate) else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mailroom doctor",
                                     description="Check, read-only, what the blocks point at (Drive, Logiqs).")
    parser.add_argument("--blocks", default="default", help="block documents to check (default 'default')")
    parser.add_argument("--verbose", action="store_true", help="also show the clients' log lines")
    args = parser.parse_args(argv)
    # The probes expect refusals (the dialect not configured, an incomplete request): their error lines are noise.
    logging.getLogger("mailroom").setLevel(logging.DEBUG if args.verbose else logging.CRITICAL)
    logging.getLogger("googleapiclient.discovery_cache").setLevel(logging.ERROR)
    api_url = _api_url()
    if api_url is None:
        print("No Prefect server answers (PREFECT_API_URL, else 127.0.0.1:4200), so there are no blocks to check. "
              "Start it (`prefect server start`) or set PREFECT_API_URL.", file=sys.stderr)
        return 2
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        diagnosis = run_doctor(args.blocks)
    print(f"mailroom doctor: blocks {args.blocks!r} on {api_url.removesuffix('/api')} (read-only checks)\n")
    print(diagnosis.table())
    return 1 if diagnosis.blocking else 0


def cli(argv: list[str]) -> int:
    """``python -m mailroom <command>``: the one command is ``doctor``."""
    if not argv or argv[0] != "doctor":
        print(USAGE, file=sys.stderr)
        return 2
    return main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
