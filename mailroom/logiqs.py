"""Logiqs (IRS Logics) public API client over a requests.Session, in the tenant's dialect.

The dialect (``mailroom.logiqs_dialects.LogiqsDialect``, set in the Logiqs block) picks the case search (V3
``Case/FindCase`` with ``X-Api-Key``, one case per answer, or V4 ``Case/FindCase`` with Basic auth, a list) and the
case read (``Case/Case`` or ``Case/CaseInfo``); uploads, tasks and the activity feed are V4 with Basic auth. Answers
are read by ``mailroom.logiqs_envelope`` in every variant tenants send.

Every request goes through ``ResiliencePolicy(service="logiqs").call(...)``: reads (including the FindCase POSTs) are
idempotent and may be retried; the document upload and the task creation are not, so a reset, a read timeout or a
5xx on them surfaces as ``AmbiguousOutcomeError`` and is never repeated here (mailroom.effects looks for the marker in
the case activities first). The wire shape and where each point comes from are in docs/logiqs-api.md.

Error mapping (messages carry operation, status and ids only; never bodies, the key or the secret):
- HTTP 401                                   -> AuthError("Logiqs rejected the API key")
- HTTP 403 on V4, or 200 + Success: false with StatusCode 401/403 -> AuthError naming the scope the operation needs
- HTTP 403 on the V3 search                  -> AuthError: the key is refused (invalid, expired, or no case.read)
- HTTP 404 on a case search                  -> ConfigurationError: the tenant does not serve that dialect
- HTTP 413                                   -> PermanentError(reason="too_large")
- HTTP 404 / Success: false StatusCode 404   -> NotFoundError;  other 4xx / Success: false -> PermanentError
- HTTP 429                                   -> ThrottledError(retry_after from Retry-After, seconds or HTTP-date)
- HTTP 5xx                                   -> TransientError on reads, AmbiguousOutcomeError on writes
- requests' connection errors / timeouts    -> mapped by mailroom.logiqs_errors around each request
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin

import requests
from pydantic import TypeAdapter, ValidationError

from mailroom.crm import Activity, CaseCandidate, TaskRequest
from mailroom.errors import (
    AmbiguousOutcomeError,
    AuthError,
    ConfigurationError,
    MailroomError,
    NotFoundError,
    PermanentError,
    ThrottledError,
    TransientError,
)
from mailroom.http_failures import parse_retry_after
from mailroom.logiqs_dialects import (
    ACTIVITIES,
    CASE_READ_OPERATIONS,
    CREATE_TASK,
    UPLOAD_DOCUMENT,
    ActivityRow,
    CaseRow,
    LogiqsDialect,
    Operation,
    api_base,
    find_case_operation,
)
from mailroom.logiqs_envelope import read_envelope, read_v3_search
from mailroom.logiqs_errors import requests_errors
from mailroom.resilience import ResiliencePolicy

logger = logging.getLogger(__name__)

SERVICE = "logiqs"
MAX_DOCUMENT_BYTES = 6 * 1024 * 1024
Probe = Literal["case_read", "upload", "task"]

__all__ = ["LogiqsClient", "LogiqsDialect", "MAX_DOCUMENT_BYTES", "api_base", "header_safe", "utc_wire"]


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
        dialect: LogiqsDialect | None = None,
    ) -> None:
        self.base_url = api_base(base_url)
        self.dialect = dialect or LogiqsDialect()
        self._bases = {"V3": api_base(base_url, "V3"), "V4": self.base_url}
        self._basic = requests.auth.HTTPBasicAuth(api_key, secret)
        self._api_key = api_key
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
        return f"LogiqsClient({self.base_url!r}, search={self.dialect.search!r})"

    @property
    def returns_single_case(self) -> bool:
        """True when one search answers at most one case (V3): mailroom.matching then searches more narrowly too."""
        return self.dialect.single_case_search

    # -------------------------------------------------------------------------------------------------- reads
    def find_cases(
        self, last_name: str, ssn_last4: str, *, first_name: str | None = None, active_only: bool = False
    ) -> list[CaseCandidate]:
        if not re.fullmatch(r"\d{4}", ssn_last4 or ""):
            raise PermanentError("find_cases needs the last 4 digits of the SSN", service=SERVICE,
                                 operation="find_case", reason="bad_input")
        body: dict[str, Any] = {"LastName": last_name, "Last4SSN": ssn_last4, "ActiveOnly": active_only}
        if first_name:
            body["FirstName"] = first_name
        operation = find_case_operation(self.dialect)
        rows = self._parse(operation, list[CaseRow], self._call(operation, json=body) or [])
        # A V3 answer may carry only the CaseID: the case read fills in the names matching scores on.
        return [row.to_candidate() if row.has_names else self.get_case(row.CaseID) for row in rows]

    def get_case(self, case_id: int) -> CaseCandidate:
        operation = CASE_READ_OPERATIONS[self.dialect.case_read]
        data = self._call(operation, headers={"CaseID": str(case_id)}, case_id=case_id)
        return self._parse(operation, CaseRow, data).to_candidate()

    def activities(self, case_id: int) -> list[Activity]:
        data = self._call(ACTIVITIES, headers={"CaseID": str(case_id)}, case_id=case_id)
        return [row.to_activity() for row in self._parse(ACTIVITIES, list[ActivityRow], data or [])]

    # ------------------------------------------------------------------------------------------------ effects
    def upload_document(self, case_id: int, path: Path, *, file_name: str, comment: str) -> int:
        """Upload ``path`` as ``file_name`` to the case; returns the CaseDocumentID. Not idempotent."""
        size = Path(path).stat().st_size
        if size > MAX_DOCUMENT_BYTES:  # Logiqs would answer 413: do not spend a call (or a slot) on it
            raise PermanentError(f"document for case {case_id} is {size} bytes, over the 6 MB Logiqs limit",
                                 service=SERVICE, operation=UPLOAD_DOCUMENT.name, status=413, reason="too_large")
        headers = {"CaseID": str(case_id), "Comment": header_safe(comment)}
        if self.dialect.file_category_id is not None:
            headers["FileCategoryID"] = str(self.dialect.file_category_id)
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
        """Raise AuthError for a bad key or a missing scope (ConfigurationError for a search dialect the tenant does
        not serve), without any effect in Logiqs.

        case.read is probed with a search that matches nothing; case.write and task.write with deliberately
        incomplete requests (no CaseID / empty task), which Logiqs rejects with 400 *after* its permission check.
        """
        self.find_cases("mailroom-access-check", "0000")
        self.probe("upload")
        self.probe("task")

    def probe(self, kind: Probe) -> None:
        """An incomplete request that cannot take effect: returns when the tenant answered it with 400 (the route
        exists and the key holds its scope); raises AuthError for a missing scope, ConfigurationError for a route
        the tenant does not serve (404)."""
        base = {"case_read": CASE_READ_OPERATIONS[self.dialect.case_read], "upload": UPLOAD_DOCUMENT,
                "task": CREATE_TASK}[kind]
        # the probe cannot take effect, so it may be retried like a read
        probe = replace(base, name=f"check_{base.scope}", idempotent=True, probe=True)
        self._call(probe, json={} if base is CREATE_TASK else None)

    # -------------------------------------------------------------------------------------------------- plumbing
    def _call(self, operation: Operation, *, headers: dict[str, str] | None = None, json: Any = None,
              upload: tuple[Path, str] | None = None, case_id: int | None = None) -> Any:
        return self._policy.call(self._send, operation, headers, json, upload, case_id,
                                 operation=operation.name, idempotent=operation.idempotent)

    def _send(self, operation: Operation, headers: dict[str, str] | None, json: Any,
              upload: tuple[Path, str] | None, case_id: int | None) -> Any:
        url = urljoin(self._bases[operation.family], operation.path)
        kwargs: dict[str, Any] = {"timeout": self._timeout}
        wire_headers = dict(headers or {})
        if operation.family == "V3" and self.dialect.v3_auth == "x-api-key":
            wire_headers["X-Api-Key"] = self._api_key  # the firm's production code authenticates V3 this way
        else:
            kwargs["auth"] = self._basic
        kwargs["headers"] = wire_headers
        # Headers per the V4 docs; integrators report tenants that need them in the query string too.
        query = {k: v for k, v in (headers or {}).items() if k in ("CaseID", "Comment", "FileCategoryID")}
        if query:
            kwargs["params"] = query
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
        logger.debug("logiqs %s %s case=%s -> HTTP %s", operation.family, operation.name, case_id,
                     response.status_code)
        return self._unwrap(operation, response, case_id)

    def _unwrap(self, operation: Operation, response: requests.Response, case_id: int | None) -> Any:
        status = response.status_code
        where = f"Logiqs {operation.family} {operation.path}" + (f" for case {case_id}" if case_id is not None else "")
        common = {"service": SERVICE, "operation": operation.name, "status": status}
        if status == 401:
            raise AuthError(f"Logiqs rejected the API key (HTTP 401 on {operation.family} {operation.path}): check "
                            "the key and secret", reason="unauthorized", **common)
        if status == 403:
            if operation.family == "V3":
                raise AuthError(f"Logiqs refused the API key on {where} (HTTP 403): the key is invalid or expired, "
                                "or lacks 'case.read'", reason="forbidden", **common)
            raise self._missing_scope(operation, status)
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
        if status == 404 and (operation.search or operation.probe):
            raise ConfigurationError(f"Logiqs answers 404 for {operation.family} {operation.path}: this tenant "
                                     "does not serve it; run `python -m mailroom doctor` to see which dialect "
                                     "it speaks", reason="no_route", **common)
        if status == 404:
            raise NotFoundError(f"{where}: not found (HTTP 404)", reason="not_found", **common)
        if status >= 400:
            raise PermanentError(f"{where}: rejected (HTTP {status})", reason=f"http_{status}", **common)
        if operation.search and operation.family == "V3":
            try:
                return read_v3_search(response.content).rows()
            except ValueError:
                pass  # not a search answer: maybe an envelope saying why (read below)
        try:
            envelope = read_envelope(response.content)
        except ValueError:
            raise self._contract_error(operation, f"{where}: HTTP {status} without a Logiqs answer", status) from None
        if not envelope.success:
            code = envelope.status_code or status
            if code in (401, 403):
                raise self._missing_scope(operation, code)
            if code == 404:
                raise NotFoundError(f"{where}: not found", service=SERVICE, operation=operation.name, status=code,
                                    reason="not_found")
            raise PermanentError(f"{where}: Success false (StatusCode {code})", service=SERVICE,
                                 operation=operation.name, status=code, reason=f"logiqs_{code}")
        if operation.search and operation.family == "V3":
            raise self._contract_error(operation, f"{where}: success without matchFound", status)
        return envelope.data

    @staticmethod
    def _missing_scope(operation: Operation, status: int) -> AuthError:
        return AuthError(f"Logiqs API key lacks the '{operation.scope}' permission needed for {operation.family} "
                         f"{operation.path}", service=SERVICE, operation=operation.name, status=status,
                         reason="missing_scope")

    def _parse(self, operation: Operation, model: Any, data: Any) -> Any:
        try:
            return TypeAdapter(model).validate_python(data)
        except ValidationError:
            raise self._contract_error(operation, f"Logiqs {operation.path}: unexpected data shape", None) from None

    def _id_from(self, operation: Operation, data: Any, field: str) -> int:
        value = data.get(field) if isinstance(data, dict) else None
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._contract_error(operation, f"Logiqs {operation.path}: answer lacks {field}", None)
        return value

    @staticmethod
    def _contract_error(operation: Operation, message: str, status: int | None) -> MailroomError:
        """A malformed success answer: permanent for reads; for writes the effect may exist, so ambiguous."""
        kind = PermanentError if operation.idempotent else AmbiguousOutcomeError
        return kind(message, service=SERVICE, operation=operation.name, status=status, reason="bad_response")
