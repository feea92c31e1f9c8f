"""What a task needs at run time (clients, settings, the private work dir), handed over without task parameters.

Clients hold sessions and secrets, so they are never task parameters (which Prefect hashes, records and could show).
The flow sets them in a ContextVar; Prefect's thread-pool runner copies the context into every worker thread, and
nested task calls run in the caller's thread, so every task of the run sees the same ``Services``.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from mailroom.errors import ConfigurationError
from mailroom.pipeline_settings import PipelineSettings

if TYPE_CHECKING:
    from mailroom.drive import DriveClient
    from mailroom.intake import Intake
    from mailroom.ledger import Ledger
    from mailroom.logiqs import LogiqsClient
    from mailroom.notices import ExtractionLimits
    from tasks.options import RunTasks

_fallback_logger = logging.getLogger("mailroom.tasks")


@dataclass
class Services:
    drive: "DriveClient" = field(repr=False)
    logiqs: "LogiqsClient" = field(repr=False)
    settings: PipelineSettings
    workdir: Path
    ledger: "Ledger" = field(repr=False)
    owner: str  # unique per run (the flow run id): the ledger lease holder
    tasks: "RunTasks" = field(repr=False)  # the service tasks with this run's options
    intake: "Intake" = field(repr=False)  # a notice's fate: the rules, over this run's ledger and folders
    drive_web_links: bool = False  # real Google Drive: files have https://drive.google.com/file/d/<id> pages
    extraction_limits: "ExtractionLimits | None" = None


_services: ContextVar[Services | None] = ContextVar("mailroom_services", default=None)


@contextmanager
def use_services(services: Services) -> Iterator[Services]:
    token = _services.set(services)
    try:
        yield services
    finally:
        _services.reset(token)


def services() -> Services:
    current = _services.get()
    if current is None:
        raise ConfigurationError("mailroom tasks run inside the daily flow (no services are set up here)")
    return current


class RetryCounter:
    """Retries seen while working on one notice: Prefect-level (task attempts after the first) and call-level."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0  # call-level
        self.task_retries = 0

    def add(self) -> None:
        with self._lock:
            self.count += 1

    def add_task_retry(self) -> None:
        with self._lock:
            self.task_retries += 1


_notice_retries: ContextVar[RetryCounter | None] = ContextVar("mailroom_notice_retries", default=None)


@contextmanager
def counting_call_retries(counter: RetryCounter | None = None) -> Iterator[RetryCounter]:
    """Count one notice's retries; pass the counter of its earlier phase (reading) to keep counting (filing)."""
    counter = counter or RetryCounter()
    token = _notice_retries.set(counter)
    try:
        yield counter
    finally:
        _notice_retries.reset(token)


def note_task_attempt(run_count: int) -> None:
    """Called at the start of every service task attempt; attempts after the first are Prefect retries."""
    counter = _notice_retries.get()
    if counter is not None and run_count > 1:
        counter.add_task_retry()


def _run_logger() -> logging.Logger | logging.LoggerAdapter:
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:
        return _fallback_logger


def log_call_retry(event: Any) -> None:
    """Hook for ``mailroom.resilience.add_retry_hook``: one line per call-level retry, in the task run's log.

    The event is log-safe by contract (service, operation, attempt, wait, error class, reason); nothing else from
    the failed call is written.
    """
    counter = _notice_retries.get()
    if counter is not None:
        counter.add()
    error_class = getattr(event, "error_class", None)
    error_class = getattr(error_class, "value", error_class)
    attempt = getattr(event, "attempt", "?")
    max_attempts = getattr(event, "max_attempts", None)
    attempt_text = f"{attempt}/{max_attempts}" if max_attempts else f"{attempt}"
    _run_logger().warning(
        "call-level retry: %s %s attempt %s failed (%s: %s); retrying in %.1fs",
        getattr(event, "service", "?"),
        getattr(event, "operation", "?"),
        attempt_text,
        error_class,
        getattr(event, "reason", ""),
        float(getattr(event, "wait", 0.0) or 0.0),
    )


_hook_lock = threading.Lock()


def install_call_retry_logging() -> None:
    """Register ``log_call_retry`` with the resilience core once (again after a ``reset_registry``)."""
    from mailroom.resilience import add_retry_hook, registry

    with _hook_lock:
        if log_call_retry not in registry.retry_hooks:
            add_retry_hook(log_call_retry)
