"""Emitting mailroom's events (``mailroom.alerts``) as Prefect events, from inside the run they are about.

Prefect attaches the run's own resources (flow run, flow, deployment, tags) as related resources, so an automation
or a person reading the event feed can go from an event to its run. The automations that notify people are defined
in ``blocks/alerts.py`` (``python -m blocks.alerts --webhook-url ...``).
"""

from __future__ import annotations

from datetime import date

from prefect.events import emit_event

from mailroom.alerts import Alert, notice_alerts
from mailroom.report import ReportRow


def emit(alert: Alert) -> None:
    emit_event(event=alert.event, resource=alert.resource, payload=alert.payload)


def emit_notice_alerts(row: ReportRow, today: date) -> int:
    """Emit the events a finished notice raises (FAILED, overdue); returns how many."""
    alerts = notice_alerts(row, today)
    for alert in alerts:
        emit(alert)
    return len(alerts)
