"""Keeping Prefect's engine from burying a run's own failure message under a traceback.

A mailroom flow that cannot go on (missing blocks, unknown folder, FAILED notices) logs one clear line and returns a
``Failed`` state with that message. In a deployment run, Prefect's engine then asks for the run's result, gets the
``FailedRun`` exception that stands for that state, and logs "Engine execution exited with unexpected exception" with
a ~40-line traceback, in the worker's terminal and in the run's logs (PREFECT_NOTES.md). Nothing unexpected happened:
the state, its message and the line before it already say everything. This filter drops exactly that record.

It is installed when a flow module is imported, which the engine does before it runs the flow. A real exception (a
bug) is not a ``FailedRun`` and keeps its traceback.
"""

from __future__ import annotations

import logging

from prefect.exceptions import FailedRun

# The flow run's logger (Prefect's "Engine execution exited ..." line) and the engine's own (the process exit line).
ENGINE_LOGGERS = ("prefect.flow_runs", "prefect.engine")


class DeliberateFailureTraceback(logging.Filter):
    """Drops a record whose exception is the ``FailedRun`` of a Failed state the flow returned on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, FailedRun)


def quiet_deliberate_failures() -> None:
    """Install the filter once on the engine's loggers (safe to call again)."""
    for name in ENGINE_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(f, DeliberateFailureTraceback) for f in target.filters):
            target.addFilter(DeliberateFailureTraceback())
