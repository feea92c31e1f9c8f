"""The review queue's rules (mailroom.review), its ledger side (batches) and the intake paths that use them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from mailroom.errors import TransientError
from mailroom.intake import Intake, Skipped, Verdict
from mailroom.ledger import ClaimResult, Ledger, NoticeKey, Outcome
from mailroom.matching import MatchOutcome, MatchResult, ScoredCandidate
from mailroom.notices import FieldProvenance, FieldSource
from mailroom.outcomes import SkipReason
from mailroom.review import (
    Action,
    Decision,
    NoticeAnswer,
    ReviewEntry,
    ReviewPolicy,
    Sweep,
    case_id_of_label,
    corrected,
    form_markdown,
    resolve,
    sweep,
)
from tests.unit.test_intake import FILE, MATCH, MATCHED_FOLDER, TODAY, UNMATCHED_FOLDER, MemorySteps, _notice, _steps

KEY = NoticeKey(file_id=FILE.id, md5=FILE.md5)
POLICY = ReviewPolicy(enabled=True, min_match_score=90.0, min_field_confidence=0.75)


def _candidate(case_id: int, score: float, *, active: bool = True, name: str = "Mary Smith") -> ScoredCandidate:
    return ScoredCandidate(case_id=case_id, score=score, last_name_score=100, first_name_score=score, active=active,
                           matched_as="taxpayer~case primary", basis="exact", name=name,
                           status="Active" if active else "Closed")


AMBIGUOUS = MatchResult(outcome=MatchOutcome.AMBIGUOUS, score=97.0, reason="2 cases (1001, 1002) within 8 points",
                        candidates=[_candidate(1001, 97.0), _candidate(1002, 95.0, name="Mary Smyth")])


def _confident(**overrides):
    fields = {name: FieldProvenance(confidence=0.97, source=FieldSource.TEXT_LAYER)
              for name in ("ssn_last4", "taxpayer_last_name", "response_due_date")}
    return _notice(**({"fields": fields} | overrides))


# -- which notices wait for a person ------------------------------------------------------------------------------

@pytest.mark.parametrize(("match", "notice", "starts"), [
    (AMBIGUOUS, None, "AMBIGUOUS: 2 cases"),
    (MatchResult(outcome=MatchOutcome.INSUFFICIENT_DATA, reason="notice gives no SSN last 4"), None,
     "INSUFFICIENT_DATA"),
    (MatchResult(outcome=MatchOutcome.NO_MATCH, reason="1 case(s) share SSN ***-**-6789 but none scores 85",
                 candidates=[_candidate(1003, 60.0)]), None, "NO_MATCH: 1 case(s)"),
    (MATCH.model_copy(update={"score": 87.5}), None, "low confidence: case 1001 scored 87.5"),
    (MATCH, _confident(fields={"ssn_last4": FieldProvenance(confidence=0.6, source=FieldSource.FILE_NAME),
                               "taxpayer_last_name": FieldProvenance(confidence=0.97, source=FieldSource.OCR)}),
     "low confidence: ssn_last4 read with confidence 0.60"),
    (MATCH, _confident(response_due_date=None), "case 1001 matched but no response due date"),
], ids=["ambiguous", "insufficient", "no-match-with-open-cases", "low-score", "low-field", "no-due-date"])
def test_what_the_reader_or_matcher_is_unsure_of_waits_for_a_person(match, notice, starts):
    assert POLICY.reason_for(notice or _confident(), match).startswith(starts)


@pytest.mark.parametrize("match", [
    MATCH,
    MatchResult(outcome=MatchOutcome.NO_MATCH, reason="no case with this last name and SSN ***-**-6789"),
    MatchResult(outcome=MatchOutcome.NO_MATCH, reason="only closed case(s) 1005 match",
                candidates=[_candidate(1005, 70.0, active=False)]),
], ids=["clear-match", "no-case-at-all", "only-closed-cases"])
def test_a_clear_match_is_filed_and_a_notice_with_no_open_case_stays_unmatched(match):
    assert POLICY.reason_for(_confident(), match) is None


def test_a_match_the_crm_confirmed_on_the_page_is_filed_however_unsure_the_read_was():
    """page_confirmation: the case's own name found on the page and its last 4 the page's. Sending such a match to
    review for the unsure read it confirmed undid the confirmation; the same read, merely scored, still waits."""
    unsure = _confident(fields={"ssn_last4": FieldProvenance(confidence=0.72, source=FieldSource.OCR),
                                "taxpayer_last_name": FieldProvenance(confidence=0.66, source=FieldSource.OCR),
                                "response_due_date": FieldProvenance(confidence=0.97, source=FieldSource.OCR)})
    confirmed = MATCH.model_copy(update={"score": 100.0, "confirmed_last_name": "SMITH"})
    assert POLICY.reason_for(unsure, confirmed) is None
    assert POLICY.reason_for(unsure, MATCH).startswith("low confidence: ssn_last4 read with confidence 0.72")


def test_review_can_be_switched_off():
    assert ReviewPolicy(enabled=False).reason_for(_confident(), AMBIGUOUS) is None


# -- what the reviewer sees and what an answer means ---------------------------------------------------------------

def _entry(**overrides) -> ReviewEntry:
    entry = ReviewEntry.of(KEY, FILE.name, _confident(), AMBIGUOUS, today=TODAY, why="AMBIGUOUS: 2 cases",
                           link="https://drive.example/file-1")
    return entry.model_copy(update=overrides)


def test_an_entry_shows_dates_days_left_masked_ssn_names_and_the_candidate_cases():
    entry = _entry()
    assert (entry.letter_type, entry.days_left, entry.ssn) == ("CP2000", 30, "***-**-6789")
    assert entry.choice_labels() == ["1001 · Mary Smith · Active · score 97.0", "1002 · Mary Smyth · Active · score 95.0"]
    assert entry.headline(1) == f"1. CP2000 · respond by 11/13/2025 (30 days) · {FILE.name}"
    assert "names read: MARY SMITH" in entry.details() and "1002 Mary Smyth (Active) score 95.0" in entry.details()
    markdown = form_markdown([entry])
    assert "| 1 | CP2000 | 11/13/2025 | 30 days |" in markdown and "(https://drive.example/file-1)" in markdown


@pytest.mark.parametrize(("answer", "action", "case_id"), [
    (NoticeAnswer(), Action.LEAVE, None),
    (NoticeAnswer(decision=Decision.FILE, case="1002 · Mary Smyth · Active · score 95.0"), Action.FILE, 1002),
    (NoticeAnswer(decision=Decision.FILE, case="1001 · x", other_case_id=4242), Action.FILE, 4242),
    (NoticeAnswer(decision=Decision.FILE), Action.LEAVE, None),
    (NoticeAnswer(decision=Decision.REJECT), Action.REJECT, None),
    (NoticeAnswer(decision=Decision.SEARCH_AGAIN, last_name="SMITH-JONES"), Action.SEARCH_AGAIN, None),
    (NoticeAnswer(decision=Decision.SEARCH_AGAIN, last_name="SMITH", ssn_last4="12a4"), Action.LEAVE, None),
])
def test_each_answer_resolves_to_one_action_and_an_unusable_one_is_left_pending(answer, action, case_id):
    resolution = resolve(_entry(), answer)
    assert (resolution.action, resolution.case_id) == (action, case_id)
    if action is Action.LEAVE and answer.decision is not Decision.UNDECIDED:
        assert resolution.note


def test_filing_needs_a_response_date_from_the_notice_or_the_reviewer():
    entry = _entry(response_due_date=None)
    answer = NoticeAnswer(decision=Decision.FILE, case="1001")
    assert resolve(entry, answer).action is Action.LEAVE
    given = resolve(entry, answer.model_copy(update={"response_due_date": date(2025, 12, 20)}))
    assert (given.action, given.due_date, given.listed) == (Action.FILE, date(2025, 12, 20), True)
    assert corrected(_confident(response_due_date=None), given).response_due_date == date(2025, 12, 20)


def test_a_search_again_uses_the_corrected_names_and_ssn():
    resolution = resolve(_entry(), NoticeAnswer(decision=Decision.SEARCH_AGAIN, first_name="Marie",
                                                last_name="SMITH-JONES", ssn_last4="1234"))
    notice = corrected(_confident(), resolution)
    assert (notice.taxpayer_first_name, notice.taxpayer_last_name, notice.ssn_last4) == ("Marie", "SMITH-JONES",
                                                                                         "1234")
    assert case_id_of_label("1002 · Mary Smyth") == 1002 and case_id_of_label("") is None


# -- the ledger's review batches -----------------------------------------------------------------------------------

@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite")


def _pending(ledger: Ledger, file_id: str) -> NoticeKey:
    key = NoticeKey(file_id=file_id, md5="m" * 16)
    assert ledger.claim(key, "daily-1", 60.0)
    ledger.finish(key, "daily-1", Outcome.PENDING_REVIEW, reason="AMBIGUOUS: ...")
    return key


def test_a_pending_notice_is_left_alone_by_daily_runs_and_sits_in_one_batch_only(ledger_target):
    ledger = ledger_target.open()
    first, second = _pending(ledger, "a"), _pending(ledger, "b")
    assert ledger.claim(first, "daily-2", 60.0) is ClaimResult.IN_REVIEW

    assert [r.key for r in ledger.assign_review("batch-1")] == [first, second]
    assert ledger.assign_review("batch-2") == []  # a second daily run finds nothing new: no duplicates
    third = _pending(ledger, "c")
    assert [r.key for r in ledger.assign_review("batch-2")] == [third]
    ledger.set_review_run("batch-1", "run-1")
    assert [(b.review_id, b.run_id, b.notices) for b in ledger.open_reviews()] == [("batch-1", "run-1", 2),
                                                                                   ("batch-2", None, 1)]

    assert ledger.claim(first, "review-2", 60.0, review_id="batch-2") is ClaimResult.OTHER_REVIEW
    assert ledger.claim(first, "review-1", 60.0, review_id="batch-1") is ClaimResult.ACQUIRED
    ledger.finish(first, "review-1", Outcome.UNMATCHED, reason="REJECTED by reviewer")
    assert ledger.release_review("batch-1") == 1  # the undecided one waits for the next batch
    assert [r.key for r in ledger.assign_review("batch-3")] == [second]
    assert {b.review_id for b in ledger.open_reviews()} == {"batch-2", "batch-3"}


def test_a_lease_that_ran_out_while_the_notice_waited_to_be_filed_is_renewed_unless_taken(ledger_target):
    clock = [1000.0]
    ledger = ledger_target.open(clock=lambda: clock[0])
    key = NoticeKey(file_id="a", md5="m")
    assert ledger.claim(key, "run-1", 60.0)
    clock[0] += 120.0  # run-1 read every notice first: its lease ran out, nobody took the notice
    assert ledger.extend(key, "run-1", 60.0) and ledger.get(key).lease_expires == 1180.0
    clock[0] += 120.0
    assert ledger.claim(key, "run-2", 60.0)  # this time another run took it over
    assert not ledger.extend(key, "run-1", 60.0)


# -- intake: routing to review, and filing a reviewer's decision ---------------------------------------------------

def _intake(ledger: Ledger, owner: str = "run-1", **options) -> Intake:
    return Intake(ledger, owner, MATCHED_FOLDER, UNMATCHED_FOLDER, lease_seconds=60.0, today=TODAY, **options)


def test_a_notice_the_matcher_is_unsure_of_waits_in_place_with_no_effect(ledger, tmp_path):
    steps = _steps(ledger, tmp_path, match=AMBIGUOUS)
    row = _intake(ledger, review=POLICY).process(FILE, steps)

    assert (row.outcome, row.reason) == (Outcome.PENDING_REVIEW, f"AMBIGUOUS: {AMBIGUOUS.reason}")
    assert row.days_left == 30 and row.letter_type == "CP2000"
    assert steps.calls == ["download", "extract", "match"] and steps.services.parents == {}  # stays in its folder
    assert ledger.get(KEY).outcome is Outcome.PENDING_REVIEW
    again = _steps(ledger, tmp_path, "run-2")
    assert _intake(ledger, "run-2", review=POLICY).process(FILE, again) == Skipped(
        file_id=FILE.id, reason=SkipReason.WAITING_FOR_REVIEW)
    assert again.calls == []


def _review_setup(ledger: Ledger, tmp_path: Path) -> tuple[Intake, Verdict]:
    assert _intake(ledger, review=POLICY).process(FILE, _steps(ledger, tmp_path, match=AMBIGUOUS)).outcome \
        is Outcome.PENDING_REVIEW
    ledger.assign_review("batch-1")
    at = datetime(2025, 10, 15, 9, 30, tzinfo=timezone.utc)
    match = MatchResult(outcome=MatchOutcome.MATCHED, case_id=1002, score=95.0, reason="case 1002 chosen by a reviewer")
    return _intake(ledger, "review-run", review_id="batch-1"), Verdict(file=True, match=match, notice=_confident(),
                                                                       reviewer="Alice", at=at)


def test_a_review_run_files_the_chosen_case_through_the_same_effects_and_stamps_who_and_when(ledger, tmp_path):
    intake, verdict = _review_setup(ledger, tmp_path)
    steps = _steps(ledger, tmp_path, "review-run", match=AMBIGUOUS)
    row = intake.file_decision(FILE, steps, verdict)

    assert (row.outcome, row.case_id, row.reviewed_by) == (Outcome.MATCHED, 1002, "Alice")
    assert row.reviewed_at == verdict.at and row.document_id == 1 and row.task_id == 1
    assert steps.calls == ["download", "filed-copy", "fit", "upload", "create-task", "move"]  # the reviewer's case, no new match
    assert steps.services.parents == {FILE.id: MATCHED_FOLDER} and ledger.get(KEY).outcome is Outcome.MATCHED
    assert intake.file_decision(FILE, steps, verdict) == Skipped(file_id=FILE.id, reason=SkipReason.FINISHED_EARLIER)


def test_a_rejected_notice_goes_to_unmatched_and_another_batch_cannot_file_it(ledger, tmp_path):
    intake, verdict = _review_setup(ledger, tmp_path)
    other = _intake(ledger, "review-2", review_id="batch-2")
    assert other.file_decision(FILE, _steps(ledger, tmp_path, "review-2"), verdict) == Skipped(
        file_id=FILE.id, reason=SkipReason.MOVED_TO_ANOTHER_REVIEW)

    steps = _steps(ledger, tmp_path, "review-run")
    row = intake.file_decision(FILE, steps, verdict.model_copy(update={"file": False}))
    assert (row.outcome, row.reason, row.reviewed_by) == (Outcome.UNMATCHED, "REJECTED by reviewer Alice", "Alice")
    assert steps.calls == ["move"] and steps.services.parents == {FILE.id: UNMATCHED_FOLDER}


def test_a_filing_that_fails_after_review_goes_back_to_the_queue_and_keeps_its_document(ledger, tmp_path):
    intake, verdict = _review_setup(ledger, tmp_path)
    steps = _steps(ledger, tmp_path, "review-run", fail_at={"create-task": TransientError("503")})
    row = intake.file_decision(FILE, steps, verdict)

    assert (row.outcome, row.failed_step) == (Outcome.FAILED, "create-task")
    record = ledger.get(KEY)
    assert record.outcome is Outcome.PENDING_REVIEW and record.review_id is None and record.document_id == 1
    assert record.reason.startswith("filing after review failed at create-task")
    retry = _intake(ledger, "review-2", review_id="batch-2")
    ledger.assign_review("batch-2")
    again = MemorySteps(ledger, "review-2", tmp_path, steps.extraction, MATCH, services=steps.services)
    assert retry.file_decision(FILE, again, verdict).outcome is Outcome.MATCHED
    assert len(steps.services.documents) == 1 and len(steps.services.tasks) == 1  # nothing filed twice


def test_reading_everything_first_then_filing_renews_a_lease_that_ran_out_meanwhile(tmp_path):
    clock = [1000.0]
    ledger = Ledger(tmp_path / "l.sqlite", clock=lambda: clock[0])
    intake = _intake(ledger)
    steps = _steps(ledger, tmp_path)
    reading = intake.read(FILE, steps)
    assert reading.days_left(TODAY) == 30 and reading.path is not None  # its bytes wait for the second half
    clock[0] += 600.0  # the run read many more notices before filing this one
    row = intake.conclude(reading, steps)
    assert row.outcome is Outcome.MATCHED and steps.discarded == [FILE.id]
    assert ledger.history(KEY).count("claimed (new)") == 1 and ledger.get(KEY).runs == 1


def test_a_notice_taken_over_while_it_waited_to_be_filed_is_left_to_the_other_run(tmp_path):
    clock = [1000.0]
    ledger = Ledger(tmp_path / "l.sqlite", clock=lambda: clock[0])
    steps = _steps(ledger, tmp_path)
    reading = _intake(ledger).read(FILE, steps)
    clock[0] += 600.0
    assert ledger.claim(KEY, "run-2", 60.0)
    assert _intake(ledger).conclude(reading, steps) == Skipped(file_id=FILE.id, reason=SkipReason.LEASE_TAKEN_OVER)
    assert steps.services.documents == [] and steps.discarded == [FILE.id]


# -- review runs that ended or waited too long (what the daily run does before starting a fresh one) -------------

@pytest.mark.parametrize(("state", "age_hours", "expected"), [
    ("PAUSED", 10, Sweep.KEEP),  # the form is open, within the deadline
    ("PAUSED", 73, Sweep.EXPIRE),  # left open past the deadline: close it, ask again in a fresh run
    ("SCHEDULED", 73, Sweep.EXPIRE),  # never picked up by a worker
    ("RUNNING", 500, Sweep.KEEP),  # filing decisions right now: never interrupted
    ("COMPLETED", 1, Sweep.RELEASE),  # ended: what it left undecided joins the fresh run
    ("CANCELLED", 1, Sweep.RELEASE),
    ("CRASHED", 1, Sweep.RELEASE),
    ("MISSING", 1, Sweep.RELEASE),  # the run was deleted
    (None, 0.05, Sweep.KEEP),  # no run recorded yet: the daily run that formed the batch may still be starting it
    (None, 1, Sweep.RELEASE),  # no run recorded for long: starting it failed
])
def test_the_daily_run_closes_review_runs_that_ended_or_waited_past_the_deadline(state, age_hours, expected):
    assert sweep(state, age_seconds=age_hours * 3600, deadline_seconds=72 * 3600) is expected


def test_two_daily_runs_forming_batches_at_once_never_share_a_notice(postgres_url):
    """PostgreSQL, forced: run A has taken the pending notices into its batch (rows locked, not committed) when run
    B tries; B waits for the row locks, then finds them taken and forms an empty batch."""
    from tests.unit.test_ledger_locking import HookClock, _in_thread, _wait_until_someone_waits_for_a_row_lock

    clock = HookClock(1000.0)
    run_a, run_b = Ledger.from_url(postgres_url, clock=clock), Ledger.from_url(postgres_url, clock=lambda: 1000.0)
    keys = [_pending(run_a, name) for name in ("a", "b", "c")]
    raced: dict = {}

    def run_b_meanwhile() -> None:  # called inside A's transaction, after A's UPDATE locked the rows
        raced["thread"], raced["result"] = _in_thread(lambda: run_b.assign_review("batch-b"))
        _wait_until_someone_waits_for_a_row_lock(postgres_url)

    clock.hook = lambda: setattr(clock, "hook", run_b_meanwhile)  # the 2nd clock call of assign_review
    assert [r.key for r in run_a.assign_review("batch-a")] == keys
    raced["thread"].join(60)
    assert raced["result"] == {"value": []}
    assert {r.review_id for r in run_a.pending_review()} == {"batch-a"}
