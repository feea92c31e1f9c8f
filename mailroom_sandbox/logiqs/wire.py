"""What the Logiqs emulator reads and writes on the wire: request payloads, the envelope in each variant tenants
send, and the JSON shapes of cases and activities. See docs/logiqs-api.md for where each shape comes from."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mailroom_sandbox.http.core import Response
from mailroom_sandbox.logiqs.store import SeedCase, StoredActivity

ScopeDenial = Literal["http-403", "envelope-403"]

GENERIC_MESSAGES = {
    400: "The request is invalid.",
    401: "Authorization has been denied for this request.",
    403: "Access denied.",
    404: "Not found.",
    405: "Method not allowed.",
    413: "The file is too large.",
    429: "Too many requests. Retry later.",
    500: "An error has occurred.",
    502: "Bad gateway.",
    503: "The service is unavailable.",
    504: "Gateway timeout.",
}


class EnvelopeStyle(BaseModel):
    """The casing and encoding of the V4 envelope: ``{Success, data, message, StatusCode}`` by default."""

    model_config = ConfigDict(frozen=True)

    success_key: Literal["Success", "success"] = "Success"
    data_key: Literal["data", "Data"] = "data"
    message_key: Literal["message", "Message"] = "message"
    data_as_string: bool = False  # "data": "{\"TaskID\": 9001}" (JSON-encoded), as some endpoints answer

    def body(self, data: Any, *, success: bool, message: str | None, status: int) -> dict[str, Any]:
        if self.data_as_string and data is not None:
            data = json.dumps(data)
        return {self.success_key: success, self.data_key: data, self.message_key: message, "StatusCode": status}

    def response(self, data: Any = None, *, success: bool = True, message: str | None = None, status: int = 200,
                 headers: dict[str, str] | None = None, http_status: int | None = None) -> Response:
        """The HTTP status equals StatusCode unless ``http_status`` is given."""
        return Response.json(self.body(data, success=success, message=message, status=status),
                             status=http_status if http_status is not None else status, headers=headers)

    def error(self, status: int, message: str | None = None, **kwargs: Any) -> Response:
        return self.response(None, success=False, message=message or GENERIC_MESSAGES.get(status), status=status,
                             **kwargs)


def v3_detail(status: int, detail: str) -> Response:
    """How the V3 search refuses a request: ``{"detail": ...}`` (the firm's production code reads that key)."""
    return Response.json({"detail": detail}, status=status)


class FindCaseRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    LastName: str = Field(min_length=1)
    Last4SSN: str = Field(pattern=r"^\d{4}$")
    FirstName: str | None = None
    ActiveOnly: bool = False


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class TaskPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    CaseID: int = Field(gt=0)
    Subject: str = Field(min_length=1, max_length=255)
    Reminder: datetime
    TaskType: Literal[1, 2] = 1
    DueDate: datetime
    EndDate: datetime | None = None
    UserID: list[int] = Field(default_factory=list)
    PriorityID: int = Field(1, ge=0, le=3)
    StatusID: int = Field(0, ge=0)
    Comments: str = ""

    @field_validator("Reminder", "DueDate", "EndDate")
    @classmethod
    def _as_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _utc(value)  # "DueDate (UTC)": a naive time is read as UTC

    @model_validator(mode="after")
    def _event_needs_end(self) -> TaskPayload:
        if self.TaskType == 2 and self.EndDate is None:
            raise ValueError("EndDate is required when TaskType is 2 (event)")
        return self


class ActivityPayload(BaseModel):
    """POST CaseActivity/Activity: a note on the case's feed."""

    model_config = ConfigDict(extra="ignore")

    CaseID: int = Field(gt=0)
    Subject: str = Field("", max_length=255)
    Comment: str = ""
    ActivityType: str = "General"
    Popup: bool = False
    Pin: bool = False


def case_json(case: SeedCase) -> dict[str, Any]:
    """A row of V4 FindCase, the V3 ``caseData.data`` and ``Case/Case``."""
    return {
        "CaseID": case.case_id,
        "FirstName": case.first_name,
        "MiddleName": case.middle_name,
        "LastName": case.last_name,
        "SpouseFirstName": case.spouse_first_name,
        "SpouseLastName": case.spouse_last_name,
        "Last4SSN": case.ssn_last4,
        "StatusName": case.status,
        "Active": case.active,
    }


def case_info_json(case: SeedCase) -> dict[str, Any]:
    """``Case/CaseInfo``: the names as integrators read them, the SSN masked to its last 4, ``Status``."""
    return {
        "CaseID": case.case_id,
        "FirstName": case.first_name,
        "MiddleName": case.middle_name,
        "LastName": case.last_name,
        "SpouseFirstName": case.spouse_first_name,
        "SpouseLastName": case.spouse_last_name,
        "SSN": f"XXX-XX-{case.ssn_last4}",
        "Status": case.status,
        "Active": case.active,
    }


def activity_json(activity: StoredActivity) -> dict[str, Any]:
    return {
        "ActivityID": activity.activity_id,
        "CaseID": activity.case_id,
        "ActivityType": activity.activity_type,
        "Subject": activity.subject,
        "Comment": activity.comment,
        "CreatedDate": activity.created.isoformat().replace("+00:00", "Z"),
        "CaseDocumentID": activity.document_id,
        "TaskID": activity.task_id,
    }
