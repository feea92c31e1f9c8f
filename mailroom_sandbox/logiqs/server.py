"""Logiqs (IRS Logics) public API emulator on the shared sandbox HTTP core, in either case-search dialect.

Wire shape, auth, scopes, limits and everything assumed where the public material is silent are written down in
docs/logiqs-api.md; this module (with ``wire.py`` and ``store.py``) is the executable form of that page.

    emulator = LogiqsEmulator(search_dialect="v3-findcase")  # or "v4-findcase" (default); rate limit 10 req/s
    key, secret = emulator.create_api_key()           # random per run: never a committed credential
    emulator.seed_cases(corpus.cases)                 # CaseRecord objects or dicts (case_id, names, ssn, status...)
    with emulator:
        LogiqsClient(emulator.api_url, key, secret, dialect=LogiqsDialect(search="v3-findcase"))
        emulator.stats()["duplicates"]

The dialect decides which case search exists: ``POST /publicapi/V3/Case/FindCase`` (``X-Api-Key`` or Basic, one
case as ``{"matchFound", "caseData"}``) or ``POST /publicapi/V4/Case/FindCase`` (Basic, the envelope around a list);
the other answers 404, as a tenant without that route would. Everything else is V4 with Basic auth. Tenant variants
the client must survive are switches: ``envelope`` (casing, JSON-encoded ``data``), ``scope_denial`` (HTTP 403 or
200 + StatusCode 403), ``require_user_id`` (Task/Task without a UserID is a 400), ``case_reads``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from mailroom.logiqs_dialects import CASE_READS, CaseRead, SearchDialect
from mailroom_sandbox.http.core import EmulatorServer, Request, Response, parse_multipart
from mailroom_sandbox.http.emulator import Emulator
from mailroom_sandbox.http.faults import FaultConfig, FaultInjector, RateLimitConfig
from mailroom_sandbox.logiqs.store import SCOPES, LogiqsStore, SeedCase
from mailroom_sandbox.logiqs.wire import (
    ActivityPayload,
    EnvelopeStyle,
    FindCaseRequest,
    ScopeDenial,
    TaskPayload,
    activity_json,
    case_info_json,
    case_json,
    v3_detail,
)

BASE_PATH = "/publicapi/V4"
V3_BASE_PATH = "/publicapi/V3"
MAX_DOCUMENT_BYTES = 6 * 1024 * 1024

Handler = Callable[[Request], Response]


class LogiqsEmulator(Emulator):
    def __init__(
        self,
        *,
        faults: FaultConfig | FaultInjector | None = None,
        rate_limit: RateLimitConfig | None = None,
        max_document_bytes: int = MAX_DOCUMENT_BYTES,
        known_user_ids: Iterable[int] | None = None,  # None: any UserID is accepted
        search_dialect: SearchDialect = "v4-findcase",
        case_reads: Iterable[CaseRead] = CASE_READS,
        envelope: EnvelopeStyle | None = None,
        scope_denial: ScopeDenial = "http-403",
        require_user_id: bool = False,
    ) -> None:
        self.store = LogiqsStore()
        self.max_document_bytes = max_document_bytes
        self.known_user_ids = set(known_user_ids) if known_user_ids is not None else None
        self.search_dialect = search_dialect
        self.style = envelope or EnvelopeStyle()
        self.scope_denial = scope_denial
        self.require_user_id = require_user_id
        self.server = EmulatorServer("logiqs", faults=faults, rate_limit=rate_limit or RateLimitConfig(),
                                     error_renderer=self._render_error)
        routes: list[tuple[str, str, str, Handler]] = [
            ("POST", "Documents/CaseDocument", "case.write", self._upload_document),
            ("POST", "Task/Task", "task.write", self._create_task),
            ("GET", "CaseActivity/Activity", "case.read", self._activities),
            ("POST", "CaseActivity/Activity", "activity.write", self._post_activity),
        ]
        reads = {"Case/Case": self._get_case, "Case/CaseInfo": self._get_case_info}
        routes += [("GET", name, "case.read", reads[name]) for name in case_reads]
        if search_dialect == "v4-findcase":
            routes.append(("POST", "Case/FindCase", "case.read", self._find_case))
        else:  # same endpoint name: fault overrides and stats read the same whatever the dialect
            self.server.add_route("POST", f"{V3_BASE_PATH}/Case/FindCase", self._v3_guard(self._v3_find_case),
                                  name="Case/FindCase")
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
        """What a Logiqs client is configured with: ``http://127.0.0.1:PORT/publicapi/V4/`` (V3 sits beside it)."""
        return f"{self.server.url}{BASE_PATH}/"

    def _render_error(self, kind: str, status: int, retry_after: float | None) -> Response:
        """Every error the core produces (throttle, faults, outage, unrouted 404...) in the tenant's envelope."""
        return self.style.error(status)

    # ---------------------------------------------------------------------------------------------------- auth
    def _guard(self, scope: str, handler: Handler) -> Handler:
        def guarded(request: Request) -> Response:
            scopes = self._basic_scopes(request.header("Authorization"))
            if scopes is None:
                return self.style.error(401, headers={"WWW-Authenticate": 'Basic realm="Logiqs"'})
            if scope not in scopes:
                # the transcribed V4 docs: 403 "Missing required API key permission/scope"; other material shows
                # HTTP 200 with Success false -- the switch keeps both tested
                http_status = 403 if self.scope_denial == "http-403" else 200
                return self.style.error(403, f"API key lacks the {scope} permission.", http_status=http_status)
            try:
                return handler(request)
            except ValidationError as exc:
                fields = sorted({".".join(str(p) for p in err["loc"]) or "body" for err in exc.errors()})
                return self.style.error(400, f"Invalid field(s): {', '.join(fields)}")
            except ValueError as exc:
                return self.style.error(400, str(exc))
        return guarded

    def _v3_guard(self, handler: Handler) -> Handler:
        """V3: ``X-Api-Key`` (the firm's code) or Basic (seen on V3 Find routes); refusals are 403 ``detail``."""
        def guarded(request: Request) -> Response:
            key = request.header("X-Api-Key")
            if key:
                scopes = self.store.scopes_of_key(key.strip())
            elif request.header("Authorization"):
                scopes = self._basic_scopes(request.header("Authorization"))
            else:
                return v3_detail(403, "X-API-Key header is missing")
            if scopes is None:
                return v3_detail(403, "Invalid or expired API Key")
            if "case.read" not in scopes:
                return v3_detail(403, "API key lacks the case.read permission")
            try:
                return handler(request)
            except (ValidationError, ValueError):
                return v3_detail(400, "LastName and Last4SSN are required")
        return guarded

    def _basic_scopes(self, header: str | None) -> frozenset[str] | None:
        if not header or not header.startswith("Basic "):
            return None
        try:
            key, _, secret = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return self.store.authenticate(key, secret)

    # ------------------------------------------------------------------------------------------------ handlers
    @staticmethod
    def _param(request: Request, name: str) -> str | None:
        """A parameter integrators send as a header, in the query string, or both (they must then agree)."""
        header, query = request.header(name), request.query_value(name)
        if header is not None and query is not None and header.strip() != query.strip():
            raise ValueError(f"{name} header and query parameter disagree")
        return header if header is not None else query

    def _case_id(self, request: Request) -> int:
        raw = self._param(request, "CaseID")
        if not raw or not raw.strip().isdigit():
            raise ValueError("CaseID is required (header) and must be a number")
        return int(raw)

    def _known_case(self, request: Request) -> SeedCase | None:
        return self.store.cases.get(self._case_id(request))

    def _find_case(self, request: Request) -> Response:
        query = FindCaseRequest.model_validate_json(request.body or b"{}")
        found = self.store.find_cases(query.LastName, query.Last4SSN, query.FirstName, query.ActiveOnly)
        return self.style.response([case_json(c) for c in found], message=f"{len(found)} case(s) found")

    def _v3_find_case(self, request: Request) -> Response:
        query = FindCaseRequest.model_validate_json(request.body or b"{}")
        found = self.store.find_cases(query.LastName, query.Last4SSN, query.FirstName, query.ActiveOnly)
        if not found:
            return Response.json({"matchFound": False, "caseData": None})
        # one case, never the list: the lowest CaseID of those that match [assumed]
        row = case_json(found[0])
        inner = self.style.body(row, success=True, message=None, status=200)[self.style.data_key]
        return Response.json({"matchFound": True, "caseData": {self.style.data_key: inner}})

    def _get_case(self, request: Request) -> Response:
        case = self._known_case(request)
        return self.style.response(case_json(case)) if case else self.style.error(404, "Case not found.")

    def _get_case_info(self, request: Request) -> Response:
        case = self._known_case(request)
        return self.style.response(case_info_json(case)) if case else self.style.error(404, "Case not found.")

    def _upload_document(self, request: Request) -> Response:
        case_id = self._case_id(request)
        if case_id not in self.store.cases:
            return self.style.error(404, "Case not found.")
        parts = [p for p in parse_multipart(request) if p.name == "File"]
        if not parts or not parts[0].filename:
            raise ValueError("multipart part 'File' with a file name is required")
        file = parts[0]
        if len(file.data) > self.max_document_bytes:
            return self.style.error(413)
        category = self._param(request, "FileCategoryID")
        if category is not None and not category.strip().isdigit():
            raise ValueError("FileCategoryID must be a number")
        document = self.store.add_document(case_id, file.filename or "", self._param(request, "Comment") or "",
                                           len(file.data), file_category_id=int(category) if category else None)
        return self.style.response({"CaseDocumentID": document.document_id}, message="Document uploaded.")

    def _create_task(self, request: Request) -> Response:
        task = TaskPayload.model_validate_json(request.body or b"{}")
        if task.CaseID not in self.store.cases:
            return self.style.error(404, "Case not found.")
        if self.require_user_id and not task.UserID:
            raise ValueError("UserID is required")
        if self.known_user_ids is not None and not set(task.UserID) <= self.known_user_ids:
            raise ValueError("UserID contains an unknown user")
        stored = self.store.add_task(
            case_id=task.CaseID, subject=task.Subject, task_type=task.TaskType, due_date=task.DueDate,
            reminder=task.Reminder, end_date=task.EndDate, user_ids=task.UserID, priority_id=task.PriorityID,
            status_id=task.StatusID, comments=task.Comments,
        )
        return self.style.response({"TaskID": stored.task_id}, message="Task created.", status=201)

    def _activities(self, request: Request) -> Response:
        case_id = self._case_id(request)
        if case_id not in self.store.cases:
            return self.style.error(404, "Case not found.")
        return self.style.response([activity_json(a) for a in self.store.activities_of(case_id)])

    def _post_activity(self, request: Request) -> Response:
        note = ActivityPayload.model_validate_json(request.body or b"{}")
        if note.CaseID not in self.store.cases:
            return self.style.error(404, "Case not found.")
        activity = self.store.post_activity(note.CaseID, note.ActivityType, note.Subject, note.Comment)
        return self.style.response({"ActivityID": activity.activity_id}, message="Activity created.")
