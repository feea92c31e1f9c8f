"""The pieces of the pipeline that need no server: retry rules, report files, block secrecy, settings."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from prefect.states import Completed, Failed

from blocks import DriveCredentials, LogiqsCredentials, MailroomSettings
from mailroom.errors import (
    AmbiguousOutcomeError,
    AuthError,
    CircuitOpenError,
    NotFoundError,
    RateLimitedError,
    ThrottledError,
    TransientError,
)
from mailroom.pipeline_settings import PipelineSettings
from mailroom.report import Outcome, ReportRow, RunSummary, notice_table, read_csv, write_report
from tasks.retry import retry_transient, retry_transient_or_checked_ambiguous

FULL_SSN = re.compile(r"\b\d{3}-?\d{2}-?\d{4}\b")


@pytest.mark.parametrize(
    ("exc", "idempotent_retry", "effect_retry"),
    [
        (TransientError("503 from drive.get", status=503), True, True),
        (ThrottledError("429", status=429), True, True),
        (RateLimitedError("Retry-After 120s > max_delay"), True, True),
        (CircuitOpenError("logiqs circuit open"), True, True),
        (AuthError("401 bad key", status=401), False, False),
        (NotFoundError("404", status=404), False, False),
        (AmbiguousOutcomeError("read timeout on POST"), False, True),
        (TimeoutError("Task run exceeded timeout"), True, True),
        (KeyError("a bug"), False, False),
    ],
)
def test_prefect_retries_only_what_can_succeed_later(exc, idempotent_retry, effect_retry):
    state = Failed(data=exc)
    assert retry_transient(None, None, state) is idempotent_retry
    assert retry_transient_or_checked_ambiguous(None, None, state) is effect_retry


def test_a_completed_state_is_never_retried():
    assert retry_transient(None, None, Completed(data=1)) is False


def _rows() -> list[ReportRow]:
    return [
        ReportRow(file_id="f1", file_name="CP2000 DTD 10.14.2025_SMITH - 0012.pdf", outcome=Outcome.MATCHED,
                  case_id=1001, document_id=5, task_id=9, notice_date=date(2025, 10, 14), ssn="***-**-6789",
                  reason="exact"),
        ReportRow(file_id="f2", file_name="scan 123-45-6789.pdf", outcome=Outcome.UNMATCHED,
                  reason="NO_MATCH: no case for SSN 123 45 6789 (AUR 87139-0114)"),
        ReportRow(file_id="f3", file_name="x.pdf", outcome=Outcome.FAILED, reason="upload: 503", task_retries=2,
                  call_retries=3),
    ]


def test_report_sheets_and_csv_agree_and_hold_no_full_ssn(tmp_path: Path):
    rows = _rows()
    files = write_report(rows, tmp_path, "r")
    book = load_workbook(files.xlsx)
    assert book.sheetnames == ["Matched", "Unmatched", "Failed", "Review"]  # Review: notices waiting for a person
    by_sheet = {name: [r[0] for r in book[name].iter_rows(min_row=2, values_only=True)] for name in book.sheetnames}
    assert by_sheet == {"Matched": ["f1"], "Unmatched": ["f2"], "Failed": ["f3"], "Review": []}
    assert [r.model_dump() for r in read_csv(files.csv)] == [r.model_dump() for r in rows]
    everything = files.csv.read_text() + "".join(
        str(v) for name in book.sheetnames for row in book[name].iter_rows(values_only=True) for v in row
    )
    assert "87139-0114" in everything  # an AUR control number is not an SSN and survives
    assert not FULL_SSN.findall(everything.replace("87139-0114", ""))
    assert "***-**-6789" in everything


def test_unmasked_ssn_field_is_refused():
    with pytest.raises(ValueError):
        ReportRow(file_id="f", file_name="f", outcome=Outcome.MATCHED, ssn="123-45-6789")


def test_summary_and_ui_table_come_from_the_same_rows():
    rows = _rows()
    summary = RunSummary.of(rows)
    assert (summary.matched, summary.unmatched, summary.failed) == (1, 1, 1)
    assert summary.task_retries == 2 and summary.call_retries == 3
    table = notice_table(rows)
    assert {r["file_id"]: r["outcome"] for r in table} == {"f1": "MATCHED", "f2": "UNMATCHED", "f3": "FAILED"}
    assert next(r for r in table if r["file_id"] == "f3")["retries"] == 5


def test_blocks_never_show_secrets():
    private_key = "-----BEGIN PRIVATE KEY-----generated-at-runtime-----END PRIVATE KEY-----"
    drive = DriveCredentials(service_account_info={"private_key": private_key, "client_email": "sa@x"})
    logiqs = LogiqsCredentials(base_url="http://127.0.0.1:1/publicapi/V4/", api_key="key-abc", secret="s3cr3t-xyz")
    shown = repr(drive) + str(drive) + repr(logiqs) + drive.model_dump_json() + logiqs.model_dump_json()
    for secret in ("generated-at-runtime", "key-abc", "s3cr3t-xyz"):
        assert secret not in shown
    assert logiqs.secret.get_secret_value() == "s3cr3t-xyz"


def test_the_ledger_url_is_a_secret_of_the_settings_block():
    url = "postgresql+psycopg://mailroom:pw-9f3k@db.example/mailroom"
    block = MailroomSettings(ledger_url=url)
    assert "pw-9f3k" not in repr(block) + str(block) + block.model_dump_json()
    settings = block.to_settings()
    assert "pw-9f3k" not in repr(settings) and settings.ledger_url.get_secret_value() == url  # type: ignore[union-attr]
    assert MailroomSettings().to_settings().ledger_url is None  # empty: the SQLite file in state_dir


def test_settings_block_is_the_core_settings_model():
    block = MailroomSettings(input_root_id="root", matched_folder_id="m", unmatched_folder_id="u",
                             reports_folder_id="r", assignee_user_id=42, reminder_days_before_due=3)
    settings = block.to_settings()
    assert isinstance(settings, PipelineSettings) and settings.assignee_user_id == 42
    assert settings.missing_folders() == []
    due, reminder = settings.due_and_reminder(date(2025, 11, 13))
    assert (due - reminder).days == 3 and due.tzinfo is not None
    assert settings.follow_up_subject("CP2000", date(2025, 10, 14)) == "Review CP2000 Notice - 10/14/2025"
    assert settings.follow_up_subject("CP504", date(2025, 10, 14)) == "Review CP504 Notice - 10/14/2025"
    assert PipelineSettings().missing_folders() == [
        "input_root_id", "matched_folder_id", "unmatched_folder_id", "reports_folder_id"
    ]


def test_downloads_live_in_a_private_dir_removed_even_on_failure(tmp_path):
    import stat

    from mailroom.workdirs import RunWorkdir

    with pytest.raises(RuntimeError):
        with RunWorkdir(tmp_path / "state", owner="run") as workdir:
            (workdir / "notice.pdf").write_bytes(b"%PDF")
            assert stat.S_IMODE(workdir.stat().st_mode) == 0o700
            raise RuntimeError("a failing run")
    assert not workdir.exists()


def test_the_engine_traceback_of_a_deliberate_failed_state_is_dropped_and_real_errors_keep_theirs():
    import logging
    import sys

    from prefect.exceptions import FailedRun

    from flows.engine_logs import DeliberateFailureTraceback

    def record(exc: BaseException) -> logging.LogRecord:
        try:
            raise exc
        except BaseException:
            info = sys.exc_info()
        return logging.LogRecord("prefect.flow_runs", logging.ERROR, __file__, 1,
                                 "Engine execution exited with unexpected exception", None, info)

    quiet = DeliberateFailureTraceback()
    assert quiet.filter(record(FailedRun("Cannot start: ..."))) is False
    assert quiet.filter(record(KeyError("a bug"))) is True
    plain = logging.LogRecord("prefect.flow_runs", logging.ERROR, __file__, 1, "Cannot start: ...", None, None)
    assert quiet.filter(plain) is True  # the run's own message line stays


def test_cli_refuses_counts_below_one_before_anything_runs(capsys):
    from flows.cli import _parser

    for bad in (["--limit", "-3"], ["--limit", "0"], ["--concurrency", "0"], ["--limit", "x"]):
        with pytest.raises(SystemExit) as exited:
            _parser().parse_args(bad)
        assert exited.value.code == 2
    assert "must be 1 or more, not -3" in capsys.readouterr().err
    assert _parser().parse_args(["--limit", "5"]).limit == 5


def test_the_flow_parameters_carry_their_constraints():
    from flows.daily import daily_mailroom

    schema = daily_mailroom.parameters.model_dump()["properties"]
    assert {"minimum": 1}.items() <= schema["limit"]["anyOf"][0].items()
    assert {"minimum": 1, "maximum": 64}.items() <= schema["concurrency"]["anyOf"][0].items()
    assert schema["blocks"]["minLength"] == 1


def test_the_demo_faults_hand_its_first_logiqs_task_request_to_prefect():
    """README promise: the demo shows a task-level retry. Its first Task/Task request (the access check's probe,
    before any notice) is throttled with a Retry-After longer than call_max_delay, which the call level does not
    sleep: Prefect retries the task. Per-endpoint fault streams make this independent of thread interleaving."""
    from flows.cli import SANDBOX_SETTINGS, demo_faults
    from mailroom_sandbox.http.faults import FaultInjector, FaultKind

    first = FaultInjector(demo_faults(0.05, 7)).decide("logiqs", "Task/Task", "POST")
    assert first.kind in (FaultKind.HTTP_429, FaultKind.THROTTLE)
    assert first.retry_after > SANDBOX_SETTINGS["call_max_delay"]
    assert demo_faults(0, 7) is None


def test_blocks_pointing_at_a_stopped_local_sandbox_are_refused_at_once():
    import socket

    from blocks.config import RunConfig, _local_endpoints_answer
    from mailroom.errors import ConfigurationError

    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        live = f"http://127.0.0.1:{listening.getsockname()[1]}"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            dead = f"http://127.0.0.1:{probe.getsockname()[1]}/publicapi/V4/"  # bound, never listening

        def config(drive: str | None, logiqs: str) -> RunConfig:
            return RunConfig(logiqs=LogiqsCredentials(base_url=logiqs, api_key="k", secret="s"),
                             drive=DriveCredentials(service_account_info={}, api_endpoint=drive),
                             settings=PipelineSettings())

        _local_endpoints_answer(config(live, live), "sandbox")
        _local_endpoints_answer(config(None, "https://tenant.logiqs.com/publicapi/V4/"), "default")  # not probed
        with pytest.raises(ConfigurationError) as refused:
            _local_endpoints_answer(config(live, dead), "sandbox")
    message = str(refused.value)
    assert "'sandbox'" in message and dead in message and "python flows/daily.py --sandbox" in message
