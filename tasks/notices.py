"""Reading and matching verbs. Extraction is local (no retries); matching asks Logiqs, so it retries like a read."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from mailroom.intake import Extraction
from mailroom.matching import MatchResult
from mailroom.matching import match_notice as match
from mailroom.notices import ExtractionError, Notice
from mailroom.notices import extract_notice as extract
from mailroom.notices import read_text_layer as read_without_ocr
from tasks.context import services
from tasks.retry import service_task


@task(name="extract-notice", tags=["extraction"], retries=0, cache_policy=NO_CACHE, persist_result=False)
def extract_notice(path: Path, file_name: str) -> Extraction:
    """An unreadable file completes this task with its reason: the notice ends UNMATCHED, and the UI stays green."""
    try:
        return Extraction(notice=extract(path, file_name=file_name, limits=services().extraction_limits))
    except ExtractionError as exc:
        return Extraction(failure=exc.failure.value, message=str(exc))


@task(name="read-text-layer", tags=["extraction"], retries=0, cache_policy=NO_CACHE, persist_result=False)
def read_text_layer(path: Path, file_name: str) -> Extraction | None:
    """The notice from its text layer alone (no OCR: cheap), so the run knows how urgent it is before reading the
    rest; None for a scan (read with OCR later). An unreadable file gives its reason here already."""
    try:
        notice = read_without_ocr(path, file_name=file_name, limits=services().extraction_limits)
    except ExtractionError as exc:
        return Extraction(failure=exc.failure.value, message=str(exc))
    return Extraction(notice=notice) if notice is not None else None


@service_task(name="match-notice", service="logiqs")
def match_notice(notice: Notice) -> MatchResult:
    settings = services().settings
    options: dict[str, float] = {}
    if settings.match_threshold is not None:
        options["threshold"] = settings.match_threshold
    if settings.match_margin is not None:
        options["margin"] = settings.match_margin
    return match(notice, services().logiqs, **options)
