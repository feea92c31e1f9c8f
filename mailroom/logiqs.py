"""Logiqs (IRS Logics) public API V4 client over a requests.Session.

Every request goes through ``ResiliencePolicy(service="logiqs").call(...)``: reads (including the FindCase POST) are
idempotent and may be retried; the document upload and the task creation are not, so a reset, a read timeout or a
5xx on them surfaces as ``AmbiguousOutcomeError`` and is never repeated here (mailroom.effects looks for the marker in
the case activities first). The wire shape and our assumptions are in docs/logiqs-api.md.

Error mapping (messages carry operation, status and ids only; never bodies, the key or the secret):
- HTTP 401                                   -> AuthError("Logiqs rejected the API key")
- HTTP 200 with Success: false, StatusCode 401/403 -> AuthError naming the scope the operation needs
- HTTP 413                                   -> PermanentError(reason="too_large")
- HTTP 404 / Success: false StatusCode 404   -> NotFoundError;  other 4xx / Success: false -> PermanentError
- HTTP 429                                   -> ThrottledError(retry_after from Retry-After, seconds or HTTP-date)
- HTTP 5xx                                   -> TransientError on reads, AmbiguousOutcomeError on writes (the
  emulator, like real servers, can commit and then answer 503/500)
- requests' connection errors / timeouts    -> mapped by mailroom.logiqs_errors around each request: transient,
  or ambiguous on writes once the request may have left (never-connected failures stay transient)
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from mailroom.crm import Activity, CaseCandidate, TaskRequest
from mailroom.errors import (
    AmbiguousOutcomeError,
    AuthError,
    MailroomError,
    NotFoundError,
    PermanentError,
    ThrottledError,
    TransientError,
)
from mailroom.http_failures import parse_retry_after
from mailroom.logiqs_errors import requests_errors
from mailroom.resilience import ResiliencePolicy

logger = logging.getLogger(__name__)

SERVICE = "logiqs"
MAX_DOCUMENT_BYTES = 6 * 1024 * 1024


@dataclass(frozen=True)
class _Operation:
    name: str
    method: str
    path: str
    scope: str
    idempotent: bool
    probe: bool = False  # check_access: a 400 (validation after the permission check) is the expected answer


FIND_CASE = _Operation("find_case", "POST", "Case/FindCase", "case.read", True)
GET_CASE = _Operation("get_case", "GET", "Case/Case", "case.read", True)
UPLOAD_DOCUMENT = _Operation("upload_document", "POST", "Documents/CaseDocument", "case.write", False)
CREATE_TASK = _Operation("create_task", "POST", "Task/Task", "task.write", False)
ACTIVITIES = _Operation("activities", "GET", "CaseActivity/Activity", "case.read", True)


class _Envelope(BaseModel):
    """{Success, data, message, StatusCode}; integrators report "Data"/"Message" casing on some tenants."""

    model_config = ConfigDict(extra="ignore")

    Success: bool = Field(validation_alias=AliasChoices("Success", "success"))
    data: Any = Field(None, validation_alias=AliasChoices("data", "Data"))
    StatusCode: int | None = Field(None, validation_alias=AliasChoices("StatusCode", "statusCode"))


class _CaseRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    CaseID: int
    FirstName: str | None = None
    LastName: str | None = None
    SpouseFirstName: str | None = None
    SpouseLastName: str | None = None
    Last4SSN: str | None = None
    StatusName: str | None = None
    Active: bool = True

    def to_candidate(self) -> CaseCandidate:
        last4 = self.Last4SSN if self.Last4SSN and re.fullmatch(r"\d{4}", self.Last4SSN) else None
        return CaseCandidate(
            case_id=self.CaseID, first_name=self.FirstName or "", last_name=self.LastName or "",
            spouse_first_name=self.SpouseFirstName or None, spouse_last_name=self.SpouseLastName or None,
            ssn_last4=last4, status=self.StatusName or "", active=self.Active,
        )


class _ActivityRow(BaseModel):
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


def api_base(base_url: str) -> str:
    """``https://tenant.logiqs.com`` or ``.../publicapi/V4`` (with or without a slash) -> ``.../publicapi/V4/``."""
    base = base_url.rstrip("/")
    if not re.search(r"/publicapi/v\d+$", base, flags=re.IGNORECASE):
        base += "/publicapi/V4"
    return base + "/"


def utc_wire(value: datetime) -> str:
    """Logiqs dates are UTC; a naive datetime is taken to be UTC already."""
    value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def header_safe(text: str) -> str:
    """Comment travels as an HTTP header: one line of ASCII (anything else becomes '?', CR/LF a space)."""
    return re.sub(r"[\r\n\t]+", " ", text).encode("ascii", "replace").decode("ascii")


class LogiqsClient:
    """Implements mailroom.crm.CaseDirectory plus the effects mailroom needs (upload, task, activity feed)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        secret: str,
        *,
        session: requests.Session | None = None,
        policy: ResiliencePolicy | None = None,
        timeout: tuple[float, float] = (5, 30),
    ) -> None:
        self.base_url = api_base(base_url)
        self._auth = requests.auth.HTTPBasicAuth(api_key, secret)
        self._owns_session = session is None
        self._session = session or requests.Session()
        self._policy = policy or ResiliencePolicy(SERVICE)
        self._timeout = timeout

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> LogiqsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:  # the key and the secret never appear
        return f"LogiqsClient({self.base_url!r})"

    # -------------------------------------------------------------------------------------------------- reads
    def find_cases(
        self, last_name: str, ssn_last4: str, *, first_name: str | None = None, active_only: bool = False
    ) -> list[CaseCandidate]:
        if not re.fullmatch(r"\d{4}", ssn_last4 or ""):
            raise PermanentError("find_cases needs the last 4 digits of the SSN", service=SERVICE,
                                 operation=FIND_CASE.name, reason="bad_input")
        body: dict[str, Any] = {"LastName": last_name, "Last4SSN": ssn_last4, "ActiveOnly": active_only}
        if first_name:
            body["FirstName"] = first_name
        data = self._call(FIND_CASE, json=body)
        rows = self._parse(FIND_CASE, list[_CaseRow], data or [])
        return [row.to_candidate() for row in rows]

    def get_case(self, case_id: int) -> CaseCandidate:
        data = self._call(GET_CASE, headers={"CaseID": str(case_id)}, case_id=case_id)
        return self._parse(GET_CASE, _CaseRow, data).to_candidate()

    def activities(self, case_id: int) -> list[Activity]:
        data = self._call(ACTIVITIES, headers={"CaseID": str(case_id)}, case_id=case_id)
        return [row.to_activity() for row in self._parse(ACTIVITIES, list[_ActivityRow], data or [])]

    # ------------------------------------------------------------------------------------------------ effects
    def upload_document(self, case_id: int, path: Path, *, file_name: str, comment: str) -> int:
        """Upload ``path`` as ``file_name`` to the case; returns the CaseDocumentID. Not idempotent."""
        size = Path(path).stat().st_size
        if size > MAX_DOCUMENT_BYTES:  # Logiqs would answer 413: do not spend a call (or a slot) on it
            raise PermanentError(f"document for case {case_id} is {size} bytes, over the 6 MB Logiqs limit",
                                 service=SERVICE, operation=UPLOAD_DOCUMENT.name, status=413, reason="too_large")
        headers = {"CaseID": str(case_id), "Comment": header_safe(comment)}
        data = self._call(UPLOAD_DOCUMENT, headers=headers, upload=(Path(path), file_name), case_id=case_id)
        return self._id_from(UPLOAD_DOCUMENT, data, "CaseDocumentID")

    def create_task(self, task: TaskRequest) -> int:
        """Create a task (TaskType 1) or event (TaskType 2, needs ``end_date``); returns the TaskID. Not idempotent."""
        body: dict[str, Any] = {
            "CaseID": task.case_id,
            "Subject": task.subject,
            "Reminder": utc_wire(task.reminder),
            "TaskType": task.task_type,
            "DueDate": utc_wire(task.due_date),
            "UserID": list(task.user_ids),
            "PriorityID": int(task.priority),
            "StatusID": task.status_id,
            "Comments": task.comments,
        }
        if task.task_type == 2:
            if task.end_date is None:
                raise PermanentError("a Logiqs event (TaskType 2) needs an end date", service=SERVICE,
                                     operation=CREATE_TASK.name, reason="bad_input")
            body["EndDate"] = utc_wire(task.end_date)
        data = self._call(CREATE_TASK, json=body, case_id=task.case_id)
        return self._id_from(CREATE_TASK, data, "TaskID")

    def check_access(self) -> None:
        """Raise AuthError for a bad key or a missing scope, without any effect in Logiqs.

        case.read is probed with a search that matches nothing; case.write and task.write with deliberately
        incomplete requests (no CaseID / empty task), which Logiqs rejects with 400 *after* its permission check.
        """
        self.find_cases("mailroom-access-check", "0000")
        for effect in (UPLOAD_DOCUMENT, CREATE_TASK):
            # the probe cannot take effect, so it may be retried like a read
            probe = replace(effect, name=f"check_{effect.scope}", idempotent=True, probe=True)
            self._call(probe, json={} if effect is CREATE_TASK else None)

    # -------------------------------------------------------------------------------------------------- plumbing
    def _call(self, operation: _Operation, *, headers: dict[str, str] | None = None, json: Any = None,
              upload: tuple[Path, str] | None = None, case_id: int | None = None) -> Any:
        return self._policy.call(self._send, operation, headers, json, upload, case_id,
                                 operation=operation.name, idempotent=operation.idempotent)

    def _send(self, operation: _Operation, headers: dict[str, str] | None, json: Any,
              upload: tuple[Path, str] | None, case_id: int | None) -> Any:
        url = urljoin(self.base_url, operation.path)
        kwargs: dict[str, Any] = {"headers": headers, "auth": self._auth, "timeout": self._timeout}
        if headers and "CaseID" in headers:  # header per the V4 docs; integrators report the query is needed too
            kwargs["params"] = {"CaseID": headers["CaseID"]}
        if json is not None:
            kwargs["json"] = json
        with requests_errors(idempotent=operation.idempotent):
            if upload is None:
                response = self._session.request(operation.method, url, **kwargs)
            else:
                path, file_name = upload
                with path.open("rb") as handle:  # reopened per attempt, so a retry never sends a half-read file
                    kwargs["files"] = {"File": (file_name, handle, "application/pdf")}
                    response = self._session.request(operation.method, url, **kwargs)
        logger.debug("logiqs %s case=%s -> HTTP %s", operation.name, case_id, response.status_code)
        return self._unwrap(operation, response, case_id)

    def _unwrap(self, operation: _Operation, response: requests.Response, case_id: int | None) -> Any:
        status = response.status_code
        where = f"Logiqs {operation.path}" + (f" for case {case_id}" if case_id is not None else "")
        common = {"service": SERVICE, "operation": operation.name, "status": status}
        if status == 401:
            raise AuthError("Logiqs rejected the API key (HTTP 401): check the key and secret", reason="unauthorized",
                            **common)
        if status == 413:
            raise PermanentError(f"{where}: document too large (HTTP 413)", reason="too_large", **common)
        if status == 429:
            raise ThrottledError(f"{where}: throttled (HTTP 429)", reason="http_429",
                                 retry_after=parse_retry_after(response.headers.get("Retry-After")), **common)
        if status >= 500:
            kind = TransientError if operation.idempotent else AmbiguousOutcomeError
            raise kind(f"{where}: HTTP {status}", reason=f"http_{status}",
                       retry_after=parse_retry_after(response.headers.get("Retry-After")), **common)
        if status == 400 and operation.probe:
            return None
        if status == 404:
            raise NotFoundError(f"{where}: not found (HTTP 404)", reason="not_found", **common)
        if status >= 400:
            raise PermanentError(f"{where}: rejected (HTTP {status})", reason=f"http_{status}", **common)
        try:
            envelope = _Envelope.model_validate_json(response.content)
        except ValidationError:
            raise self._contract_error(operation, f"{where}: HTTP {status} without a V4 envelope", status) from None
        if not envelope.Success:
            code = envelope.StatusCode or status
            if code in (401, 403):
                raise AuthError(f"Logiqs API key lacks the '{operation.scope}' permission needed for {operation.name}",
                                service=SERVICE, operation=operation.name, status=code, reason="missing_scope")
            if code == 404:
                raise NotFoundError(f"{where}: not found", service=SERVICE, operation=operation.name, status=code,
                                    reason="not_found")
            raise PermanentError(f"{where}: Success false (StatusCode {code})", service=SERVICE,
                                 operation=operation.name, status=code, reason=f"logiqs_{code}")
        return envelope.data

    def _parse(self, operation: _Operation, model: Any, data: Any) -> Any:
        try:
            return TypeAdapter(model).validate_python(data)
        except ValidationError:
            raise self._contract_error(operation, f"Logiqs {operation.path}: unexpected data shape", None) from None

    def _id_from(self, operation: _Operation, data: Any, field: str) -> int:
        value = data.get(field) if isinstance(data, dict) else None
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._contract_error(operation, f"Logiqs {operation.path}: answer lacks {field}", None)
        return value

    @staticmethod
    def _contract_error(operation: _Operation, message: str, status: int | None) -> MailroomError:
        """A malformed success answer: permanent for reads; for writes the effect may exist, so ambiguous."""
        kind = PermanentError if operation.idempotent else AmbiguousOutcomeError
        return kind(message, service=SERVICE, operation=operation.name, status=status, reason="bad_response")
