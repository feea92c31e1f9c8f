"""Create or update the Prefect global concurrency limits that pace every worker's Drive and Logiqs calls together.

    python -m blocks.limits                 # from the settings block named "default"
    python -m blocks.limits --blocks NAME   # another settings block

Each service gets a rate limit of ``<service>_burst`` slots decaying at ``<service>_calls_per_second``
(mailroom-drive-calls, mailroom-logiqs-calls). A run with ``shared_rate_limits`` on creates them when missing, but
never changes existing ones: after changing a rate in the settings block, run this command. The same limits can be
made by hand: ``prefect global-concurrency-limit create mailroom-logiqs-calls --limit 2 --slot-decay-per-second 8``.
"""

from __future__ import annotations

import argparse

from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound

from blocks.prefect_server import ensure_server
from blocks.settings import MailroomSettings
from mailroom.pipeline_settings import PipelineSettings


def ensure_shared_limits(settings: PipelineSettings, *, update: bool = False) -> list[str]:
    """Create the services' global concurrency limits that are missing (``update``: also reset existing ones to
    the settings' values). Returns one line per limit saying what it is now. Needs a Prefect API."""
    lines = []
    with get_client(sync_client=True) as client:
        for service, (name, slots, rate) in settings.shared_limits().items():
            try:
                existing = client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                existing = None
            if existing is None or update:
                client.upsert_global_concurrency_limit_by_name(name, slots, slot_decay_per_second=rate)
                action = "created" if existing is None else "updated"
            else:
                slots, rate, action = existing.limit, existing.slot_decay_per_second, "kept"
            lines.append(f"{name}: {slots} slot(s) decaying at {rate:g}/s ({service}; {action})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m blocks.limits", description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", default="default", help="name of the Mailroom Settings block to read rates from")
    args = parser.parse_args(argv)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server = ensure_server(PREFECT_API_URL.value())
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        settings = MailroomSettings.load(args.blocks).to_settings()
        for line in ensure_shared_limits(settings, update=True):
            print(line)
    print(f"Set shared_rate_limits on in mailroom-settings/{args.blocks} for runs to use them (UI: Concurrency).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
