"""Extraction and matching measured on the seeded synthetic corpus (the sandbox's generator), at test-suite size.

The full-size acceptance run (>= 300 typed, >= 100 scanned) is benchmarks/extraction.py; this keeps the same checks
on a corpus small enough for the suite. Budget: ~30 s on a shared 2-core machine (generation ~8 s, ~6 OCR'd pages).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mailroom.matching import MatchOutcome, match_notice
from mailroom.notices import ExtractionError, ExtractionLimits, Notice, document_name, extract_notice
from mailroom.notices.accuracy import FIELDS, FieldTally
from mailroom_sandbox.corpus import generate_corpus
from mailroom_sandbox.corpus.models import Corpus, FileKind
from mailroom_sandbox.logiqs.directory import InMemoryCaseDirectory

EXPECTED_MATCH_OUTCOME = {
    "matched": MatchOutcome.MATCHED,
    "ambiguous": MatchOutcome.AMBIGUOUS,
    "no_case": MatchOutcome.NO_MATCH,
    "inactive_only": MatchOutcome.NO_MATCH,
    "insufficient_data": MatchOutcome.INSUFFICIENT_DATA,
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Corpus:
    return generate_corpus(
        tmp_path_factory.mktemp("corpus"), notices=120, seed=20251014, scanned_fraction=0.04, ambiguous_rate=0.08,
        scenario_rates={"spouse_primary": 0.04},
    )


@pytest.fixture(scope="module")
def extracted(corpus) -> dict[str, Notice]:
    return {
        file.key: extract_notice(corpus.path(file), file_name=file.drive_name)
        for file in corpus.files
        if file.kind is not FileKind.BAD
    }


@pytest.fixture(scope="module")
def directory(corpus) -> InMemoryCaseDirectory:
    return InMemoryCaseDirectory([c.as_candidate() for c in corpus.cases])


def _tally(corpus: Corpus, extracted: dict[str, Notice], kind: FileKind) -> FieldTally:
    tally = FieldTally()
    for file in corpus.of_kind(kind):
        tally.add(file.key, extracted[file.key], file.notice)
    return tally


def test_typed_notices_every_field_at_least_99_5_percent(corpus, extracted):
    tally = _tally(corpus, extracted, FileKind.TYPED)
    assert sum(tally.total.values()) >= 100 * len(FIELDS)
    assert {name: tally.accuracy(name) for name in FIELDS if tally.accuracy(name) < 0.995} == {}, tally.wrong


def test_scanned_notices_every_field_at_least_98_percent(corpus, extracted):
    tally = _tally(corpus, extracted, FileKind.SCANNED)
    assert tally.total["ssn_last4"] >= 3 and all(extracted[f.key].ocr_pages >= 1 for f in corpus.of_kind(FileKind.SCANNED))
    assert {name: tally.accuracy(name) for name in FIELDS if tally.accuracy(name) < 0.98} == {}, tally.wrong


def test_matching_on_the_case_book(corpus, extracted, directory):
    wrong_case, true_matches, recalled, ambiguous, flagged = [], 0, 0, 0, 0
    for file in corpus.files:
        if file.key not in extracted:
            continue
        result = match_notice(extracted[file.key], directory)
        if result.outcome is MatchOutcome.MATCHED and result.case_id != file.expected_case_id:
            wrong_case.append(file.key)
        if file.expected_reason == "matched":
            true_matches += 1
            recalled += result.case_id == file.expected_case_id
        if file.expected_reason == "ambiguous":
            ambiguous += 1
            flagged += result.outcome is MatchOutcome.AMBIGUOUS
        assert result.outcome is EXPECTED_MATCH_OUTCOME[file.expected_reason], (file.key, file.trouble, result.reason)
    assert wrong_case == []
    assert true_matches >= 60 and recalled / true_matches >= 0.98
    assert ambiguous >= 3 and flagged == ambiguous


def test_every_bad_file_gets_its_specific_reason_within_the_budget(corpus):
    limits = ExtractionLimits(time_budget_seconds=10)
    bad = corpus.of_kind(FileKind.BAD)
    assert len(bad) >= 5
    for file in bad:
        started = time.monotonic()
        with pytest.raises(ExtractionError) as caught:
            extract_notice(corpus.path(file), file_name=file.drive_name, limits=limits)
        assert caught.value.failure.value.lower() == file.expected_reason.removeprefix("bad_file:"), file.key
        assert time.monotonic() - started < limits.time_budget_seconds


def test_document_names_are_safe_for_every_notice_including_nasty_drive_names(corpus, extracted):
    nasty = [f for f in corpus.files if f.trouble and "nasty_name" in f.trouble]
    assert nasty
    for key, notice in extracted.items():
        name = document_name(notice)
        assert Path(name).name == name and not any(c in name for c in "\"'\\/\x00 ")
        assert name.startswith(f"IRS_CORR_{notice.letter_type.value}_{notice.tax_year}_DTD_")


def test_no_full_ssn_from_the_corpus_reaches_a_notice(corpus, extracted):
    full = {c.ssn for c in corpus.cases}
    rendered = "\n".join(repr(n) + n.model_dump_json() for n in extracted.values())
    for ssn in full:
        assert ssn not in rendered and ssn.replace("-", "") not in rendered
