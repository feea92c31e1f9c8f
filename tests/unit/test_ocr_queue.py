"""A scan waiting for a free OCR engine does not spend its own time budget: with 8 notices at once and one engine
per core, 3 of 26 scans of a 179-notice run ended UNMATCHED "OCR exceeded the 60 s time budget" while they queued.
Forced, not timed: the test holds every engine slot, moves the clock two budgets on while the scan waits, then lets
it through."""

from __future__ import annotations

import threading
import time

import pytest

from mailroom.notices import ExtractionError, ExtractionFailure, ExtractionLimits, extract_notice, tesseract
from tests.unit.test_extraction import scanned_copy, typed  # noqa: F401 - the fixture


class WatchedSlots(threading.BoundedSemaphore):
    """The engine slots, telling the test when a reader starts waiting for one."""

    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.waiting = threading.Event()

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if timeout is not None:  # the reader's wait (the test's own holds pass no timeout)
            self.waiting.set()
        return super().acquire(blocking, timeout)


@pytest.fixture
def jumpy_clock(monkeypatch):
    """time.monotonic plus an offset the test moves (threading keeps its own reference to the real clock)."""
    offset = [0.0]
    real = time.monotonic
    monkeypatch.setattr(time, "monotonic", lambda: real() + offset[0])
    return offset


def read_in_thread(scan, limits) -> tuple[threading.Thread, list]:
    outcome: list = []

    def read() -> None:
        try:
            outcome.append(extract_notice(scan, limits=limits))
        except ExtractionError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    return thread, outcome


def test_waiting_for_an_engine_does_not_spend_the_documents_budget(typed, tmp_path, monkeypatch, jumpy_clock):
    scan = scanned_copy(typed, tmp_path / "scan.pdf")
    slots = WatchedSlots(tesseract.MAX_ENGINES)
    monkeypatch.setattr(tesseract, "_engine_slots", slots)
    for _ in range(tesseract.MAX_ENGINES):  # every engine busy with other notices' scans
        slots.acquire()
    thread, outcome = read_in_thread(scan, ExtractionLimits(time_budget_seconds=60.0))
    try:
        assert slots.waiting.wait(timeout=30)
        jumpy_clock[0] += 120.0  # two budgets pass while the scan queues
    finally:
        for _ in range(tesseract.MAX_ENGINES):
            slots.release()
        thread.join()
    assert not isinstance(outcome[0], ExtractionError), outcome[0]
    assert outcome[0].ssn_last4 == "4321"


def test_an_engine_that_never_comes_free_ends_the_read_with_its_own_reason(typed, tmp_path, monkeypatch):
    scan = scanned_copy(typed, tmp_path / "scan.pdf")
    slots = threading.BoundedSemaphore(tesseract.MAX_ENGINES)
    monkeypatch.setattr(tesseract, "_engine_slots", slots)
    monkeypatch.setattr(tesseract, "ENGINE_QUEUE_TIMEOUT_SECONDS", 0.05)
    for _ in range(tesseract.MAX_ENGINES):
        slots.acquire()
    try:
        with pytest.raises(ExtractionError) as caught:
            extract_notice(scan, limits=ExtractionLimits(time_budget_seconds=60.0))
    finally:
        for _ in range(tesseract.MAX_ENGINES):
            slots.release()
    assert caught.value.failure is ExtractionFailure.TIMEOUT
    assert "no OCR engine came free within 0 s" in str(caught.value)
