"""In-memory state of the Logiqs emulator: API keys, cases, documents, tasks and the activity feed.

Kept apart from the HTTP layer (server.py) so tests and the sandbox stack can seed and inspect it directly.
FindCase's search (``find_matching_cases``) is also what ``directory.InMemoryCaseDirectory`` answers with.
Thread-safe: every mutation happens under one lock (handlers run one thread per connection).
"""

from __future__ import annotations

import hmac
import re
import threading
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

# activity.write: POST CaseActivity/Activity (the transcribed V4 docs); mailroom itself never needs it
SCOPES = ("case.read", "case.write", "task.write", "activity.write")


class Last4OfFullSsn:
    """``ssn_last4`` and ``spouse_ssn_last4`` of a seed model holding full synthetic SSNs (``ssn``, ``spouse_ssn``)."""

    @property
    def ssn_last4(self) -> str:
        return self.ssn[-4:]

    @property
    def spouse_ssn_last4(self) -> str | None:
        return self.spouse_ssn[-4:] if self.spouse_ssn else None


class SeedCase(Last4OfFullSsn, BaseModel):
    """A case to seed. Accepts mailroom_sandbox.corpus.models.CaseRecord dicts/objects (extra fields ignored)."""

    model_config = ConfigDict(extra="ignore", from_attributes=True)

    case_id: int = Field(gt=0)
    first_name: str
    last_name: str
    middle_name: str | None = None
    spouse_first_name: str | None = None
    spouse_last_name: str | None = None
    ssn: str = Field(repr=False, pattern=r"^\d{3}-?\d{2}-?\d{4}$")  # full synthetic SSN: only its last 4 leave here
    spouse_ssn: str | None = Field(default=None, repr=False, pattern=r"^\d{3}-?\d{2}-?\d{4}$")
    status: str = "Active"
    active: bool = True


class StoredDocument(BaseModel):
    document_id: int
    case_id: int
    file_name: str
    comment: str
    size: int
    created: datetime
    file_category_id: int | None = None


class StoredTask(BaseModel):
    task_id: int
    case_id: int
    subject: str
    task_type: int
    due_date: datetime
    reminder: datetime
    end_date: datetime | None
    user_ids: list[int]
    priority_id: int
    status_id: int
    comments: str
    created: datetime


class StoredActivity(BaseModel):
    activity_id: int
    case_id: int
    activity_type: str  # "Document", "Task", "General"
    subject: str
    comment: str
    created: datetime
    document_id: int | None = None
    task_id: int | None = None


def _norm(name: str | None) -> str:
    """Case- and punctuation-insensitive form of a name, for search ("O'Neil" == "oneil", "Garcia-Lopez")."""
    return re.sub(r"[^a-z]", "", (name or "").casefold())


def _last_name_matches(wanted: str, candidate: str | None) -> bool:
    """Equal after normalisation, or equal to one part of a hyphenated/compound name."""
    if not candidate:
        return False
    parts = {_norm(p) for p in re.split(r"[\s\-]+", candidate)} | {_norm(candidate)}
    return _norm(wanted) in parts


class SearchableCase(Protocol):
    """What FindCase's search reads of a case: a SeedCase here, a CaseCandidate in InMemoryCaseDirectory."""

    @property
    def case_id(self) -> int: ...
    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...
    @property
    def spouse_first_name(self) -> str | None: ...
    @property
    def spouse_last_name(self) -> str | None: ...
    @property
    def ssn_last4(self) -> str | None: ...
    @property
    def spouse_ssn_last4(self) -> str | None: ...
    @property
    def active(self) -> bool: ...


CaseT = TypeVar("CaseT", bound=SearchableCase)


def find_matching_cases(
    cases: Iterable[CaseT], last_name: str, last4: str, first_name: str | None, active_only: bool
) -> list[CaseT]:
    """Logiqs FindCase: taxpayer or spouse last name (see _last_name_matches) and the taxpayer's or spouse's SSN
    last 4; ``first_name`` keeps cases whose taxpayer or spouse first name starts with it (normalised)."""
    found = []
    for case in cases:
        if active_only and not case.active:
            continue
        if not (_last_name_matches(last_name, case.last_name) or _last_name_matches(last_name, case.spouse_last_name)):
            continue
        if last4 not in (case.ssn_last4, case.spouse_ssn_last4):
            continue
        if first_name and not any(
            _norm(n).startswith(_norm(first_name)) for n in (case.first_name, case.spouse_first_name) if n
        ):
            continue
        found.append(case)
    return sorted(found, key=lambda c: c.case_id)


class LogiqsStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[str, frozenset[str]]] = {}
        self.cases: dict[int, SeedCase] = {}
        self.documents: list[StoredDocument] = []
        self.tasks: list[StoredTask] = []
        self.activities: list[StoredActivity] = []
        self._next_id = {"document": 5001, "task": 9001, "activity": 1}
        self.posted_activities = 0

    # ------------------------------------------------------------------------------------------------- auth
    def add_api_key(self, key: str, secret: str, scopes: Iterable[str] = SCOPES) -> None:
        unknown = set(scopes) - set(SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes: {sorted(unknown)}")
        with self._lock:
            self._keys[key] = (secret, frozenset(scopes))

    def authenticate(self, key: str, secret: str) -> frozenset[str] | None:
        """The key's scopes, or None for an unknown key or a wrong secret (compared in constant time)."""
        entry = self._keys.get(key)
        if entry is None or not hmac.compare_digest(entry[0].encode(), secret.encode()):
            return None
        return entry[1]

    def scopes_of_key(self, key: str) -> frozenset[str] | None:
        """The scopes of a key sent alone (V3's ``X-Api-Key`` carries no secret), or None for an unknown key."""
        for known, (_secret, scopes) in list(self._keys.items()):
            if hmac.compare_digest(known.encode(), key.encode()):
                return scopes
        return None

    # ------------------------------------------------------------------------------------------------ cases
    def seed_cases(self, cases: Iterable[SeedCase | dict[str, Any] | Any]) -> int:
        seeded = [c if isinstance(c, SeedCase) else SeedCase.model_validate(c) for c in cases]
        now = datetime.now(timezone.utc)
        with self._lock:
            for case in seeded:
                self.cases[case.case_id] = case
                self._add_activity(case.case_id, "General", "Case opened", f"Status: {case.status}", now)
        return len(seeded)

    def find_cases(self, last_name: str, last4: str, first_name: str | None, active_only: bool) -> list[SeedCase]:
        """FindCase over the seeded cases (see find_matching_cases)."""
        with self._lock:
            cases = list(self.cases.values())
        return find_matching_cases(cases, last_name, last4, first_name, active_only)

    # ------------------------------------------------------------------------------------------------ effects
    def add_document(self, case_id: int, file_name: str, comment: str, size: int, *,
                     file_category_id: int | None = None) -> StoredDocument:
        now = datetime.now(timezone.utc)
        with self._lock:
            document = StoredDocument(document_id=self._take("document"), case_id=case_id, file_name=file_name,
                                      comment=comment, size=size, created=now, file_category_id=file_category_id)
            self.documents.append(document)
            self._add_activity(case_id, "Document", f"Document uploaded: {file_name}", comment, now,
                               document_id=document.document_id)
        return document

    def add_task(self, **fields: Any) -> StoredTask:
        now = datetime.now(timezone.utc)
        with self._lock:
            task = StoredTask(task_id=self._take("task"), created=now, **fields)
            self.tasks.append(task)
            self._add_activity(task.case_id, "Task", task.subject, task.comments, now, task_id=task.task_id)
        return task

    def post_activity(self, case_id: int, kind: str, subject: str, comment: str) -> StoredActivity:
        """A note posted through ``POST CaseActivity/Activity`` (counted apart: it is a write, too)."""
        with self._lock:
            self._add_activity(case_id, kind, subject, comment, datetime.now(timezone.utc))
            self.posted_activities += 1
            return self.activities[-1]

    def activities_of(self, case_id: int) -> list[StoredActivity]:
        with self._lock:
            return [a for a in self.activities if a.case_id == case_id]

    def _take(self, kind: str) -> int:
        value = self._next_id[kind]
        self._next_id[kind] += 1
        return value

    def _add_activity(self, case_id: int, kind: str, subject: str, comment: str, when: datetime, **ids: Any) -> None:
        self.activities.append(StoredActivity(activity_id=self._take("activity"), case_id=case_id,
                                              activity_type=kind, subject=subject, comment=comment,
                                              created=when, **ids))

    # ------------------------------------------------------------------------------------------------ stats
    def stats(self) -> dict[str, Any]:
        """Documents per (case, file name), tasks per case, and duplicates: the exactly-once evidence."""
        with self._lock:
            doc_counts = Counter((d.case_id, d.file_name) for d in self.documents)
            task_counts = Counter((t.case_id, t.subject, t.due_date.isoformat()) for t in self.tasks)
            tasks_per_case = Counter(t.case_id for t in self.tasks)
        documents: dict[str, dict[str, int]] = {}
        for (case_id, name), n in doc_counts.items():
            documents.setdefault(str(case_id), {})[name] = n
        duplicate_documents = [{"case_id": c, "file_name": f, "count": n} for (c, f), n in doc_counts.items() if n > 1]
        duplicate_tasks = [{"case_id": c, "subject": s, "due_date": d, "count": n}
                           for (c, s, d), n in task_counts.items() if n > 1]
        return {
            "documents_total": sum(doc_counts.values()),
            "tasks_total": sum(task_counts.values()),
            "activities_posted": self.posted_activities,
            "documents": documents,
            "tasks": {str(c): n for c, n in tasks_per_case.items()},
            "duplicates": {
                "documents": duplicate_documents,
                "tasks": duplicate_tasks,
                "total": sum(d["count"] - 1 for d in duplicate_documents + duplicate_tasks),
            },
        }
