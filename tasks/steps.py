"""``mailroom.intake.Steps`` as Prefect task runs: each step a nested task run with its own retries and timing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from mailroom.drive import DriveFile
from mailroom.fitting import Fitting
from mailroom.intake import Extraction
from mailroom.ledger import NoticeKey
from mailroom.matching import MatchResult
from mailroom.notices import Notice
from mailroom.outcomes import Outcome
from tasks.context import Services
from tasks.drive import forget_download
from tasks.notices import fit_for_upload_if_needed
from tasks.options import RunTasks
from tasks.starting import run_step


def steps_of(current: Services) -> "PrefectSteps":
    """The run's way of running a notice's steps: each its own task run, or inside the notice's (large runs)."""
    if current.inline_steps:
        from tasks.inline_steps import InlineSteps  # it builds on PrefectSteps: imported here, not in a cycle

        return InlineSteps(current.tasks)
    return PrefectSteps(current.tasks)


@dataclass(frozen=True)
class PrefectSteps:
    """``mailroom.intake.Steps`` over the run's task set (options settled once, in ``RunTasks``); each call is timed
    around the task run (``tasks.timing``), so the run's Prefect overhead per task run can be measured."""

    tasks: RunTasks

    def run(self, step: str, task: Any, *args: Any) -> Any:
        """One step: here its own task run (``tasks.inline_steps.InlineSteps`` runs it inside the notice's)."""
        return run_step(step, task, *args)

    def download(self, file: DriveFile) -> Path:
        return self.run("download-notice", self.tasks.download_notice, file.id)

    def discard(self, file: DriveFile) -> None:
        forget_download(file.id)

    def extract(self, path: Path, file_name: str) -> Extraction:
        return self.run("extract-notice", self.tasks.extract_notice, path, file_name)

    def read_text_layer(self, path: Path, file_name: str) -> Extraction | None:
        return self.run("read-text-layer", self.tasks.read_text_layer, path, file_name)

    def match(self, notice: Notice) -> MatchResult:
        return self.run("match-notice", self.tasks.match_notice, notice)

    def fit(self, path: Path) -> Fitting:
        return fit_for_upload_if_needed(self.tasks.fit_for_upload, path)

    def upload(self, key: NoticeKey, case_id: int, path: Path, document_name: str) -> int:
        return self.run("upload-document", self.tasks.upload_document, key, case_id, path, document_name)

    def create_task(self, key: NoticeKey, case_id: int, letter_type: str, notice_date: date | None, due: date) -> int:
        return self.run("create-follow-up-task", self.tasks.create_follow_up_task, key, case_id, letter_type,
                        notice_date, due)

    def move(self, key: NoticeKey, outcome: Outcome, to_folder_id: str, reason: str) -> None:
        self.run("move-notice", self.tasks.move_notice, key, outcome, to_folder_id, reason)

    def filed_copy(self, key: NoticeKey, case_id: int, document_name: str) -> int | None:
        return self.run("find-filed-copy", self.tasks.find_filed_copy, key, case_id, document_name)
