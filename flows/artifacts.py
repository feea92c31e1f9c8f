"""What a person sees on a flow run's Artifacts tab: progress, one row per notice, one table per service, summary."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from mailroom.report import ReportRow, RunSummary, by_urgency, notice_table, summary_markdown

NOTICES_KEY = "mailroom-notices"
SUMMARY_KEY = "mailroom-summary"
PROGRESS_KEY = "mailroom-progress"


def service_key(service: str) -> str:
    return f"mailroom-service-{service}"


class Progress:
    """A progress artifact updated as notices finish (at most every ``min_interval`` seconds, and at the end)."""

    def __init__(self, total: int, *, min_interval: float = 1.0, steps_per_notice: int = 1) -> None:
        self.total = max(total * steps_per_notice, 1)  # two steps: every notice is read, then filed
        self.done = 0
        self._min_interval = min_interval
        self._last = 0.0
        described = (f"{total} notices: each read, then filed" if steps_per_notice == 2
                     else f"notices processed out of {total}")
        self.artifact_id: UUID = create_progress_artifact(progress=0.0, key=PROGRESS_KEY, description=described)

    def advance(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.done >= self.total or now - self._last >= self._min_interval:
            self._last = now
            update_progress_artifact(self.artifact_id, progress=100.0 * self.done / self.total)


def metrics_delta(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict]]:
    """Per service and operation, the counts this run added (the registry lives as long as the process)."""
    counted = ("calls", "successes", "failures", "retries", "throttles", "circuit_opens", "circuit_rejections",
               "budget_exhausted", "wait_seconds")
    delta: dict[str, dict[str, dict]] = {}
    for service, operations in after.items():
        for operation, metrics in operations.items():
            old = before.get(service, {}).get(operation)
            row = {name: getattr(metrics, name) - (getattr(old, name) if old else 0) for name in counted}
            if row["calls"] == 0:
                continue
            row["latency_p95_ms"] = metrics.latency_p95_ms  # cumulative for the process: percentiles do not subtract
            delta.setdefault(service, {})[operation] = row
    return delta


def service_rows(operations: dict[str, dict]) -> list[dict[str, Any]]:
    rows = []
    for operation, m in sorted(operations.items()):
        rows.append({
            "operation": operation, "calls": m["calls"], "retries": m["retries"], "throttles": m["throttles"],
            "failures": m["failures"], "circuit_opens": m["circuit_opens"],
            "p95_ms": round(m["latency_p95_ms"], 1) if m["latency_p95_ms"] is not None else "",
        })
    p95s = [m["latency_p95_ms"] for m in operations.values() if m["latency_p95_ms"] is not None]
    rows.append({
        "operation": "TOTAL", **{k: sum(r[k] for r in rows) for k in ("calls", "retries", "throttles", "failures",
                                                                       "circuit_opens")},
        "p95_ms": round(max(p95s), 1) if p95s else "",  # the worst operation's p95
    })
    return rows


def publish_artifacts(rows: list[ReportRow], summary: RunSummary, services: dict[str, dict[str, dict]]) -> None:
    create_table_artifact(
        key=NOTICES_KEY, table=notice_table(rows),
        description="One row per notice, most urgent first: letter type, respond-by date, days left, file, outcome, "
        "Logiqs case id, retries (task + call level), reason",
    )
    for service, operations in sorted(services.items()):
        create_table_artifact(
            key=service_key(service), table=service_rows(operations),
            description=f"{service}: calls, retries, throttles, failures, circuit opens, p95 latency per operation",
        )
    create_markdown_artifact(key=SUMMARY_KEY, markdown=summary_markdown(summary), description=summary.one_line())


REVIEW_KEY = "mailroom-review"


def publish_review_artifacts(rows: list[ReportRow], summary: RunSummary, left: int) -> None:
    """A review run's decisions: one row per notice (most urgent first) with who decided and when."""
    table = [  # notice_table lists the rows in by_urgency's order
        {**shown, "reviewed_by": row.reviewed_by or "",
         "reviewed_at": row.reviewed_at.isoformat(timespec="seconds") if row.reviewed_at else ""}
        for shown, row in zip(notice_table(rows), by_urgency(rows))
    ]
    create_table_artifact(key=REVIEW_KEY, table=table,
                          description="One row per notice of this review: decision filed (MATCHED by review, "
                          "UNMATCHED rejected), left for the next review, or failed; who decided and when")
    create_markdown_artifact(key=SUMMARY_KEY, markdown=summary_markdown(summary, title="mailroom review"),
                             description=f"{summary.matched} filed by review, {summary.unmatched} rejected, "
                             f"{left} left for the next review")
