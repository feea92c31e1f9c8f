"""Reading and matching verbs. Extraction is local (no retries); matching asks Logiqs, so it retries like a read."""

from __future__ import annotations

import time
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from mailroom.intake import Extraction
from mailroom.matching import MatchResult
from mailroom.matching import match_notice as match
from mailroom.notices import ExtractionError, Notice
from mailroom.notices import extract_notices as extract
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


@service_task(name="match-notice", service="logiqs")
def match_notice(notice: Notice) -> MatchResult:
    settings = services().settings
    options: dict[str, float] = {}
    if settings.match_threshold is not None:
        options["threshold"] = settings.match_threshold
    if settings.match_margin is not None:
        options["margin"] = settings.match_margin
    return match(notice, services().logiqs, **options)
