"""Alerts end to end: `python -m blocks.alerts` creates the webhook block and the automations on a real `prefect
server`; a failing run, a pending review and an overdue notice each deliver exactly one webhook call to a local
receiver on 127.0.0.1 (the server's triggers and actions services deliver them)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from prefect import flow
from prefect.automations import Automation

from blocks.alerts import OVERDUE_ARRIVED, REVIEW_WAITING, RUN_FAILED, main as alerts_main, remove_automations
from blocks.register import SandboxProfile, save_sandbox_blocks
from flows.alerts import emit
from flows.records import summary_of
from mailroom.alerts import review_pending_alert
from mailroom.report import read_csv
from tests.flow.test_daily_flow import FULL_SSN, run_flow
from tests.flow.webhook_receiver import WebhookReceiver

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]

# Long enough for the server to read the event, evaluate the trigger and run the action; waits end on arrival.
DELIVERY_TIMEOUT = 120.0


@pytest.fixture
def alerts(prefect_server, capsys):
    with WebhookReceiver() as receiver:
        assert alerts_main(["--webhook-url", receiver.url]) == 0
        out = capsys.readouterr().out
        assert all(name in out for name in (RUN_FAILED, REVIEW_WAITING, OVERDUE_ARRIVED))
        try:
            yield receiver
        finally:
            remove_automations()  # other tests' runs must not call a receiver that is gone


def _subject(pattern: str):
    return lambda call: re.search(pattern, call.get("subject", "")) is not None


@flow(name="review-mailroom")
def _review_run_that_leaves_notices_pending(pending: int) -> None:
    """Stands in for the review flow's last step: it announces what is left for a person."""
    emit(review_pending_alert("test-run", pending, review_url="http://127.0.0.1/runs/flow-run/x"))


def test_a_failing_run_and_a_pending_review_each_deliver_one_webhook_call(alerts, tmp_path):
    state, _ = run_flow("no-such-blocks")
    assert state.is_failed() and "Missing Prefect blocks" in state.message
    _review_run_that_leaves_notices_pending(3)

    failed = alerts.wait_for(_subject(r"^mailroom run \S+ Failed$"), timeout=DELIVERY_TIMEOUT)
    pending = alerts.wait_for(_subject(r"3 notice\(s\) wait for review"), timeout=DELIVERY_TIMEOUT)

    assert "Missing Prefect blocks" in failed[0]["body"] and "/runs/flow-run/" in failed[0]["body"]
    assert "http://127.0.0.1/runs/flow-run/x" in pending[0]["body"]
    assert failed[0]["text"].startswith(failed[0]["subject"])  # the Slack/Teams-style field carries both
    # Exactly one each: the review run completed, so it raised no run-failed call of its own.
    assert len(alerts.matching(_subject("Failed$"))) == 1
    assert len(alerts.matching(_subject("wait for review"))) == 1
    assert {a.name for a in [Automation.read(name=RUN_FAILED)]} == {RUN_FAILED}


def test_an_overdue_notice_delivers_one_webhook_call_without_names(alerts, prefect_server, tmp_path):
    from mailroom_sandbox.stack import Sandbox

    with Sandbox(notices=2, seed=21) as sandbox:
        save_sandbox_blocks(SandboxProfile.of(sandbox), name="alerttest", state_dir=str(tmp_path / "state"),
                            report_dir=str(tmp_path / "reports"))
        state, _ = run_flow("alerttest", limit=1)
    assert state.is_completed(), state.message
    (row,) = read_csv(summary_of(state).report.csv)
    assert row.response_due_date is not None and row.response_due_date < date.today()  # 2025 corpus: overdue now

    (call,) = alerts.wait_for(_subject("overdue"), timeout=DELIVERY_TIMEOUT)

    assert row.file_id in call["body"] and row.response_due_date.isoformat() in call["body"]
    assert call["subject"] == f"mailroom: overdue {row.letter_type} notice"
    assert row.file_name not in call["text"] and not FULL_SSN.search(call["text"])
    assert not alerts.matching(_subject("Failed$"))  # a Completed run raises no run-failed call
