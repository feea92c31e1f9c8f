"""What a person sees on a flow run's Artifacts tab: progress, one row per notice, one table per service, summary."""

from __future__ import annotations

import time
from typing import Any, Callable
from uuid import UUID

from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from mailroom.outcomes import Outcome
from mailroom.report import ReportRow, RunSummary, by_urgency, notice_table, summary_markdown

NOTICES_KEY = "mailroom-notices"
SUMMARY_KEY = "mailroom-summary"
PROGRESS_KEY = "mailroom-progress"


def service_key(service: str) -> str:
    return f"mailroom-service-{service}"


class Progress:
    """What a person watching a run needs to know: how many notices are done, waiting for review, failed, left.

    Shown live as the progress artifact's description (the Artifacts tab) and, at most every ``min_interval``
    seconds and at the end, as a ``progress:`` line in the run's log (the terminal of a CLI run or a worker, and the
    Logs tab). The flow-run state message is not updated while the run is going: every new Running state adds one
    to the run's Run Count (measured on Prefect 3.9), which would read as retries of the whole run.
    """

    def __init__(self, total: int, *, min_interval: float = 5.0, log: Callable[[str], None] | None = None) -> None:
        self.total = total
        self.done = 0
        self.waiting_for_review = 0
        self.failed = 0
        self._min_interval = min_interval
        self._log = log
        self._last = time.monotonic()
        self.artifact_id: UUID = create_progress_artifact(progress=0.0, key=PROGRESS_KEY, description=self.line())

    @property
    def finished(self) -> int:
        return self.done + self.waiting_for_review + self.failed

    def line(self) -> str:
        return (f"{self.finished} of {self.total} notices finished: {self.done} done, "
                f"{self.waiting_for_review} waiting for review, {self.failed} FAILED; {self.total - self.finished} to go")

    def advance(self, outcome: Outcome | None) -> None:
        """One notice finished with ``outcome`` (None: skipped, another run reports it)."""
        if outcome is Outcome.FAILED:
            self.failed += 1
        elif outcome is not None and "REVIEW" in outcome.value:  # the review queue's outcome(s)
            self.waiting_for_review += 1
        else:
            self.done += 1
        now = time.monotonic()
        if self.finished >= self.total or now - self._last >= self._min_interval:
            self._last = now
            line = self.line()
            update_progress_artifact(self.artifact_id, progress=100.0 * self.finished / max(self.total, 1),
                                     description=line)
            if self._log is not None:
                self._log(f"progress: {line}")


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
