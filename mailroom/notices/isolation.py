"""Run one extraction in a child process that is killed at the time budget and capped in memory.

In-process extraction bounds time cooperatively (checks between pages, Tesseract killed by its timeout), which
cannot stop a hang inside MuPDF itself. ``ExtractionLimits(isolate=True)`` trades ~50-100 ms of process start for a
hard bound: the child runs under RLIMIT_AS and is killed when the budget plus a grace period has passed.
"""

from __future__ import annotations

import multiprocessing
import resource
from multiprocessing.connection import Connection
from pathlib import Path

from mailroom.notices.model import ExtractionError, ExtractionFailure, ExtractionLimits, Notice

_GRACE_SECONDS = 2.0
# forkserver: children fork from a clean single-threaded server (forking a process that runs Prefect's threads is
# unsafe), and the server has our modules preloaded so each child starts fast.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["mailroom.notices.extract"])


def _child(connection: Connection, path: str, file_name: str | None, limits_json: str) -> None:
    from mailroom.notices.extract import extract_in_process

    limits = ExtractionLimits.model_validate_json(limits_json)
    memory_bytes = limits.memory_limit_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        notice = extract_in_process(Path(path), file_name=file_name, limits=limits)
        connection.send(("ok", notice.model_dump_json()))
    except ExtractionError as exc:
        connection.send(("error", (exc.failure.value, str(exc))))
    except MemoryError:
        connection.send(("error", (ExtractionFailure.TOO_LARGE.value, f"extraction exceeded {limits.memory_limit_mb} MB")))
    except Exception as exc:  # noqa: BLE001 - anything else from a parser library means the file is unreadable
        connection.send(("error", (ExtractionFailure.CORRUPT.value, f"PDF cannot be processed ({type(exc).__name__})")))
    finally:
        connection.close()


def extract_isolated(path: Path, *, file_name: str | None, limits: ExtractionLimits) -> Notice:
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(
        target=_child, args=(sender, str(path), file_name, limits.model_dump_json()), daemon=True
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(limits.time_budget_seconds + _GRACE_SECONDS):
            raise ExtractionError(
                ExtractionFailure.TIMEOUT, f"extraction exceeded the {limits.time_budget_seconds:.0f} s time budget"
            )
        try:
            kind, payload = receiver.recv()
        except EOFError:  # the child died without answering: killed by the memory limit or a native crash
            raise ExtractionError(
                ExtractionFailure.CORRUPT, "extraction process died while reading the PDF"
            ) from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(timeout=5)
        receiver.close()
    if kind == "ok":
        return Notice.model_validate_json(payload)
    failure, message = payload
    raise ExtractionError(ExtractionFailure(failure), message)
