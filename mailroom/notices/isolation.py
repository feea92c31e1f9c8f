"""Run one extraction in a child interpreter that is killed at the time budget and capped in memory.

In-process extraction bounds time cooperatively (checks between pages, Tesseract killed by its timeout), which
cannot stop a hang inside MuPDF itself. ``ExtractionLimits(isolate=True)`` trades ~0.3 s of interpreter start for a
hard bound: the child runs under RLIMIT_AS and is killed when the budget plus a grace period has passed.

A fresh ``python -m`` child rather than multiprocessing: fork is unsafe in a process running Prefect's threads, and
spawn/forkserver re-import the caller's ``__main__`` (a flow script importing Prefect) in every child.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

from mailroom.notices.model import ExtractionError, ExtractionFailure, ExtractionLimits, Notice


def extract_isolated(path: Path, *, file_name: str | None, limits: ExtractionLimits) -> list[Notice]:
    request = json.dumps({"path": str(path), "file_name": file_name, "limits": limits.model_dump(mode="json")})
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "mailroom.notices.isolation"],
            input=request, capture_output=True, text=True,
            timeout=limits.time_budget_seconds + limits.isolation_grace_seconds,
        )  # fmt: skip
    except subprocess.TimeoutExpired:  # subprocess.run kills the child before raising
        raise ExtractionError(
            ExtractionFailure.TIMEOUT, f"extraction exceeded the {limits.time_budget_seconds:.1f} s time budget"
        ) from None
    if completed.returncode != 0 or not completed.stdout.strip():
        # killed by the memory limit or a native crash; stderr is not echoed (it could quote document content)
        raise ExtractionError(
            ExtractionFailure.CORRUPT, f"extraction process died while reading the PDF (exit {completed.returncode})"
        )
    answer = json.loads(completed.stdout)
    if "notices" in answer:
        return [Notice.model_validate(notice) for notice in answer["notices"]]
    raise ExtractionError(ExtractionFailure(answer["failure"]), answer["message"])


def _serve_one() -> None:
    request = json.loads(sys.stdin.read())
    limits = ExtractionLimits.model_validate(request["limits"])
    memory_bytes = limits.memory_limit_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    from mailroom.notices.extract import extract_in_process

    try:
        notices = extract_in_process(Path(request["path"]), file_name=request["file_name"], limits=limits)
        answer = {"notices": [notice.model_dump(mode="json") for notice in notices]}
    except ExtractionError as exc:
        answer = {"failure": exc.failure.value, "message": str(exc)}
    except Exception as exc:  # noqa: BLE001 - anything else from a PDF library means the file is unreadable
        # MemoryError from Python, FzErrorMemory (or a "malloc" failure) from MuPDF under RLIMIT_AS
        if isinstance(exc, MemoryError) or "memory" in type(exc).__name__.lower() or "malloc" in str(exc).lower():
            answer = {"failure": ExtractionFailure.TOO_LARGE.value,
                      "message": f"reading the PDF needs more than the {limits.memory_limit_mb} MB memory limit"}
        else:
            message = f"PDF cannot be processed ({type(exc).__name__})"
            answer = {"failure": ExtractionFailure.CORRUPT.value, "message": message}
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    _serve_one()
