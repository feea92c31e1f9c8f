"""The daily flow on the sandbox (~60 notices, 10 % faults) against a real `prefect server`, checked end to end:
outcomes vs the manifest, Logiqs effects, Drive folders, the report, the UI artifacts and the task-run records --
once per Logiqs case-search dialect (V4 FindCase: a list; V3 FindCase: one case per answer), 60 notices each. The V3
run keeps each notice's steps inside its task run (what runs of more than ``steps_as_task_runs_up_to`` notices do),
the V4 run has a task run per step: every check below holds for both."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest
from openpyxl import load_workbook
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, LogFilter, LogFilterFlowRunId

from blocks.register import SandboxProfile, save_sandbox_blocks
from flows.artifacts import NOTICES_KEY, PROGRESS_KEY, SUMMARY_KEY, service_key
from blocks.prefect_server import flush_run_records
from flows.records import summary_of, wait_until_recorded
from mailroom.pipeline_settings import PipelineSettings
from mailroom.report import Outcome, read_csv
from mailroom.urgency import days_left

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]

FULL_SSN = re.compile(r"(?<![\w.-])(\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}|\d{9})(?![\w-])")

NOTICES = 60
# The V3 corpus (seed 11) holds what is particular to V3: a taxpayer entered twice, another person with the same last
# name and last 4.
NOTICES_BY_DIALECT = {"v4-findcase": NOTICES, "v3-findcase": NOTICES}
STEPS_AS_TASK_RUNS_UP_TO = {"v4-findcase": 100, "v3-findcase": 0}  # V3: steps inside the notice task runs
FAULT_RATE = 0.1
AMBIGUOUS_RATE = 0.02  # POSTs that commit and then lose their response: the dedup check must catch them
# Both retry layers on purpose: one call-level retry absorbs a blip, a second fault in a row becomes a Prefect retry,
# so the run shows both in the UI. Delays are short to keep the test within its budget.
TEST_SETTINGS: dict[str, Any] = dict(
    call_max_retries=1, call_initial_delay=0.05, call_max_delay=2.0, task_retries=3, task_retry_delay_seconds=0.2,
    concurrency=4,
    review_enabled=False,  # outcomes are compared with the manifest (the review queue: tests/flow/test_review_flow.py)
)
# This module's runs are paced well above the production defaults (Logiqs 8/s, Drive 20/s), clients and emulators
# alike: at 8/s a 60-notice run spends much of its time waiting on the Logiqs limiter, and nothing here checks the
# pacing (tests/flow/test_shared_limits.py, tests/flow/test_fan_out.py and the limiter's unit tests do).
QUICK_RATES: dict[str, Any] = dict(logiqs_calls_per_second=40.0, logiqs_burst=4, drive_calls_per_second=100.0)
EMULATOR_RATES: dict[str, Any] = dict(logiqs_rate_limit=50, drive_rate_limit=200)


def run_flow(blocks: str, **parameters: Any):
    from flows.daily import daily_mailroom

    state = daily_mailroom(blocks=blocks, return_state=True, **parameters)
    flush_run_records()
    runs = wait_until_recorded(state.state_details.flow_run_id, timeout=60)
    return state, runs


@pytest.fixture(scope="module", params=list(NOTICES_BY_DIALECT))
def faulty_run(prefect_server, tmp_path_factory, request):
    from mailroom_sandbox.stack import Sandbox

    dialect = request.param
    workdir = tmp_path_factory.mktemp(f"faulty-run-{dialect}")
    with Sandbox(notices=NOTICES_BY_DIALECT[dialect], fault_rate=FAULT_RATE, ambiguous_rate=AMBIGUOUS_RATE, seed=11,
                 logiqs_dialect=dialect, **EMULATOR_RATES) as sandbox:
        force_a_task_retry(sandbox)
        save_sandbox_blocks(SandboxProfile.of(sandbox), name=f"flowtest-{dialect}", state_dir=str(workdir / "state"),
                            report_dir=str(workdir / "reports"), **TEST_SETTINGS, **QUICK_RATES,
                            steps_as_task_runs_up_to=STEPS_AS_TASK_RUNS_UP_TO[dialect])
        state, runs = run_flow(f"flowtest-{dialect}")
        yield sandbox, state, runs


def _forced_file(sandbox) -> str:
    ids = _drive_ids(sandbox)
    return next(ids[f.key] for f in sandbox.corpus.in_scope() if f.expected_outcome.value == Outcome.MATCHED.value)


def force_a_task_retry(sandbox) -> None:
    """Two faults in a row on one notice's download: the call-level retry meets the second, so the step is retried.
    The seeded 10 % lands on whichever caller arrives next, so without this a run may need no step retry at all."""
    from mailroom_sandbox.http.faults import FaultKind

    chosen = _forced_file(sandbox)
    sandbox.drive.server.fail_next(
        lambda r: r.endpoint == "files.get" and r.query_value("alt") == "media" and r.path_params["fileId"] == chosen,
        [FaultKind.HTTP_503, FaultKind.HTTP_503])


def _drive_ids(sandbox) -> dict[str, str]:
    """Corpus file key -> Drive file id."""
    return dict(sandbox.file_ids)


def _ids_in(sandbox, folder_id: str) -> set[str]:
    return {f.id for f in sandbox.drive.files_in(folder_id)}


def v3_blind_spots(sandbox) -> dict[str, set[int]]:
    """V3 names one case per search: a notice whose taxpayer has two open cases under the same first name may end
    MATCHED to either (docs/logiqs-api.md, "V3: one case per search"). File id -> the cases it may land in."""
    if sandbox.logiqs_dialect != "v3-findcase":
        return {}
    ids = _drive_ids(sandbox)
    spots = {}
    for file in sandbox.corpus.in_scope():
        if file.expected_reason == "ambiguous" and file.notice is not None:
            notice = file.notice
            spots[ids[file.key]] = {
                c.case_id for c in sandbox.corpus.cases if c.trouble == "ambiguous_pair"
                and c.ssn_last4 == notice.ssn_last4 and c.last_name.lower() == notice.taxpayer_last_name.lower()}
    return spots


def _rows(state):
    summary = summary_of(state)
    assert summary is not None and summary.report is not None
    return summary, read_csv(summary.report.csv)


def test_every_notice_reaches_the_outcome_the_manifest_expects(faulty_run):
    sandbox, state, _ = faulty_run
    summary, rows = _rows(state)
    ids = _drive_ids(sandbox)
    expected = {ids[f.key]: f.expected_outcome.value for f in sandbox.corpus.in_scope()}
    got = {row.file_id: row.outcome.value for row in rows}
    assert len(rows) == len(got), "a notice appears twice in the report"
    blind = v3_blind_spots(sandbox)
    for row in rows:  # the one V3 limit: filed to one of the taxpayer's own two cases
        if row.file_id in blind and row.outcome is Outcome.MATCHED:
            assert row.case_id in blind[row.file_id]
            got[row.file_id] = expected[row.file_id]
    assert got == expected, {k: (got.get(k), v) for k, v in expected.items() if got.get(k) != v}
    assert state.is_completed(), state.message
    assert summary.failed == 0 and summary.total == len(expected)


def test_one_document_and_one_task_per_matched_notice(faulty_run):
    sandbox, state, _ = faulty_run
    _, rows = _rows(state)
    matched = [row for row in rows if row.outcome is Outcome.MATCHED]
    stats = sandbox.logiqs.stats()
    assert stats["duplicates"]["total"] == 0
    assert stats["documents_total"] == len(matched) and stats["tasks_total"] == len(matched)
    ids = _drive_ids(sandbox)
    expected_case = {ids[f.key]: f.expected_case_id for f in sandbox.corpus.in_scope()}
    blind = v3_blind_spots(sandbox)
    for row in matched:
        assert row.case_id == expected_case[row.file_id] or row.case_id in blind.get(row.file_id, ())
        assert stats["documents"][str(row.case_id)][row.document_name] == 1
        assert row.document_id and row.task_id
    tasks = {t.task_id: t for t in sandbox.logiqs.store.tasks}
    # The run's today (the sandbox's, saved in the settings block as ``as_of``) and urgency rule.
    settings = PipelineSettings(**TEST_SETTINGS, as_of=SandboxProfile.of(sandbox).today)
    for row in matched:  # the follow-up a person works from: its subject, deadline and priority
        task = tasks[row.task_id]
        assert task.case_id == row.case_id
        assert task.subject == f"Review {row.letter_type} Notice - {row.notice_date:%m/%d/%Y}"
        # Priority and reminder follow the days left (this corpus is dated months before the sandbox's today: all
        # overdue, so URGENT with a reminder today; tests/flow/test_urgency_flow.py covers the other bands).
        left = days_left(row.response_due_date, settings.today())
        assert task.due_date.date() == row.response_due_date and row.days_left == left
        assert task.reminder.date() == settings.urgency_rule().reminder_date(row.response_due_date, settings.today())
        assert task.priority_id == settings.urgency_rule().priority(left)


def test_files_end_in_the_folder_of_their_outcome(faulty_run):
    sandbox, state, _ = faulty_run
    _, rows = _rows(state)
    by_outcome: dict[Outcome, set[str]] = {o: set() for o in Outcome}
    for row in rows:
        by_outcome[row.outcome].add(row.file_id)
    folders = sandbox.folders
    assert _ids_in(sandbox, folders.matched) == by_outcome[Outcome.MATCHED]
    assert _ids_in(sandbox, folders.unmatched) == by_outcome[Outcome.UNMATCHED]
    left_in_input = set().union(*(_ids_in(sandbox, folder_id) for folder_id in sandbox.folder_ids.values()))
    assert left_in_input & (by_outcome[Outcome.MATCHED] | by_outcome[Outcome.UNMATCHED]) == set()
    assert by_outcome[Outcome.FAILED] <= left_in_input  # FAILED notices stay where they were
    assert sandbox.stats()["drive"]["drive"]["single_parent_violations"] == 0  # never asked Drive for a second parent
    report_names = {f.name for f in sandbox.drive.files_in(folders.reports)}
    assert {summary_of(state).report.xlsx.name, summary_of(state).report.csv.name} <= report_names


def test_report_sheets_match_the_rows(faulty_run):
    _, state, _ = faulty_run
    summary, rows = _rows(state)
    book = load_workbook(summary.report.xlsx)
    sheet_rows = {name: book[name].max_row - 1 for name in ("Matched", "Unmatched", "Failed")}
    counts = Counter(row.outcome for row in rows)
    assert sheet_rows == {"Matched": counts[Outcome.MATCHED], "Unmatched": counts[Outcome.UNMATCHED],
                          "Failed": counts[Outcome.FAILED]}
    assert (summary.matched, summary.unmatched, summary.failed) == (
        counts[Outcome.MATCHED], counts[Outcome.UNMATCHED], counts[Outcome.FAILED])
    unreadable = [row for row in rows if row.reason.startswith("unreadable")]
    assert unreadable and all(row.outcome is Outcome.UNMATCHED for row in unreadable)


def test_artifacts_show_notices_services_summary_and_progress(faulty_run):
    _, state, _ = faulty_run
    summary, _ = _rows(state)
    flow_run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    by_key = {a.key: a for a in artifacts}
    assert {NOTICES_KEY, SUMMARY_KEY, PROGRESS_KEY, service_key("drive"), service_key("logiqs")} <= set(by_key)
    notice_rows = json.loads(by_key[NOTICES_KEY].data)
    assert len(notice_rows) == summary.total
    assert Counter(r["outcome"] for r in notice_rows)["MATCHED"] == summary.matched
    assert float(by_key[PROGRESS_KEY].data) == pytest.approx(100.0)
    # The progress artifact's description is the line a person watching reads: done / review / FAILED / left.
    assert by_key[PROGRESS_KEY].description == (
        f"{summary.total} of {summary.total} notices finished: {summary.total - summary.failed} done, "
        f"0 waiting for review, {summary.failed} FAILED; 0 to go")
    assert f"| MATCHED | {summary.matched} |" in by_key[SUMMARY_KEY].data
    logiqs_total = json.loads(by_key[service_key("logiqs")].data)[-1]
    assert logiqs_total["operation"] == "TOTAL" and logiqs_total["calls"] > 0


def test_every_task_run_is_recorded_final_with_its_retries(faulty_run):
    sandbox, state, runs = faulty_run
    summary, _ = _rows(state)
    states = Counter(run.state_type.value for run in runs)
    assert set(states) == {"COMPLETED"}, states
    # Steps that finished stay "Completed" even when a sibling step needed a retry (no "RolledBack" labels).
    assert {run.state_name for run in runs} == {"Completed"}, Counter(run.state_name for run in runs)
    by_task = Counter(run.task_key.rsplit("-", 1)[0] for run in runs)
    assert by_task["process_notice"] == summary.total
    inline = STEPS_AS_TASK_RUNS_UP_TO[sandbox.logiqs_dialect] < NOTICES
    assert summary.task_retries > 0 and summary.call_retries > 0  # both layers had work to do
    forced = next(row for row in _rows(state)[1] if row.file_id == _forced_file(sandbox))
    assert forced.task_retries >= 1 and forced.call_retries >= 1, forced  # force_a_task_retry's two faults
    with get_client(sync_client=True) as client:
        log_filter = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[state.state_details.flow_run_id]))
        logs, page = [], None
        while page is None or len(page) == 200:
            page = client.read_logs(log_filter=log_filter, limit=200, offset=len(logs))
            logs.extend(page)
    step_retry_lines = [log for log in logs if re.match(r"step [\w-]+: attempt \d+ of \d+ failed \(", log.message)]
    if inline:  # one task run per notice (two with most-urgent-first), each step's retries told in its log
        assert not by_task["download_notice"] and not by_task["upload_document"] and not by_task["move_notice"]
        assert all(run.run_count == 1 for run in runs)
        assert len(step_retry_lines) == summary.task_retries
        assert all(log.task_run_id is not None for log in step_retry_lines)
    else:  # Prefect's own record of retries (run_count) agrees with what the notices counted while running
        assert sum(run.run_count - 1 for run in runs) == summary.task_retries and not step_retry_lines
        retried = [run for run in runs if run.run_count > 1]
        with get_client(sync_client=True) as client:
            history = client.read_task_run_states(retried[0].id)
        assert sum(s.name == "AwaitingRetry" for s in history) == retried[0].run_count - 1
    assert not [log.message for log in logs if FULL_SSN.search(log.message)]  # no full SSN reached the UI
    # One line per call-level retry, in the task run's log: the guide's words plus service, operation and reason.
    # Every retry of the run (the service tables count them, discovery and report upload included) has exactly one.
    retry_lines = [log for log in logs if re.search(r"Attempt \d+/\d+ failed\. Retrying in", log.message)]
    with get_client(sync_client=True) as client:
        tables = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])))
    retries_counted = sum(json.loads(a.data)[-1]["retries"] for a in tables if a.key.startswith("mailroom-service-"))
    assert len(retry_lines) == retries_counted >= summary.call_retries > 0
    assert all(log.task_run_id is not None for log in retry_lines)
    assert all(re.search(r"\[(drive|logiqs) \S+: \w+, ", log.message) for log in retry_lines)
    assert not [log for log in logs if "call-level retry" in log.message]  # the old second line is gone
    progress = [log.message for log in logs if log.message.startswith("progress: ")]
    assert progress and progress[-1].endswith("; 0 to go")
