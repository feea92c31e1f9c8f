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
    inline_steps: bool = False  # a notice's steps run inside its task run (tasks.inline_steps), not as task runs


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

    # Packed with a reading that waits its turn (flows.urgent_first); a lock does not pickle.
    def __getstate__(self) -> dict[str, int]:
        return {"count": self.count, "task_retries": self.task_retries}

    def __setstate__(self, state: dict[str, int]) -> None:
        self.__init__()
        self.count, self.task_retries = state["count"], state["task_retries"]


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


def count_call_retry(event: Any) -> None:
    """Hook for ``mailroom.resilience.add_retry_hook``: counts a call-level retry against the notice being worked on.

    It writes no line: the resilience core already logs one per retry (the guide's wording plus service, operation,
    class and reason), and ``CoreLinesToRunLog`` puts that line in the task run's log. Two lines per retry was one
    too many.
    """
    counter = _notice_retries.get()
    if counter is not None:
        counter.add()


class CoreLinesToRunLog(logging.Handler):
    """Sends the core's log records (``mailroom.*``: retries, circuit opens, give-ups) to the Prefect run they
    happen in, so they show in the task run's log in the UI. Outside a flow or task run it does nothing (the
    terminal still gets them through the root logger)."""

    def __init__(self) -> None:
        from prefect.logging.handlers import APILogHandler

        super().__init__()
        self._api = APILogHandler()

    def emit(self, record: logging.LogRecord) -> None:
        from prefect.context import FlowRunContext, TaskRunContext

        if FlowRunContext.get() is None and TaskRunContext.get() is None:
            return
        self._api.setFormatter(self.formatter)
        self._api.emit(record)


_hook_lock = threading.Lock()


def install_call_retry_logging() -> None:
    """Count call-level retries per notice, and show the core's own lines in the run's log (once per process)."""
    from mailroom.pii import install_scrubber
    from mailroom.resilience import add_retry_hook, registry

    with _hook_lock:
        if count_call_retry not in registry.retry_hooks:
            add_retry_hook(count_call_retry)
        core = logging.getLogger("mailroom")
        if not any(isinstance(h, CoreLinesToRunLog) for h in core.handlers):
            core.addHandler(CoreLinesToRunLog())
            install_scrubber("mailroom")  # its handlers too: this one ships lines off the machine
