"""Starting a step's task run, and starting it again when the Prefect server could not (its body never ran)."""

from __future__ import annotations

import time
from typing import Any

import httpx
from prefect.exceptions import PrefectHTTPStatusError

from mailroom.errors import TransientError
from tasks.timing import STEP_TIMES

PREFECT_API_ATTEMPTS = 3  # a task run the Prefect server could not start (5xx, connection) is started again


def run_step(step: str, task: Any, *args: Any) -> Any:
    """Call a step's task, timed (``tasks.timing``). When the Prefect server fails to start the task run (its tag
    concurrency check answered 5xx under load, measured with several workers), the body never ran: call again,
    and after the last attempt say so with a TRANSIENT error instead of a bug's traceback."""
    for attempt in range(1, PREFECT_API_ATTEMPTS + 1):
        try:
            return STEP_TIMES.around(step, task, *args)
        except (PrefectHTTPStatusError, httpx.TransportError) as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status is not None and status < 500:
                raise
            if attempt == PREFECT_API_ATTEMPTS:
                raise TransientError(f"Prefect server could not start the {step} task run "
                                     f"({status or type(exc).__name__})", service="prefect", operation=step,
                                     reason="prefect_api_unavailable") from exc
            time.sleep(0.5 * attempt)
    raise AssertionError("unreachable")
