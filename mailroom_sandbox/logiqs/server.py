"""Logiqs (IRS Logics) public API V4 emulator on the shared sandbox HTTP core.

Wire shape, auth, scopes, limits and everything assumed where the public documentation is silent are written down
in docs/logiqs-api.md; this module is the executable form of that page.

    emulator = LogiqsEmulator()                       # rate limit 10 req/s (burst 10), no faults
    key, secret = emulator.create_api_key()           # random per run: never a committed credential
    emulator.seed_cases(corpus.cases)                 # CaseRecord objects or dicts (case_id, names, ssn, status...)
    with emulator:
        LogiqsClient(emulator.api_url, key, secret)
        emulator.stats()["duplicates"]
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mailroom_sandbox.http.core import EmulatorServer, Request, Response, parse_multipart
from mailroom_sandbox.http.emulator import Emulator
from mailroom_sandbox.http.faults import FaultConfig, FaultInjector, RateLimitConfig
from mailroom_sandbox.logiqs.store import SCOPES, LogiqsStore, SeedCase, StoredActivity

BASE_PATH = "/publicapi/V4"
MAX_DOCUMENT_BYTES = 6 * 1024 * 1024

_GENERIC_MESSAGES = {
    400: "The request is invalid.",
    401: "Authorization has been denied for this request.",
    404: "Not found.",
    405: "Method not allowed.",
    413: "The file is too large.",
    429: "Too many requests. Retry later.",
    500: "An error has occurred.",
    502: "Bad gateway.",
    503: "The service is unavailable.",
    504: "Gateway timeout.",
}


def envelope(data: Any = None, *, success: bool = True, message: str | None = None, status: int = 200,
             headers: dict[str, str] | None = None, http_status: int | None = None) -> Response:
    """The V4 envelope {Success, data, message, StatusCode}; the HTTP status equals StatusCode unless given."""
    body = {"Success": success, "data": data, "message": message, "StatusCode": status}
    return Response.json(body, status=http_status if http_status is not None else status, headers=headers)


def render_error(kind: str, status: int, retry_after: float | None) -> Response:
    """Every error the core produces (throttle, faults, outage, 404...) in the Logiqs envelope."""
    return envelope(None, success=False, message=_GENERIC_MESSAGES.get(status, "An error has occurred."),
                    status=status)


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


def _case_json(case: SeedCase) -> dict[str, Any]:
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


def _activity_json(activity: StoredActivity) -> dict[str, Any]:
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


class LogiqsEmulator(Emulator):
    def __init__(
        self,
        *,
        faults: FaultConfig | FaultInjector | None = None,
        rate_limit: RateLimitConfig | None = None,
        max_document_bytes: int = MAX_DOCUMENT_BYTES,
        known_user_ids: Iterable[int] | None = None,  # None: any UserID is accepted
    ) -> None:
        self.store = LogiqsStore()
        self.max_document_bytes = max_document_bytes
        self.known_user_ids = set(known_user_ids) if known_user_ids is not None else None
        self.server = EmulatorServer("logiqs", faults=faults, rate_limit=rate_limit or RateLimitConfig(),
                                     error_renderer=render_error)
        routes = [
            ("POST", "Case/FindCase", "case.read", self._find_case),
            ("GET", "Case/Case", "case.read", self._get_case),
            ("POST", "Documents/CaseDocument", "case.write", self._upload_document),
            ("POST", "Task/Task", "task.write", self._create_task),
            ("GET", "CaseActivity/Activity", "case.read", self._activities),
        ]
        for method, name, scope, handler in routes:
            self.server.add_route(method, f"{BASE_PATH}/{name}", self._guard(scope, handler), name=name)
        self.server.add_stats_provider(self.store.stats)

    # ------------------------------------------------------------------------------------------ seeding & control
    def add_api_key(self, key: str, secret: str, scopes: Iterable[str] = SCOPES) -> None:
        self.store.add_api_key(key, secret, scopes)

    def create_api_key(self, scopes: Iterable[str] = SCOPES) -> tuple[str, str]:
        key, secret = f"sbx-{secrets.token_hex(8)}", secrets.token_urlsafe(24)
        self.add_api_key(key, secret, scopes)
        return key, secret

    def seed_cases(self, cases: Iterable[SeedCase | dict[str, Any] | Any]) -> int:
        return self.store.seed_cases(cases)

    @property
    def api_url(self) -> str:
        """What a Logiqs client is configured with: ``http://127.0.0.1:PORT/publicapi/V4/``."""
        return f"{self.server.url}{BASE_PATH}/"

    # ---------------------------------------------------------------------------------------------------- auth
    def _guard(self, scope: str, handler: Any) -> Any:
        def guarded(request: Request) -> Response:
            scopes = self._authenticate(request.header("Authorization"))
            if scopes is None:
                return envelope(None, success=False, message=_GENERIC_MESSAGES[401], status=401,
                                headers={"WWW-Authenticate": 'Basic realm="Logiqs"'})
            if scope not in scopes:
                # V4 answers a permission problem with HTTP 200 and Success: false
                return envelope(None, success=False, message=f"API key lacks the {scope} permission.",
                                status=403, http_status=200)
            try:
                return handler(request)
            except ValidationError as exc:
                fields = sorted({".".join(str(p) for p in err["loc"]) or "body" for err in exc.errors()})
                return envelope(None, success=False, message=f"Invalid field(s): {', '.join(fields)}", status=400)
            except ValueError as exc:
                return envelope(None, success=False, message=str(exc), status=400)
        return guarded

    def _authenticate(self, header: str | None) -> frozenset[str] | None:
        if not header or not header.startswith("Basic "):
            return None
        try:
            key, _, secret = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return self.store.authenticate(key, secret)

    # ------------------------------------------------------------------------------------------------ handlers
    @staticmethod
    def _case_id(request: Request) -> int:
        header, query = request.header("CaseID"), request.query_value("CaseID")
        if header and query and header.strip() != query.strip():
            raise ValueError("CaseID header and query parameter disagree")
        raw = header or query
        if not raw or not raw.strip().isdigit():
            raise ValueError("CaseID is required (header) and must be a number")
        return int(raw)

    def _find_case(self, request: Request) -> Response:
        query = FindCaseRequest.model_validate_json(request.body or b"{}")
        found = self.store.find_cases(query.LastName, query.Last4SSN, query.FirstName, query.ActiveOnly)
        return envelope([_case_json(c) for c in found], message=f"{len(found)} case(s) found")

    def _get_case(self, request: Request) -> Response:
        case = self.store.cases.get(self._case_id(request))
        if case is None:
            return envelope(None, success=False, message="Case not found.", status=404)
        return envelope(_case_json(case))

    def _upload_document(self, request: Request) -> Response:
        case_id = self._case_id(request)
        if case_id not in self.store.cases:
            return envelope(None, success=False, message="Case not found.", status=404)
        parts = [p for p in parse_multipart(request) if p.name == "File"]
        if not parts or not parts[0].filename:
            raise ValueError("multipart part 'File' with a file name is required")
        file = parts[0]
        if len(file.data) > self.max_document_bytes:
            return envelope(None, success=False, message=_GENERIC_MESSAGES[413], status=413)
        document = self.store.add_document(case_id, file.filename or "", request.header("Comment") or "",
                                           len(file.data))
        return envelope({"CaseDocumentID": document.document_id}, message="Document uploaded.")

    def _create_task(self, request: Request) -> Response:
        task = TaskPayload.model_validate_json(request.body or b"{}")
        if task.CaseID not in self.store.cases:
            return envelope(None, success=False, message="Case not found.", status=404)
        if self.known_user_ids is not None and not set(task.UserID) <= self.known_user_ids:
            raise ValueError("UserID contains an unknown user")
        stored = self.store.add_task(
            case_id=task.CaseID, subject=task.Subject, task_type=task.TaskType, due_date=task.DueDate,
            reminder=task.Reminder, end_date=task.EndDate, user_ids=task.UserID, priority_id=task.PriorityID,
            status_id=task.StatusID, comments=task.Comments,
        )
        return envelope({"TaskID": stored.task_id}, message="Task created.", status=201)

    def _activities(self, request: Request) -> Response:
        case_id = self._case_id(request)
        if case_id not in self.store.cases:
            return envelope(None, success=False, message="Case not found.", status=404)
        return envelope([_activity_json(a) for a in self.store.activities_of(case_id)])
