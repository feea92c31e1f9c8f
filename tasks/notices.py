"""Reading and matching verbs. Extraction is local (no retries); matching asks Logiqs, so it retries like a read."""

from __future__ import annotations

import time
from typing import Any
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from mailroom.fitting import Fitting, fit_document
from mailroom.intake import Extraction
from mailroom.matching import MatchResult
from mailroom.matching import match_notice as match
from mailroom.notices import ExtractionError, Notice
from mailroom.notices import extract_notices as extract
from mailroom.notices import read_text_layer as read_without_ocr
from tasks.context import services
from tasks.retry import service_task
from tasks.timing import STEP_TIMES


@task(name="extract-notice", tags=["extraction"], retries=0, cache_policy=NO_CACHE, persist_result=False)
def extract_notice(path: Path, file_name: str) -> Extraction:
    """An unreadable file completes this task with its reason: the notice ends UNMATCHED, and the UI stays green.
    A file holding several letters gives one notice per letter (``more_notices``: the letters after the first)."""
    cpu_before = time.thread_time()
    try:
        with STEP_TIMES.inside("extract-notice"):
            letters = extract(path, file_name=file_name, limits=services().extraction_limits)
        return Extraction(notice=letters[0], more_notices=letters[1:])
    except ExtractionError as exc:
        return Extraction(failure=exc.failure.value, message=str(exc))
    finally:
        STEP_TIMES.add_extract_cpu(time.thread_time() - cpu_before)


@task(name="fit-document", tags=["extraction"], retries=0, cache_policy=NO_CACHE, persist_result=False)
def fit_for_upload(path: Path) -> Fitting:
    """The notice within the Logiqs upload limit: as it is, recompressed (a copy next to it), or why it cannot be.
    Local work, deterministic: a retried upload sends the bytes the first attempt sent."""
    return fit_and_tell(path, get_run_logger())


def fit_and_tell(path: Path, log: Any) -> Fitting:
    """``fit_document`` under the run's limit; a recompression is told in the run's log."""
    fitting = fit_document(path, fitted_path(path), max_bytes=services().settings.max_document_bytes)
    if fitting.recompressed:
        log.info("document recompressed from %.1f MB to %.1f MB (%s dpi) to fit the Logiqs limit",
                 fitting.original_bytes / 1048576, (fitting.final_bytes or 0) / 1048576, fitting.dpi)
    return fitting


def fitted_path(path: Path) -> Path:
    """Where the recompressed copy of a downloaded notice lives (beside it, in the run's private directory)."""
    return path.with_name(path.stem + ".fitted.pdf")


def fit_for_upload_if_needed(fit_task: Any, path: Path) -> Fitting:
    """``fit_task`` (the run's ``fit-document``) only for a document over the limit: the usual case needs no task
    run (one less Prefect API round trip per notice)."""
    limit = services().settings.max_document_bytes
    if path.stat().st_size <= limit:
        return fit_document(path, fitted_path(path), max_bytes=limit)
    return fit_task(path)


@task(name="read-text-layer", tags=["extraction"], retries=0, cache_policy=NO_CACHE, persist_result=False)
def read_text_layer(path: Path, file_name: str) -> Extraction | None:
    """The letters from their text layers alone (no OCR: cheap), so the run knows how urgent it is before reading the
    rest; None for a scan (read with OCR later). An unreadable file gives its reason here already."""
    try:
        letters = read_without_ocr(path, file_name=file_name, limits=services().extraction_limits)
    except ExtractionError as exc:
        return Extraction(failure=exc.failure.value, message=str(exc))
    return Extraction(notice=letters[0], more_notices=letters[1:]) if letters else None


@service_task(name="match-notice", service="logiqs")
def match_notice(notice: Notice) -> MatchResult:
    settings = services().settings
    options: dict[str, float] = {}
    if settings.match_threshold is not None:
        options["threshold"] = settings.match_threshold
    if settings.match_margin is not None:
        options["margin"] = settings.match_margin
    return match(notice, services().logiqs, **options)
