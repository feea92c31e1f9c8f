"""The review queue's rules: which notices wait for a person, what the reviewer sees, what an answer means.

    policy = ReviewPolicy.of(settings)
    why = policy.reason_for(notice, match)          # None: file it (or UNMATCHED) as usual; else it waits for review
    entry = ReviewEntry.of(key, file_name, notice, match, today=..., why=...)   # one entry of the reviewer's form
    resolution = resolve(entry, answer)             # FILE on a case / SEARCH_AGAIN with names / REJECT / LEAVE

No Prefect here: the form itself (a Prefect ``RunInput``) is built from these in ``flows/review_form.py`` and the
review flow run (``flows/review.py``) files the resolutions through ``mailroom.intake`` like the daily run does.

Which notices wait for review (docs/operations.md, "Review queue"):

- AMBIGUOUS: two or more open cases too close to call; the reviewer picks one.
- INSUFFICIENT_DATA: no SSN last 4 or no last name read; the reviewer types what the notice says and searches again.
- NO_MATCH where open cases share the SSN last 4 but no name fits (``review_no_match_with_candidates``): a misread
  name; the reviewer picks the case or corrects the name. NO_MATCH with no case at all (or only closed cases)
  still ends UNMATCHED: the fix is a new or reopened case in the CRM, which is not mailroom's to make.
- Low confidence: MATCHED, but scoring below ``review_min_match_score`` or with the SSN last 4 or the last name read
  below ``review_min_field_confidence`` (OCR repairs, file-name guesses).
- MATCHED but no response date could be read: the reviewer gives the date (no follow-up task without one).

Unreadable files (encrypted, corrupt, not a PDF...) still end UNMATCHED with their reason: a person has to rescan
them, which a form cannot do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field

from mailroom.ledger_records import NoticeKey
from mailroom.matching import MatchOutcome, MatchResult, ScoredCandidate
from mailroom.notices import Notice
from mailroom.urgency import days_left

IDENTITY_FIELDS = ("ssn_last4", "taxpayer_last_name")  # what decides the case a notice is filed on


@dataclass(frozen=True)
class ReviewPolicy:
    """When a notice waits for a person instead of being filed or ending UNMATCHED (settings-driven)."""

    enabled: bool = True
    min_match_score: float = 90.0
    min_field_confidence: float = 0.75
    no_match_with_candidates: bool = True

    @classmethod
    def of(cls, settings: Any) -> "ReviewPolicy":
        return cls(settings.review_enabled, settings.review_min_match_score, settings.review_min_field_confidence,
                   settings.review_no_match_with_candidates)

    def reason_for(self, notice: Notice, match: MatchResult) -> str | None:
        """Why this notice needs a reviewer (report-safe: case ids, scores, field names), or None."""
        if not self.enabled:
            return None
        if match.outcome is MatchOutcome.AMBIGUOUS:
            return f"AMBIGUOUS: {match.reason}"
        if match.outcome is MatchOutcome.INSUFFICIENT_DATA:
            return f"INSUFFICIENT_DATA: {match.reason}"
        if match.outcome is MatchOutcome.NO_MATCH:
            open_cases = [c for c in match.candidates if c.active]
            if self.no_match_with_candidates and open_cases:
                return f"NO_MATCH: {match.reason}"
            return None
        return self._low_confidence(notice, match)

    def _low_confidence(self, notice: Notice, match: MatchResult) -> str | None:
        if match.score < self.min_match_score:
            return (f"low confidence: case {match.case_id} scored {match.score:.1f} "
                    f"(below {self.min_match_score:.0f})")
        # A match the CRM confirmed (the case's own first and last name found on the page, its last 4 the page's or
        # a look-alike of it: page_confirmation.py) has both identity fields confirmed, however unsure the read was:
        # sending it to review undid the confirmation (dev seeds 4242/5150: 16 of 22 and 11 of 15 true matches
        # that waited for review for an unsure field were such matches).
        confirmed = match.confirmed_last_name is not None
        unsure = [] if confirmed else [(name, notice.confidence(name)) for name in IDENTITY_FIELDS
                                       if notice.confidence(name) < self.min_field_confidence]
        if unsure:
            read = ", ".join(f"{name} read with confidence {value:.2f}" for name, value in unsure)
            return f"low confidence: {read} (below {self.min_field_confidence:.2f}); case {match.case_id}"
        if notice.response_due_date is None:
            return f"case {match.case_id} matched but no response due date could be read"
        return None


# -- what the reviewer sees --------------------------------------------------------------------------------------


class ReviewEntry(BaseModel):
    """One notice in the reviewer's form. Holds names: it lives in the review run's memory and in the form only."""

    key: NoticeKey
    file_name: str
    link: str | None = None  # where the reviewer opens the PDF (Drive's page for the file)
    why: str = ""  # why it waits for review (report-safe)
    letter_type: str | None = None
    notice_date: date | None = None
    response_due_date: date | None = None
    days_left: int | None = None
    ssn: str | None = None  # masked ***-**-1234
    taxpayer: str = ""
    spouse: str = ""
    first_name: str = ""
    last_name: str = ""
    ssn_last4: str = ""
    candidates: list[ScoredCandidate] = Field(default_factory=list)
    problem: str = ""  # the notice could not be read again for this review (the reviewer can still reject it)

    @classmethod
    def of(cls, key: NoticeKey, file_name: str, notice: Notice | None, match: MatchResult | None, *, today: date,
           why: str = "", link: str | None = None, problem: str = "") -> "ReviewEntry":
        if notice is None:
            return cls(key=key, file_name=file_name, link=link, why=why, problem=problem or "could not be read")
        candidates = [c for c in (match.candidates if match else []) if c.active] or list(match.candidates if match
                                                                                           else [])
        return cls(
            key=key, file_name=file_name, link=link, why=why, problem=problem,
            letter_type=getattr(notice.letter_type, "value", notice.letter_type), notice_date=notice.notice_date,
            response_due_date=notice.response_due_date, days_left=days_left(notice.response_due_date, today),
            ssn=notice.masked_ssn if notice.ssn_last4 else None,
            taxpayer=_person(notice.taxpayer_first_name, notice.taxpayer_last_name),
            spouse=_person(notice.spouse_first_name, notice.spouse_last_name),
            first_name=notice.taxpayer_first_name or "", last_name=notice.taxpayer_last_name or "",
            ssn_last4=notice.ssn_last4 or "", candidates=candidates[:MAX_CHOICES],
        )  # fmt: skip

    def choice_labels(self) -> list[str]:
        """The case choices of the form's select: best first; the first one is the form's default."""
        return [case_label(c) for c in self.candidates]

    def headline(self, number: int) -> str:
        due = f"respond by {self.response_due_date:%m/%d/%Y} ({_left(self.days_left)})" if self.response_due_date \
            else "no response date read"
        return f"{number}. {self.letter_type or 'unreadable'} · {due} · {self.file_name}"

    def details(self) -> str:
        if self.problem:
            return f"{self.problem}. Why in review: {self.why}"
        names = self.taxpayer + (f" & {self.spouse}" if self.spouse else "")
        cases = "; ".join(f"{c.case_id} {c.name} ({c.status}) score {c.score:.1f}" for c in self.candidates)
        dated = f"dated {self.notice_date:%m/%d/%Y}" if self.notice_date else "no notice date read"
        return (f"{dated} · SSN {self.ssn or 'not read'} · names read: {names or 'none'} · "
                f"candidate cases: {cases or 'none'} · why in review: {self.why}")


MAX_CHOICES = 8  # candidates offered in the select; a case not listed can still be typed in as "other case id"


def case_label(candidate: ScoredCandidate) -> str:
    return f"{candidate.case_id} · {candidate.name} · {candidate.status} · score {candidate.score:.1f}"


def case_id_of_label(label: str) -> int | None:
    found = re.match(r"\s*(\d+)\b", label or "")
    return int(found.group(1)) if found else None


def form_markdown(entries: list[ReviewEntry], *, deadline_note: str = "") -> str:
    """The text above the form: what to do, then one line per notice (most urgent first)."""
    lines = [
        f"# {len(entries)} notice(s) wait for your decision",
        "",
        "For each notice, open the PDF (link), choose a **Decision** and submit. *file on the chosen case* files it "
        "on the case picked in **Case** (or on **Other case id**); *search again* searches Logiqs with the names "
        "and SSN last 4 typed below; *reject* moves it to UNMATCHED for filing by hand; *undecided* keeps it for "
        "the next review. " + deadline_note,
        "",
        "| # | letter | respond by | days left | file | SSN | why |",
        "|---:|---|---|---:|---|---|---|",
    ]
    for number, entry in enumerate(entries, 1):
        due = f"{entry.response_due_date:%m/%d/%Y}" if entry.response_due_date else "?"
        name = f"[{_cell(entry.file_name)}]({entry.link})" if entry.link else _cell(entry.file_name)
        lines.append(f"| {number} | {entry.letter_type or '?'} | {due} | {_left(entry.days_left)} | {name} | "
                     f"{entry.ssn or '?'} | {_cell(entry.why or entry.problem)} |")
    return "\n".join(lines)


# -- what an answer means ----------------------------------------------------------------------------------------


class Decision(str, Enum):
    """What to do with this notice (the values are what the form's select shows)."""

    UNDECIDED = "undecided: keep for the next review"
    FILE = "file on the chosen case"
    SEARCH_AGAIN = "search again with the names below"
    REJECT = "reject: UNMATCHED, a person files it"


class NoticeAnswer(BaseModel):
    """One notice's answer as the form returns it (the Prefect form adds a select of this notice's cases)."""

    decision: Decision = Field(Decision.UNDECIDED, title="Decision",
                               description="File it on a case, search again, reject it, or keep it for the next review")
    case: str = ""  # a choice label ("1201 · John Smith · Active · score 91.5")
    other_case_id: int = Field(0, ge=0)
    first_name: str = ""
    last_name: str = ""
    ssn_last4: str = ""
    response_due_date: date | None = None


class Action(str, Enum):
    FILE = "FILE"
    SEARCH_AGAIN = "SEARCH_AGAIN"
    REJECT = "REJECT"
    LEAVE = "LEAVE"  # stays pending for the next review


class Resolution(BaseModel):
    action: Action
    case_id: int | None = None
    listed: bool = True  # the case was one of the candidates (else the review run checks it exists and is open)
    due_date: date | None = None
    first_name: str = ""
    last_name: str = ""
    ssn_last4: str = ""
    note: str = ""  # report-safe: why an answer was not acted on


def resolve(entry: ReviewEntry, answer: NoticeAnswer) -> Resolution:
    """What to do with one notice. An answer that cannot be acted on is LEAVE with a note (never a guess)."""
    if answer.decision is Decision.UNDECIDED:
        return Resolution(action=Action.LEAVE)
    if answer.decision is Decision.REJECT:
        return Resolution(action=Action.REJECT)
    if answer.decision is Decision.SEARCH_AGAIN:
        last4 = answer.ssn_last4.strip() or entry.ssn_last4
        last = answer.last_name.strip() or entry.last_name
        if not re.fullmatch(r"\d{4}", last4 or "") or not last:
            return Resolution(action=Action.LEAVE, note="search again needs a last name and 4 SSN digits")
        return Resolution(action=Action.SEARCH_AGAIN, first_name=answer.first_name.strip(), last_name=last,
                          ssn_last4=last4)
    case_id = answer.other_case_id or case_id_of_label(answer.case)
    if not case_id:
        return Resolution(action=Action.LEAVE, note="file chosen but no case given")
    due = answer.response_due_date or entry.response_due_date
    if entry.problem:
        return Resolution(action=Action.LEAVE, note=f"cannot file: {entry.problem}")
    if due is None:
        return Resolution(action=Action.LEAVE, note="file chosen but no response due date given")
    listed = case_id in {c.case_id for c in entry.candidates}
    return Resolution(action=Action.FILE, case_id=case_id, listed=listed, due_date=due)


def corrected(notice: Notice, resolution: Resolution) -> Notice:
    """The notice as the reviewer says it reads (names, SSN last 4, response date): for a new search or filing."""
    changes: dict[str, Any] = {}
    if resolution.last_name:
        changes.update(taxpayer_last_name=resolution.last_name, taxpayer_first_name=resolution.first_name or None)
    if resolution.ssn_last4:
        changes["ssn_last4"] = resolution.ssn_last4
    if resolution.due_date and resolution.due_date != notice.response_due_date:
        changes.update(response_due_date=resolution.due_date, response_due_derived=False)
    return notice.model_copy(update=changes)


def _person(first: str | None, last: str | None) -> str:
    return " ".join(part for part in (first, last) if part)


def _left(left: int | None) -> str:
    if left is None:
        return "?"
    if left == 0:
        return "due today"
    return f"{-left} days overdue" if left < 0 else f"{left} days"


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


# -- review runs that ended or were left open too long -------------------------------------------------------------


class Sweep(str, Enum):
    """What the daily run does with an open review batch before starting a fresh review run."""

    KEEP = "KEEP"  # its review run is waiting (within the deadline) or filing decisions right now
    RELEASE = "RELEASE"  # its review run ended (or never started): the undecided notices join the fresh run
    EXPIRE = "EXPIRE"  # its review run waited past the deadline: close it, and its notices join the fresh run


FINAL_STATES = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})
# Waiting for the reviewer (PAUSED: the form is open) or for a worker (SCHEDULED/PENDING). A run RUNNING is filing
# decisions: never interrupted, whatever its age.
WAITING_STATES = frozenset({"PAUSED", "SCHEDULED", "PENDING"})
START_GRACE_SECONDS = 600.0  # a batch whose run was never recorded: the run starting it may still be at it


def sweep(run_state: str | None, *, age_seconds: float, deadline_seconds: float) -> Sweep:
    """``run_state``: the review run's Prefect state type (``PAUSED`` while it waits for the form), ``MISSING``
    when the run was deleted, None when no run was recorded for the batch."""
    if run_state is None:
        return Sweep.RELEASE if age_seconds > START_GRACE_SECONDS else Sweep.KEEP
    if run_state == "MISSING" or run_state in FINAL_STATES:
        return Sweep.RELEASE
    if run_state in WAITING_STATES and age_seconds > deadline_seconds:
        return Sweep.EXPIRE
    return Sweep.KEEP
