"""The run's task set: every Drive/Logiqs task with the operator's retries, delays and timeout, settled once per run.

The flow builds a ``RunTasks`` from the settings block when the run starts and hands it to everything that calls a
task (through ``tasks.context.Services``), so no call site re-applies options and every task run of the run uses the
same ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefect import Task

from mailroom.pipeline_settings import PipelineSettings
from tasks import drive, logiqs, notices
from tasks.retry import jittered_backoff


@dataclass(frozen=True)
class RunTasks:
    check_logiqs_access: Task[..., Any]
    check_folders: Task[..., Any]
    discover_folders: Task[..., Any]
    list_new_notices: Task[..., Any]
    get_notices: Task[..., Any]
    download_notice: Task[..., Any]
    extract_notice: Task[..., Any]  # local work: keeps its own options (no retries)
    read_text_layer: Task[..., Any]  # same
    fit_for_upload: Task[..., Any]  # local work, likewise
    match_notice: Task[..., Any]
    find_filed_copy: Task[..., Any]
    upload_document: Task[..., Any]
    create_follow_up_task: Task[..., Any]
    move_notice: Task[..., Any]
    upload_report: Task[..., Any]
    reconcile_unfinished: Task[..., Any]  # best effort, never retried: keeps its own options

    @classmethod
    def for_settings(cls, settings: PipelineSettings) -> "RunTasks":
        options = dict(
            retries=settings.task_retries,
            retry_delay_seconds=jittered_backoff(settings.task_retry_delay_seconds),
            timeout_seconds=settings.task_timeout_seconds,
        )
        service_tasks = dict(
            check_logiqs_access=logiqs.check_logiqs_access,
            check_folders=drive.check_folders,
            discover_folders=drive.discover_folders,
            list_new_notices=drive.list_new_notices,
            get_notices=drive.get_notices,
            download_notice=drive.download_notice,
            match_notice=notices.match_notice,
            find_filed_copy=logiqs.find_filed_copy,
            upload_document=logiqs.upload_document,
            create_follow_up_task=logiqs.create_follow_up_task,
            move_notice=drive.move_notice,
            upload_report=drive.upload_report,
        )
        return cls(extract_notice=notices.extract_notice, read_text_layer=notices.read_text_layer,
                   fit_for_upload=notices.fit_for_upload, reconcile_unfinished=drive.reconcile_unfinished,
                   **{name: task.with_options(**options) for name, task in service_tasks.items()})
