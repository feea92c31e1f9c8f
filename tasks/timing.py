"""Where a run's time goes: per step, the time inside the task bodies and the time around the task calls.

``inside`` is measured in the body of each task (the work itself: HTTP, PDF reading, ledger); ``around`` by the
caller, around the Prefect task call (the work plus creating the task run, its state changes, its context and
result handling). ``around - inside`` over the number of task runs is Prefect's overhead per task run. Extraction
also records the CPU seconds of its own thread (PyMuPDF and the parser; Tesseract and isolated readers run in child
processes, whose CPU the caller adds from ``resource.getrusage(RUSAGE_CHILDREN)``).

One process-wide ``STEP_TIMES``; ``reset()`` at the start of a measured run, ``snapshot()`` at its end. The cost is
two clock reads and a lock per task run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

R = TypeVar("R")


@dataclass
class StepTime:
    runs: int = 0
    inside: float = 0.0
    around: float = 0.0
    calls: int = 0  # calls measured around (a retried task run is one call, several bodies)

    @property
    def overhead_per_run(self) -> float:
        return max(0.0, self.around - self.inside) / self.calls if self.calls else 0.0


class StepTimes:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.steps: dict[str, StepTime] = {}
        self.extract_thread_cpu = 0.0

    def __reduce__(self) -> tuple:
        """Pickled as a reference to this process's ``STEP_TIMES``: a runner that serves a flow from a script
        (``python flows/review.py --serve``) pickles the flow's functions by value, and a task function that times
        itself reaches this object (a lock cannot be pickled, and times belong to the process that measures)."""
        return (_process_step_times, ())

    def reset(self) -> None:
        with self._lock:
            self.steps = {}
            self.extract_thread_cpu = 0.0

    def _step(self, name: str) -> StepTime:
        step = self.steps.get(name)
        if step is None:
            step = self.steps[name] = StepTime()
        return step

    def add_inside(self, name: str, seconds: float) -> None:
        with self._lock:
            step = self._step(name)
            step.runs += 1
            step.inside += seconds

    def add_around(self, name: str, seconds: float) -> None:
        with self._lock:
            step = self._step(name)
            step.calls += 1
            step.around += seconds

    def add_extract_cpu(self, seconds: float) -> None:
        with self._lock:
            self.extract_thread_cpu += seconds

    @contextmanager
    def inside(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add_inside(name, time.perf_counter() - started)

    def around(self, name: str, call: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        started = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            self.add_around(name, time.perf_counter() - started)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            steps = {name: dict(runs=s.runs, calls=s.calls, inside=round(s.inside, 3), around=round(s.around, 3),
                                overhead_per_run=round(s.overhead_per_run, 4)) for name, s in self.steps.items()}
            return {"steps": steps, "extract_thread_cpu": round(self.extract_thread_cpu, 3)}


STEP_TIMES = StepTimes()


def _process_step_times() -> StepTimes:
    return STEP_TIMES
