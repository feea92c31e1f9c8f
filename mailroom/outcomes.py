"""The words for how a notice ends: shared by the ledger, the intake rules, the report and the UI."""

from __future__ import annotations

from enum import Enum


class Outcome(str, Enum):
    """The notice's final state as the report shows it. FAILED is final for a run, not forever: a later run retries."""

    MATCHED = "MATCHED"  # filed on its case: document + follow-up task in Logiqs, file in the MATCHED folder
    UNMATCHED = "UNMATCHED"  # a person must file it: the file is in the UNMATCHED folder with the reason
    FAILED = "FAILED"  # a service kept failing: the file stays in its input folder for the next run
    # A person decides: the reader or the matcher was unsure (AMBIGUOUS, INSUFFICIENT_DATA, low confidence). The
    # file stays in its input folder; a review flow run asks a reviewer and files the decision (docs/operations.md).
    PENDING_REVIEW = "PENDING_REVIEW"


class SkipReason(str, Enum):
    """Why a run left a notice alone: another run reports it (or reported it already)."""

    HELD_BY_ANOTHER_RUN = "held by another run"
    FINISHED_EARLIER = "already finished earlier"
    LEASE_TAKEN_OVER = "another run took over its lease"
    WAITING_FOR_REVIEW = "waiting for a reviewer"
    MOVED_TO_ANOTHER_REVIEW = "moved to another review run"
