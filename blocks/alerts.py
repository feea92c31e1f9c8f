"""Alerts: a webhook notification block and the automations that use it, created with one command.

    python -m blocks.alerts --webhook-url https://hooks.example.com/...     # create or replace all of them
    python -m blocks.alerts --remove                                        # delete the automations

Three automations, each sending one notification through the ``mailroom-alerts`` webhook block (Prefect's
``CustomWebhookNotificationBlock``; its JSON has ``subject``, ``body`` and a Slack/Teams-style ``text``):

- a mailroom flow run ends Failed or Crashed (a run that cannot start, or FAILED notices);
- notices wait for review (event ``mailroom.review.pending``, one per run that left any);
- an overdue notice arrives (event ``mailroom.notice.overdue``, one per notice).

The automations run inside the Prefect server (its triggers and actions services, on by default in
``prefect server start``). Running the command again replaces them (matched by name), so it is also the upgrade path.
Messages carry identifiers, counts, dates and the run's own state message: never a file or taxpayer name.
"""

from __future__ import annotations

import argparse
from typing import Any

from prefect.automations import Automation, EventTrigger, Posture, SendNotification
from prefect.blocks.notifications import CustomWebhookNotificationBlock

from mailroom.alerts import NOTICE_OVERDUE, NOTICE_RESOURCE_PREFIX, REVIEW_PENDING, REVIEW_RESOURCE_PREFIX

WEBHOOK_BLOCK_NAME = "mailroom-alerts"
MAILROOM_FLOWS = ["daily-mailroom", "review-mailroom"]
AUTOMATION_PREFIX = "mailroom: "

RUN_FAILED = AUTOMATION_PREFIX + "run failed"
REVIEW_WAITING = AUTOMATION_PREFIX + "notices wait for review"
OVERDUE_ARRIVED = AUTOMATION_PREFIX + "overdue notice arrived"


def _definitions(block_id: Any) -> list[Automation]:
    """The automations, as code: what fires them and what the notification says (Jinja over the event/run)."""

    def notify(subject: str, body: str) -> list[SendNotification]:
        return [SendNotification(block_document_id=block_id, subject=subject, body=body)]

    return [
        Automation(
            name=RUN_FAILED,
            description="A mailroom flow run ended Failed or Crashed: its state message says why.",
            trigger=EventTrigger(
                expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
                match={"prefect.resource.id": "prefect.flow-run.*"},
                match_related={"prefect.resource.role": "flow", "prefect.resource.name": MAILROOM_FLOWS},
                posture=Posture.Reactive, threshold=1, within=0,
            ),
            actions=notify(
                "mailroom run {{ flow_run.name }} {{ flow_run.state.name }}",
                "{{ flow.name }} run {{ flow_run.name }} ended {{ flow_run.state.name }}: "
                "{{ flow_run.state.message }}\n{{ flow_run|ui_url }}",
            ),
        ),
        Automation(
            name=REVIEW_WAITING,
            description="Notices wait for a person in a review run (one message per run that left any).",
            trigger=EventTrigger(
                expect={REVIEW_PENDING}, match={"prefect.resource.id": f"{REVIEW_RESOURCE_PREFIX}*"},
                posture=Posture.Reactive, threshold=1, within=0,
            ),
            actions=notify(
                "mailroom: {{ event.payload.pending }} notice(s) wait for review",
                "{{ event.payload.pending }} notice(s) wait for review"
                "{% if event.payload.review_url %}: {{ event.payload.review_url }}{% endif %}",
            ),
        ),
        Automation(
            name=OVERDUE_ARRIVED,
            description="A notice arrived after its response date: someone must act today.",
            trigger=EventTrigger(
                expect={NOTICE_OVERDUE}, match={"prefect.resource.id": f"{NOTICE_RESOURCE_PREFIX}*"},
                posture=Posture.Reactive, threshold=1, within=0,
            ),
            actions=notify(
                "mailroom: overdue {{ event.payload.letter_type }} notice",
                "{{ event.payload.letter_type }} notice (Drive file {{ event.payload.file_id }}) arrived "
                "{{ event.payload.days_overdue }} day(s) after its response date {{ event.payload.response_due_date }}"
                "; outcome {{ event.payload.outcome }}"
                "{% if event.payload.case_id %}, case {{ event.payload.case_id }}{% endif %}.",
            ),
        ),
    ]


def save_webhook_block(url: str, *, name: str = WEBHOOK_BLOCK_NAME) -> Any:
    """The notification block the automations send through; returns its block document id."""
    block = CustomWebhookNotificationBlock(
        name="mailroom alerts",
        url=url,
        json_data={"subject": "{{subject}}", "body": "{{body}}", "text": "{{subject}}\n{{body}}"},
    )
    return block.save(name, overwrite=True)


def remove_automations() -> list[str]:
    """Delete every automation this module defines (by name); returns the names deleted."""
    removed = []
    for name in (RUN_FAILED, REVIEW_WAITING, OVERDUE_ARRIVED):
        while True:  # by name: an older command may have left more than one
            try:
                existing = Automation.read(name=name)
            except ValueError:
                break
            existing.delete()
            removed.append(name)
    return removed


def install_alerts(webhook_url: str) -> list[Automation]:
    """Save the webhook block and (re)create the automations; returns them as created."""
    block_id = save_webhook_block(webhook_url)
    remove_automations()
    return [automation.create() for automation in _definitions(block_id)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m blocks.alerts", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--webhook-url", help="where notifications are POSTed (Slack/Teams incoming webhook, ...)")
    group.add_argument("--remove", action="store_true", help="delete mailroom's automations (keeps the block)")
    args = parser.parse_args(argv)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from blocks.prefect_server import ensure_server

    server = ensure_server(PREFECT_API_URL.value())
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        if args.remove:
            print("Removed: " + (", ".join(remove_automations()) or "nothing"))
            return 0
        created = install_alerts(args.webhook_url)
    print(f"Saved webhook block {WEBHOOK_BLOCK_NAME!r} and {len(created)} automations at {server.ui_url}/automations:")
    for automation in created:
        print(f"  {automation.name}: {automation.description}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
