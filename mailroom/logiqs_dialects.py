"""Which Logiqs API a tenant speaks, and the wire models of its answers.

Tenants differ, and the public material disagrees (docs/logiqs-api.md names every source), so the operator picks in
the Logiqs block and ``python -m mailroom doctor`` says which one answers:

* case search: ``v3-findcase`` -- ``POST /publicapi/V3/Case/FindCase`` with an ``X-Api-Key`` header, answered
  ``{"matchFound": bool, "caseData": {"data": {...}}}`` (ONE case; the firm's production code) -- or
  ``v4-findcase`` -- ``POST /publicapi/V4/Case/FindCase`` with Basic auth, answered by the V4 envelope around a
  list of cases (our assumption: public V4 material shows no case search by SSN);
* reading one case: ``Case/Case`` or ``Case/CaseInfo`` (both V4, Basic auth);
* everything else is V4 with Basic auth (``Documents/CaseDocument``, ``Task/Task``, ``CaseActivity/Activity``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from mailroom.crm import Activity, CaseCandidate

SearchDialect = Literal["v3-findcase", "v4-findcase"]
CaseRead = Literal["Case/Case", "Case/CaseInfo"]
V3Auth = Literal["x-api-key", "basic"]
Family = Literal["V3", "V4"]
SEARCH_DIALECTS: tuple[SearchDialect, ...] = ("v3-findcase", "v4-findcase")
CASE_READS: tuple[CaseRead, ...] = ("Case/Case", "Case/CaseInfo")


class LogiqsDialect(BaseModel):
    """How mailroom talks to one tenant (the Logiqs block's dialect fields)."""

    model_config = ConfigDict(frozen=True)

    search: SearchDialect = "v4-findcase"
    case_read: CaseRead = "Case/Case"
    v3_auth: V3Auth = "x-api-key"  # the firm's code sends X-Api-Key; another integrator reaches V3 with Basic
    file_category_id: int | None = None  # Logiqs document category for uploads (FileCategoryID); None: tenant default

    @property
    def single_case_search(self) -> bool:
        """V3 FindCase answers one case per search, never the list of every case that matches."""
        return self.search == "v3-findcase"

    def other_search(self) -> SearchDialect:
        return "v3-findcase" if self.search == "v4-findcase" else "v4-findcase"


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    family: Family
    path: str
    scope: str
    idempotent: bool
    probe: bool = False  # an incomplete request: 400 (validation after the permission check) is the expected answer
    search: bool = False  # a 404 means the tenant does not serve this route (no case search answers 404)


FIND_CASE_V3 = Operation("find_case", "POST", "V3", "Case/FindCase", "case.read", True, search=True)
FIND_CASE_V4 = Operation("find_case", "POST", "V4", "Case/FindCase", "case.read", True, search=True)
CASE_READ_OPERATIONS = {
    "Case/Case": Operation("get_case", "GET", "V4", "Case/Case", "case.read", True),
    "Case/CaseInfo": Operation("get_case", "GET", "V4", "Case/CaseInfo", "case.read", True),
}
UPLOAD_DOCUMENT = Operation("upload_document", "POST", "V4", "Documents/CaseDocument", "case.write", False)
CREATE_TASK = Operation("create_task", "POST", "V4", "Task/Task", "task.write", False)
ACTIVITIES = Operation("activities", "GET", "V4", "CaseActivity/Activity", "case.read", True)


def find_case_operation(dialect: LogiqsDialect | SearchDialect) -> Operation:
    search = dialect.search if isinstance(dialect, LogiqsDialect) else dialect
    return FIND_CASE_V3 if search == "v3-findcase" else FIND_CASE_V4


def tenant_root(base_url: str) -> str:
    """``https://t.logiqs.com``, ``.../publicapi`` or ``.../publicapi/V4/`` -> ``https://t.logiqs.com``."""
    return re.sub(r"(/publicapi(/v\d+)?)?/*$", "", base_url.strip(), flags=re.IGNORECASE)


def api_base(base_url: str, family: Family = "V4") -> str:
    """The base of one endpoint family: ``https://t.logiqs.com/publicapi/V4/`` (V3 likewise)."""
    return f"{tenant_root(base_url)}/publicapi/{family}/"


_INACTIVE_STATUS = re.compile(r"\b(closed|resolved|withdrawn|inactive|cancel+ed)\b", re.IGNORECASE)


class CaseRow(BaseModel):
    """A case as V4 FindCase rows, V3 ``caseData.data``, ``Case/Case`` and ``Case/CaseInfo`` give it.

    Only the last 4 digits of an SSN are kept: a full ``SSN`` field, should a tenant send one, is cut here and never
    stored, logged or returned.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    CaseID: int
    FirstName: str | None = None
    LastName: str | None = None
    SpouseFirstName: str | None = None
    SpouseLastName: str | None = None
    Last4SSN: str | None = Field(None, validation_alias=AliasChoices("Last4SSN", "SSNLast4", "SSN", "TaxpayerSSN"))
    StatusName: str | None = Field(None, validation_alias=AliasChoices("StatusName", "Status", "CaseStatus"))
    Active: bool | None = None

    @model_validator(mode="after")
    def _only_last4(self) -> CaseRow:
        digits = re.sub(r"\D", "", self.Last4SSN or "")
        self.Last4SSN = digits[-4:] if len(digits) >= 4 else None
        return self

    @property
    def has_names(self) -> bool:
        return bool(self.LastName)

    def to_candidate(self) -> CaseCandidate:
        active = self.Active if self.Active is not None else not _INACTIVE_STATUS.search(self.StatusName or "")
        return CaseCandidate(
            case_id=self.CaseID, first_name=self.FirstName or "", last_name=self.LastName or "",
            spouse_first_name=self.SpouseFirstName or None, spouse_last_name=self.SpouseLastName or None,
            ssn_last4=self.Last4SSN, status=self.StatusName or "", active=active,
        )


class ActivityRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ActivityID: int
    CaseID: int
    ActivityType: str = ""
    Subject: str | None = None
    Comment: str | None = None
    CreatedDate: datetime | None = None
    CaseDocumentID: int | None = None
    TaskID: int | None = None

    def to_activity(self) -> Activity:
        return Activity(
            activity_id=self.ActivityID, case_id=self.CaseID, kind=self.ActivityType.lower(),
            subject=self.Subject or "", comment=self.Comment or "", created=self.CreatedDate,
            document_id=self.CaseDocumentID, task_id=self.TaskID,
        )
