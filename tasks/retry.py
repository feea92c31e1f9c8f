"""Prefect-level retry rules shared by every Drive/Logiqs task.

Two layers retry: the resilience core absorbs short blips inside one task attempt (call-level), and Prefect retries
the whole task for longer incidents (an open circuit, an exhausted call-level retry). Both read the classification
carried on ``mailroom.errors.MailroomError`` so they never disagree about what is worth retrying.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import task_run as prefect_task_run
from prefect.tasks import exponential_backoff

from mailroom.errors import CircuitOpenError, ErrorClass, MailroomError
from tasks.context import note_task_attempt
from tasks.timing import STEP_TIMES

R = TypeVar("R")

RETRY_JITTER_FACTOR = 0.5  # each Prefect retry delay is drawn from delay x [0.5, 1.5] so workers do not stampede


def exception_of(state: Any) -> BaseException | None:
    """The exception a Failed state carries (in-process states keep it as their data)."""
    data = getattr(state, "data", None)
    if isinstance(data, BaseException):
        return data
    try:
        result = state.result(raise_on_failure=False)
    except Exception as exc:  # a result that cannot be read is itself the best evidence we have
        return exc
    return result if isinstance(result, BaseException) else None


def _error_class(exc: BaseException) -> ErrorClass | None:
    if isinstance(exc, CircuitOpenError):
        return ErrorClass.TRANSIENT  # the breaker will let a probe through after its cooldown
    if isinstance(exc, MailroomError):
        return exc.error_class
    if isinstance(exc, TimeoutError):
        # Prefect's own task timeout: the attempt was cut off, so treat it like a lost response.
        return ErrorClass.AMBIGUOUS
    return None  # a bug or an unclassified foreign error: retrying it only hides it


def idempotent_step_worth_retrying(exc: BaseException) -> bool:
    """For idempotent steps (reads, moves to a fixed folder): TRANSIENT, THROTTLED and CircuitOpen.

    A timeout is retried too: repeating an idempotent step is safe. PERMANENT never is.
    """
    if isinstance(exc, TimeoutError):
        return True
    error_class = _error_class(exc)
    return error_class is not None and error_class.retryable


def checked_effect_worth_retrying(exc: BaseException) -> bool:
    """For effect steps whose body looks for its marker in Logiqs before acting again (a dedup check).

    AMBIGUOUS is retried only because the retried attempt checks first; PERMANENT never is.
    """
    error_class = _error_class(exc)
    return error_class is not None and (error_class.retryable or error_class is ErrorClass.AMBIGUOUS)


RetryCondition = Callable[[Any, Any, Any], bool]


def _prefect_condition(worth_retrying: Callable[[BaseException], bool]) -> RetryCondition:
    """A Prefect ``retry_condition_fn`` over an exception rule; the rule stays reachable from the task's options
    (``retry_rule_of``) so steps run inside a notice's task run retry by the very same rule."""

    def condition(task: Any, task_run: Any, state: Any) -> bool:
        exc = exception_of(state)
        return exc is not None and worth_retrying(exc)

    condition.worth_retrying = worth_retrying  # type: ignore[attr-defined]
    condition.__name__ = condition.__qualname__ = f"retry_if_{worth_retrying.__name__}"
    return condition


retry_transient = _prefect_condition(idempotent_step_worth_retrying)
retry_transient_or_checked_ambiguous = _prefect_condition(checked_effect_worth_retrying)


def retry_rule_of(task: Task[..., Any]) -> Callable[[BaseException], bool] | None:
    """The exception rule behind a task's retry condition (None: the task is never retried)."""
    return getattr(task.retry_condition_fn, "worth_retrying", None)


def jittered_backoff(first_delay: float) -> Callable[[int], list[float]]:
    """Exponential delays first, 2x first, 4x first ...; Prefect applies ``RETRY_JITTER_FACTOR`` on top."""
    return exponential_backoff(backoff_factor=first_delay)


class _WorkerThreadTimeoutNotice(logging.Filter):
    """Drops Prefect's per-run warning that a worker-thread timeout cannot interrupt a blocking call.

    We know, and rely on it only as an outer bound: every HTTP call has its own (connect, read) timeout in the
    clients, so the task timeout takes effect at the next call boundary (docs/operations.md). Repeated on every task
    run, the warning would bury the lines that matter (retries) in the UI.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Timeout of %s seconds configured for this task, but the task is")


logging.getLogger("prefect.task_runs").addFilter(_WorkerThreadTimeoutNotice())


def service_task(
    *, name: str, service: str, retry_condition: Callable[[Any, Any, Any], bool] = retry_transient
) -> Callable[[Callable[..., R]], Task[..., R]]:
    """The decorator every Drive/Logiqs task uses; ``tasks.options.RunTasks`` applies the operator's settings.

    No cache: a skipped effect would be a lost notice (exactly-once is the ledger's job, not a cache's). No result
    persistence: results carry taxpayer names and must not be written to Prefect's storage.
    """

    def decorate(fn: Callable[..., R]) -> Task[..., R]:
        @functools.wraps(fn)
        def attempt(*args: Any, **kwargs: Any) -> R:
            note_task_attempt(prefect_task_run.run_count)
            with STEP_TIMES.inside(name):
                return fn(*args, **kwargs)

        return task(
            attempt,
            name=name,
            tags=[service],
            retries=2,
            retry_delay_seconds=jittered_backoff(10.0),
            retry_jitter_factor=RETRY_JITTER_FACTOR,
            retry_condition_fn=retry_condition,
            timeout_seconds=300,
            cache_policy=NO_CACHE,
            persist_result=False,
        )

    return decorate
