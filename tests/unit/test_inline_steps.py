"""Steps run inside a notice's task run (``tasks.inline_steps``) retry exactly as their own task runs would: the
task's rule, its retries and its backoff; each retry is told in the run's log (log-safe) and counted for the
notice. Real Prefect task objects with the run's options; the sleep is recorded, never slept."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from mailroom.errors import AmbiguousOutcomeError, PermanentError, TransientError
from mailroom.pipeline_settings import PipelineSettings
from tasks.context import counting_call_retries
from tasks.inline_steps import InlineSteps, describe, retry_delay
from tasks.options import RunTasks
from tasks.retry import checked_effect_worth_retrying, retry_rule_of, service_task
from tasks.timing import STEP_TIMES

SETTINGS = PipelineSettings(task_retries=3, task_retry_delay_seconds=2.0)


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def failing(*errors: Exception, name: str = "download-notice", effect: bool = False) -> tuple[Any, list[int]]:
    """A service task (with the run's options) whose body raises ``errors`` in turn, then returns "done"."""
    remaining, calls = list(errors), []

    def body() -> str:
        calls.append(1)
        if remaining:
            raise remaining.pop(0)
        return "done"

    options: dict[str, Any] = {}
    if effect:
        from tasks.retry import retry_transient_or_checked_ambiguous
        options["retry_condition"] = retry_transient_or_checked_ambiguous
    task = service_task(name=name, service="drive", **options)(body)
    run_tasks = RunTasks.for_settings(SETTINGS)
    configured = task.with_options(retries=run_tasks.download_notice.retries,
                                   retry_delay_seconds=run_tasks.download_notice.retry_delay_seconds)
    return configured, calls


@pytest.fixture
def steps() -> tuple[InlineSteps, list[float], Recorder]:
    slept: list[float] = []
    recorder = Recorder()
    logger = logging.getLogger("test-inline-steps")
    logger.addHandler(recorder)
    logger.setLevel(logging.INFO)
    yield InlineSteps(RunTasks.for_settings(SETTINGS), sleep=slept.append, log=lambda: logger), slept, recorder
    logger.removeHandler(recorder)


def test_a_transient_failure_is_retried_with_the_tasks_backoff_logged_and_counted(steps):
    inline, slept, recorder = steps
    task, calls = failing(TransientError("HttpError 503 backendError", service="drive", operation="download"),
                          TransientError("connection reset", service="drive", operation="download"))
    with counting_call_retries() as counter:
        assert inline.run("download-notice", task) == "done"
    assert len(calls) == 3 and counter.task_retries == 2
    # The run's backoff (2 s, then 4 s) with Prefect's jitter factor 0.5 on top.
    assert 1.0 <= slept[0] <= 3.0 and 2.0 <= slept[1] <= 6.0
    assert len(recorder.lines) == 2
    assert recorder.lines[0].startswith("step download-notice: attempt 1 of 4 failed (transient: HttpError 503")
    assert "retrying in" in recorder.lines[1]


def test_a_permanent_failure_is_not_retried(steps):
    inline, slept, recorder = steps
    task, calls = failing(PermanentError("404 notFound", service="drive", operation="download"))
    with pytest.raises(PermanentError):
        inline.run("download-notice", task)
    assert len(calls) == 1 and slept == [] and recorder.lines == []


def test_a_bug_is_not_retried_and_its_message_is_never_logged(steps):
    inline, slept, _ = steps
    task, calls = failing(ValueError("SSN 123-45-6789 in a message"))
    with pytest.raises(ValueError):
        inline.run("download-notice", task)
    assert len(calls) == 1 and slept == []
    assert describe(ValueError("SSN 123-45-6789")) == "ValueError"


def test_a_lost_response_is_retried_only_by_a_step_that_checks_before_acting_again(steps):
    inline, slept, _ = steps
    lost = AmbiguousOutcomeError("POST lost its response", service="logiqs", operation="upload")
    read, read_calls = failing(lost)
    with pytest.raises(AmbiguousOutcomeError):
        inline.run("match-notice", read)
    assert len(read_calls) == 1
    effect, effect_calls = failing(lost, name="upload-document", effect=True)
    assert retry_rule_of(effect) is checked_effect_worth_retrying
    assert inline.run("upload-document", effect) == "done" and len(effect_calls) == 2


def test_after_the_last_retry_the_last_error_is_raised(steps):
    inline, slept, _ = steps
    errors = [TransientError(f"503 #{n}", service="drive", operation="download") for n in range(5)]
    task, calls = failing(*errors)
    with pytest.raises(TransientError, match="503 #3"):
        inline.run("download-notice", task)
    assert len(calls) == 4 and len(slept) == 3  # 1 + task_retries attempts


def test_each_attempt_is_timed_as_the_steps_body_with_no_overhead(steps):
    inline, _, _ = steps
    task, _ = failing(TransientError("503", service="drive", operation="download"))
    STEP_TIMES.reset()
    inline.run("download-notice", task)
    timed = STEP_TIMES.snapshot()["steps"]["download-notice"]
    assert timed["calls"] == 2 and timed["runs"] == 2


def test_the_retry_delay_follows_the_backoff_list_and_its_jitter():
    task = RunTasks.for_settings(SETTINGS).move_notice
    assert task.retry_delay_seconds == [2.0, 4.0, 8.0]
    assert retry_delay(task, 1, jitter=lambda: 0.5) == pytest.approx(2.0)
    assert retry_delay(task, 3, jitter=lambda: 0.0) == pytest.approx(4.0)  # 8 x (1 - 0.5)
    assert retry_delay(task, 9, jitter=lambda: 1.0) == pytest.approx(12.0)  # past the list: its last delay
