"""``mailroom.intake.Steps`` inside the notice's own task run: the same step bodies, options and retry rules as
``tasks.steps.PrefectSteps``, without a Prefect task run per step.

Why: on large runs Prefect's cost per task run (0.7-0.9 s of a thread, plus the server's CPU for its records) was as
large as all the steps' own work (docs/operations.md, "Where the time goes"); a notice made 6-9 of them. Here a
notice is one or two task runs (``read-notice``/``process-notice``), and each step is:
- retried by the rule its task declares (``tasks.retry.retry_rule_of``) with the run's ``task_retries`` and
  jittered backoff, exactly as Prefect would retry the task;
- told in the notice task run's log when it is retried ("step upload-document: attempt 1 of 4 failed (...);
  retrying in 7.3 s"), so the UI still shows what was retried, and counted in the notice's ``task_retries``;
- timed like a task run (``tasks.timing``: its Prefect overhead is then zero).
What is lost: a row per step in the UI's task-run list, and the step's own timeout (every HTTP call still has its
connect/read timeouts; the Prefect timeout of a thread task only ever took effect at the next call anyway).
``flows.daily`` picks this mode for runs of more than ``steps_as_task_runs_up_to`` notices.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect.logging import get_run_logger

from mailroom.errors import MailroomError
from mailroom.fitting import Fitting
from tasks.context import note_task_attempt
from tasks.notices import fit_and_tell
from tasks.retry import RETRY_JITTER_FACTOR, retry_rule_of
from tasks.steps import PrefectSteps
from tasks.timing import STEP_TIMES


def retry_delay(task: Any, retry_number: int, jitter: Callable[[], float] = random.random) -> float:
    """The delay before retry ``retry_number`` (1-based) of ``task``: its own backoff list, jittered like Prefect's
    ``retry_jitter_factor`` (x [1 - f, 1 + f])."""
    delays = task.retry_delay_seconds
    if isinstance(delays, (list, tuple)):
        base = float(delays[min(retry_number, len(delays)) - 1]) if delays else 0.0
    else:
        base = float(delays or 0.0)
    factor = task.retry_jitter_factor if task.retry_jitter_factor is not None else RETRY_JITTER_FACTOR
    return max(0.0, base * (1 + factor * (2 * jitter() - 1)))


def describe(exc: BaseException) -> str:
    """A retried step's failure in the log: a mailroom error's log-safe message, else only the exception's type."""
    if isinstance(exc, MailroomError):
        return f"{exc.error_class.value}: {exc}"
    return type(exc).__name__


@dataclass(frozen=True)
class InlineSteps(PrefectSteps):
    """``PrefectSteps`` with each step run here, in the notice's task run, instead of as a task run of its own."""

    sleep: Callable[[float], None] = field(default=time.sleep)
    log: Callable[[], Any] = field(default=get_run_logger)

    def run(self, step: str, task: Any, *args: Any) -> Any:
        """One step: its task's body, retried by its task's rule, options and backoff."""
        worth_retrying = retry_rule_of(task)
        attempts = 1 + ((task.retries or 0) if worth_retrying is not None else 0)
        for attempt in range(1, attempts + 1):
            note_task_attempt(attempt)
            try:
                return STEP_TIMES.around(step, task.fn, *args)
            except Exception as exc:
                if attempt == attempts or worth_retrying is None or not worth_retrying(exc):
                    raise
                delay = retry_delay(task, attempt)
                self.log().warning("step %s: attempt %d of %d failed (%s); retrying in %.1f s", step, attempt,
                                   attempts, describe(exc), delay)
                self.sleep(delay)
        raise AssertionError("unreachable")

    def fit(self, path: Path) -> Fitting:
        return fit_and_tell(path, self.log())
