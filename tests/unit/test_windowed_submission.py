"""A run submits its notices a window at a time (``flows.run_results.in_a_window``): a 10,000-notice run must not
hold 10,000 futures with their parameters, and notices must start in the order given (most urgent first). The
runner here is a real thread pool; each call waits until the test lets it finish, so the count is forced."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

from prefect.task_runners import ThreadPoolTaskRunner

from flows.run_results import in_a_window


class PoolRunner:
    """What ``in_a_window`` needs of a task runner: ``submit(task, parameters)`` returning a future."""

    def __init__(self, workers: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers)
        self.lock = threading.Lock()
        self.submitted: list[int] = []
        self.unfinished = 0
        self.most_unfinished = 0
        self._cancel_events: dict[uuid.UUID, threading.Event] = {}  # as Prefect's ThreadPoolTaskRunner keeps them

    def submit(self, task, parameters) -> Future:
        with self.lock:
            self.submitted.append(parameters["n"])
            self.unfinished += 1
            self.most_unfinished = max(self.most_unfinished, self.unfinished)
        future = self.pool.submit(task, **parameters)
        future.task_run_id = uuid.uuid4()
        self._cancel_events[future.task_run_id] = threading.Event()
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future: Future) -> None:
        with self.lock:
            self.unfinished -= 1


def test_at_most_the_window_is_in_flight_and_calls_start_in_order():
    runner = PoolRunner(workers=8)
    release = [threading.Event() for _ in range(20)]

    def work(n: int) -> int:
        release[n].wait(timeout=10)
        return n * n

    calls = ((n, {"n": n}) for n in range(20))
    seen = []
    windowed = in_a_window(runner, work, calls, window=3)
    for n in range(20):
        release[n].set()  # one finishes at a time, in order
        key, future = next(windowed)
        seen.append((key, future.result()))
        assert runner.most_unfinished <= 3
    assert next(windowed, None) is None
    assert seen == [(n, n * n) for n in range(20)]
    assert runner.submitted == list(range(20)) and runner.most_unfinished == 3
    runner.pool.shutdown()


def test_calls_are_drawn_lazily_so_a_generator_can_free_what_it_handed_over():
    runner = PoolRunner(workers=2)
    drawn = []

    def calls():
        for n in range(6):
            drawn.append(n)
            yield n, {"n": n}

    windowed = in_a_window(runner, lambda n: n, calls(), window=2)
    first = next(windowed)
    assert first[0] in (0, 1) and len(drawn) == 3  # the window, plus the one submitted after the first finished
    assert sorted([first[0]] + [key for key, _ in windowed]) == list(range(6))
    runner.pool.shutdown()


def test_a_finished_task_runs_cancel_event_is_not_kept_for_the_rest_of_the_run():
    # Prefect's thread runner keeps an Event per task run until it closes (~1.3 KB; two per notice).
    assert isinstance(ThreadPoolTaskRunner(max_workers=1)._cancel_events, dict)  # what forget_cancel_event relies on
    runner = PoolRunner(workers=2)
    keys = [key for key, _ in in_a_window(runner, lambda n: n, ((n, {"n": n}) for n in range(5)), 2)]
    assert sorted(keys) == list(range(5)) and len(runner.submitted) == 5 and runner._cancel_events == {}
    runner.pool.shutdown()
