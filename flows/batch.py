"""``process-notices``: one batch of a fanned-out daily run, as its own flow run on any worker of the pool.

The daily run (``flows/daily.py`` with ``fan_out_deployment`` set) lists the notices and starts one run of this
flow's deployment per batch, with the notices' Drive ids only (no names in parameters). Each batch does exactly what
the one-process run does for its notices (``flows.daily.process_all``: the rules in ``mailroom.intake``, every step
a task run), under its own ledger owner, then hands its report rows to the parent through the shared database
(``mailroom.run_rows``). Exactly-once holds across batches and workers because every worker uses the same ledger
(``ledger_url``) and, with ``shared_rate_limits``, the same Prefect rate limits.
"""

from __future__ import annotations

import json
import resource
import sys
from contextlib import ExitStack
from pathlib import Path

if __package__ in (None, ""):  # loaded by file path (a worker's entrypoint): make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prefect import flow
from prefect.logging import get_run_logger
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State

from blocks.config import load_run_config
from flows.daily import SCRUBBED_LOGGERS, build_services, process_all, run_workdir
from mailroom.errors import MailroomError
from mailroom.pii import install_scrubber
from mailroom.process_memory import limit_malloc_arenas
from mailroom.resilience import metrics_snapshot
from mailroom.run_rows import RunRows
from tasks.context import install_call_retry_logging, use_services
from tasks.limits import shared_limits_installed
from tasks.timing import STEP_TIMES

DEPLOYMENT_NAME = "process-notices"
TIMING_MARK = "timing="  # the batch's step times, at the end of its final state's message (benchmarks read them)


@flow(name="process-notices", persist_result=False, log_prints=False)
def process_notices(
    file_ids: list[str], parent_run_id: str, batch: int = 0, blocks: str = "default", dry_run: bool = False,
    concurrency: int | None = None, inline_steps: bool = False,
) -> State:
    """Process one batch of a daily run's notices and hand their rows to that run.

    Args:
        file_ids: Drive ids of the notices in this batch (the daily run listed them).
        parent_run_id: the daily run that reports these notices.
        batch: the batch's number within the daily run.
        blocks: name of the block documents to use.
        dry_run: read and match only.
        concurrency: notices processed at once in this batch (default: the settings block's value).
        inline_steps: run each notice's steps inside its task run (the daily run decides for all its batches).
    """
    install_scrubber(*SCRUBBED_LOGGERS)
    logger = get_run_logger()
    try:
        config = load_run_config(blocks)
    except MailroomError as exc:
        logger.error("%s", exc)
        return Failed(message=str(exc))
    install_call_retry_logging()
    limit_malloc_arenas()  # before the task runner's threads exist (mailroom.process_memory)
    settings = config.settings
    STEP_TIMES.reset()  # a worker process runs one flow run: its step times are this batch's
    children_cpu = _children_cpu()
    owner = str(flow_run.id or f"{parent_run_id}-{batch}")
    with ExitStack() as stack, RunRows.open(settings.ledger_url, settings.state_dir) as store:
        services = build_services(config, run_workdir(stack, config, owner), owner=owner)
        with use_services(services), services.ledger, shared_limits_installed(settings):
            try:
                files = services.tasks.get_notices(file_ids)
            except MailroomError as exc:
                logger.error("batch %d: cannot read its notices: %s", batch, exc)
                return Failed(message=f"Cannot start batch {batch}: {exc}")
            today = settings.today()  # the firm's today, as the daily run counts days left and overdue alerts
            rows, skips = process_all(files, concurrency or settings.concurrency, dry_run, today, progress=False,
                                      most_urgent_first=settings.file_most_urgent_first,  # within the batch
                                      inline_steps=inline_steps)
            store.add(parent_run_id, batch, rows)
    gone = len(file_ids) - len(files)
    message = f"batch {batch}: {len(rows)} row(s) handed to run {parent_run_id}, {len(skips)} skipped, {gone} gone"
    waits = {service: round(sum(op.limiter_wait_seconds for op in ops.values()), 3)
             for service, ops in metrics_snapshot().items()}  # local bucket + the pool's shared limit
    timing = {**STEP_TIMES.snapshot(), "child_cpu": round(_children_cpu() - children_cpu, 3), "limiter_wait": waits}
    logger.info("%s; step times %s", message, json.dumps(timing))
    return Completed(message=f"{message}; {TIMING_MARK}{json.dumps(timing, separators=(',', ':'))}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # Tesseract, isolated readers: extraction's children
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":  # `python flows/batch.py` is not a way to run mailroom: the daily flow starts batches
    raise SystemExit("process-notices runs as a deployment started by the daily flow; see README 'Scaling out'")
