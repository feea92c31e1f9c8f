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
    assert book.sheetnames == ["Matched", "Unmatched", "Failed"]
    by_sheet = {name: [r[0] for r in book[name].iter_rows(min_row=2, values_only=True)] for name in book.sheetnames}
    assert by_sheet == {"Matched": ["f1"], "Unmatched": ["f2"], "Failed": ["f3"]}
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


def test_downloads_live_in_a_private_dir_removed_even_on_failure():
    import stat

    from flows.daily import private_workdir

    with pytest.raises(RuntimeError):
        with private_workdir() as workdir:
            (workdir / "notice.pdf").write_bytes(b"%PDF")
            assert stat.S_IMODE(workdir.stat().st_mode) == 0o700
            raise RuntimeError("a failing run")
    assert not workdir.exists()
