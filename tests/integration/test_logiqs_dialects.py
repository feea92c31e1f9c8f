"""Contract tests: LogiqsClient against every Logiqs dialect and envelope variant, over real HTTP.

The emulator produces each variant on a switch (search dialect, envelope casing, string-encoded ``data``, how a
missing scope is refused, strict UserID); a small local HTTP handler produces the V3 answers it does not (a case row
with nothing but its CaseID, the search answer inside an envelope). Sources of each variant: docs/logiqs-api.md.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from mailroom.crm import TaskRequest
from mailroom.errors import AuthError, ConfigurationError, NotFoundError, PermanentError
from mailroom.logiqs import LogiqsClient
from mailroom.logiqs_dialects import LogiqsDialect, api_base, tenant_root
from mailroom.resilience import ResiliencePolicy
from mailroom_sandbox.http.faults import RateLimitConfig
from mailroom_sandbox.logiqs.server import LogiqsEmulator
from mailroom_sandbox.logiqs.wire import EnvelopeStyle

CASES = [
    {"case_id": 101, "first_name": "John", "last_name": "Smith", "ssn": "100-20-1234", "status": "Active"},
    {"case_id": 102, "first_name": "Jon", "last_name": "Smith", "ssn": "300-40-1234", "status": "Open"},
    {"case_id": 103, "first_name": "Mary", "last_name": "Smith", "ssn": "500-60-1234", "status": "Closed",
     "active": False},
]
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=timezone.utc)
STYLES = {
    "canonical": EnvelopeStyle(),
    "pascal-Data-Message": EnvelopeStyle(data_key="Data", message_key="Message"),
    "lower-success": EnvelopeStyle(success_key="success"),
    "data-as-json-string": EnvelopeStyle(data_as_string=True),
}
V3 = LogiqsDialect(search="v3-findcase")


def emulator_for(**options: Any) -> LogiqsEmulator:
    emulator = LogiqsEmulator(rate_limit=RateLimitConfig(requests_per_second=None), **options)
    emulator.seed_cases(CASES)
    return emulator.start()


@pytest.fixture
def emulators() -> Iterator[list[LogiqsEmulator]]:
    started: list[LogiqsEmulator] = []
    yield started
    for emulator in started:
        emulator.stop()


@pytest.fixture
def make(emulators):
    """``make(dialect=..., scopes=..., **emulator options) -> (client, emulator)``, the emulator serving that dialect
    unless ``search_dialect`` says otherwise."""

    def build(dialect: LogiqsDialect | None = None, scopes: tuple[str, ...] | None = None, **options: Any):
        options.setdefault("search_dialect", dialect.search if dialect else "v4-findcase")  # the tenant matches
        emulator = emulator_for(**options)
        emulators.append(emulator)
        key, secret = emulator.create_api_key(scopes) if scopes is not None else emulator.create_api_key()
        return client_for(emulator.api_url, key, secret, dialect), emulator

    return build


def client_for(url: str, key: str, secret: str, dialect: LogiqsDialect | None = None) -> LogiqsClient:
    policy = ResiliencePolicy("logiqs", initial_delay=0.01, max_delay=0.1, jitter=0.0, use_breaker=False,
                              use_budget=False, max_retries=1)
    return LogiqsClient(url, key, secret, policy=policy, timeout=(1, 2), dialect=dialect)


def capture(emulator: LogiqsEmulator) -> list[Any]:
    seen: list[Any] = []
    emulator.server.add_request_hook(seen.append)
    return seen


@pytest.fixture
def pdf(tmp_path) -> Path:
    path = tmp_path / "notice.pdf"
    path.write_bytes(b"%PDF-1.4\n" + b"x" * 1024)
    return path


def task(case_id: int = 101, **overrides: Any) -> TaskRequest:
    fields = {"case_id": case_id, "subject": "Review CP2000", "due_date": NOW + timedelta(days=30),
              "reminder": NOW + timedelta(days=23), "comments": "[mailroom:f1:abc]", "user_ids": [7]}
    return TaskRequest(**(fields | overrides))


# -------------------------------------------------------------------------------------------- envelope variants


@pytest.mark.parametrize("style", list(STYLES), ids=list(STYLES))
@pytest.mark.parametrize("search", ["v4-findcase", "v3-findcase"])
def test_every_operation_reads_each_envelope_variant(make, pdf, style, search):
    client, emulator = make(LogiqsDialect(search=search), envelope=STYLES[style])
    found = client.find_cases("Smith", "1234", active_only=True)
    assert [c.case_id for c in found] == ([101, 102] if search == "v4-findcase" else [101])
    assert found[0].first_name == "John" and found[0].ssn_last4 == "1234"
    assert client.get_case(103).active is False
    with pytest.raises(NotFoundError):
        client.get_case(999)  # Success: false + StatusCode 404, in the style's casing
    document_id = client.upload_document(102, pdf, file_name="IRS_CORR.pdf", comment="c [mailroom:f1:abc]")
    task_id = client.create_task(task(102))
    feed = client.activities(102)
    assert {a.document_id for a in feed} >= {document_id} and {a.task_id for a in feed} >= {task_id}
    client.check_access()
    raw = requests.get(emulator.api_url + "Case/Case", headers={"CaseID": "101"}, timeout=5,
                       auth=emulator.create_api_key()).json()
    assert isinstance(raw[STYLES[style].data_key], str) == STYLES[style].data_as_string  # the variant was on the wire


@pytest.mark.parametrize("denial", ["http-403", "envelope-403"])
def test_a_missing_scope_is_the_auth_error_naming_it_however_it_is_refused(make, pdf, denial):
    client, emulator = make(scopes=("case.read", "case.write"), scope_denial=denial)
    with pytest.raises(AuthError, match="'task.write'") as caught:
        client.create_task(task())
    assert caught.value.reason == "missing_scope" and caught.value.status == 403
    with pytest.raises(AuthError, match="'task.write'"):
        client.check_access()
    reader, _ = make(scopes=("case.read",), scope_denial=denial)
    with pytest.raises(AuthError, match="'case.write'"):
        reader.upload_document(101, pdf, file_name="a.pdf", comment="c")
    no_task = emulator.create_api_key(("case.read", "case.write"))
    raw = requests.post(emulator.api_url + "Task/Task", json={}, auth=no_task, timeout=5)
    assert raw.status_code == (403 if denial == "http-403" else 200) and raw.json()["StatusCode"] == 403
    assert emulator.stats()["tasks_total"] == 0


# -------------------------------------------------------------------------------------------------- V3 search


def test_v3_search_sends_the_api_key_header_and_answers_one_case(make):
    client, emulator = make(V3)
    seen = capture(emulator)
    assert client.returns_single_case and not LogiqsClient("http://x", "k", "s").returns_single_case
    found = client.find_cases("Smith", "1234")  # three cases match: V3 names one, the lowest CaseID [assumed]
    assert [c.case_id for c in found] == [101]
    assert client.find_cases("Smith", "1234", first_name="Jon")[0].case_id == 102
    assert client.find_cases("Nobody", "1234") == []  # matchFound: false
    search = seen[0]
    assert search.path == "/publicapi/V3/Case/FindCase" and search.header("X-Api-Key")
    assert search.header("Authorization") is None and search.json()["LastName"] == "Smith"


def test_v3_search_with_basic_auth_when_configured(make):
    client, emulator = make(LogiqsDialect(search="v3-findcase", v3_auth="basic"))
    seen = capture(emulator)
    assert [c.case_id for c in client.find_cases("Smith", "1234", first_name="Mary")] == [103]
    assert seen[0].header("Authorization", "").startswith("Basic ") and seen[0].header("X-Api-Key") is None


def test_v3_refusals_are_auth_errors_that_never_echo_the_key(make, emulators):
    client, emulator = make(V3, scopes=("case.write", "task.write"))
    with pytest.raises(AuthError, match="case.read") as caught:
        client.find_cases("Smith", "1234")
    assert caught.value.status == 403 and caught.value.reason == "forbidden"
    stranger = client_for(emulator.api_url, "sbx-not-a-key", "nope", V3)
    with pytest.raises(AuthError) as caught:
        stranger.find_cases("Smith", "1234")
    assert "sbx-not-a-key" not in str(caught.value) and "sbx-not-a-key" not in repr(stranger)
    assert sum(emulator.stats()["calls"]["Case/FindCase"].values()) == 2  # permanent: never retried


@pytest.mark.parametrize("served, configured", [("v4-findcase", "v3-findcase"), ("v3-findcase", "v4-findcase")])
def test_a_search_dialect_the_tenant_does_not_serve_is_a_configuration_error(make, served, configured):
    client, emulator = make(LogiqsDialect(search=configured), search_dialect=served)
    with pytest.raises(ConfigurationError, match="does not serve") as caught:
        client.check_access()
    assert caught.value.status == 404 and emulator.stats()["calls"]["<unrouted>"] == {"404": 1}


# ----------------------------------------------------------------------------------------------- case reads


def test_case_info_reads_status_and_only_the_last_4_of_the_ssn(make):
    client, emulator = make(LogiqsDialect(case_read="Case/CaseInfo"))
    seen = capture(emulator)
    case = client.get_case(103)
    assert (case.first_name, case.last_name, case.ssn_last4, case.status, case.active) == (
        "Mary", "Smith", "1234", "Closed", False)
    assert seen[0].path.endswith("/Case/CaseInfo") and seen[0].query_value("CaseID") == "103"
    case_only_client, case_only = make(case_reads=("Case/Case",))
    info_client = client_for(case_only.api_url, *case_only.create_api_key(), LogiqsDialect(case_read="Case/CaseInfo"))
    with pytest.raises(ConfigurationError):
        info_client.probe("case_read")  # this tenant serves Case/Case only
    case_only_client.probe("case_read")


# ------------------------------------------------------------------------------------------- uploads and tasks


def test_upload_sends_case_comment_and_category_as_headers_and_query(make, pdf):
    client, emulator = make(LogiqsDialect(file_category_id=12))
    seen = capture(emulator)
    document_id = client.upload_document(101, pdf, file_name="a.pdf", comment="CP2000 [mailroom:f1:abc]")
    upload = seen[0]
    for name, value in (("CaseID", "101"), ("Comment", "CP2000 [mailroom:f1:abc]"), ("FileCategoryID", "12")):
        assert upload.header(name) == value and upload.query_value(name) == value
    stored = next(d for d in emulator.store.documents if d.document_id == document_id)
    assert stored.file_category_id == 12 and stored.comment == "CP2000 [mailroom:f1:abc]"


def test_strict_tenants_refuse_a_task_without_user_id(make):
    client, emulator = make(require_user_id=True)
    with pytest.raises(PermanentError) as caught:
        client.create_task(task(user_ids=[]))
    assert caught.value.status == 400 and emulator.stats()["tasks_total"] == 0
    assert client.create_task(task(user_ids=[7])) > 0


def test_post_case_activity_needs_activity_write(make):
    _, emulator = make()
    body = {"CaseID": 101, "Subject": "note", "Comment": "posted by an integrator"}
    allowed = requests.post(emulator.api_url + "CaseActivity/Activity", json=body, timeout=5,
                            auth=emulator.create_api_key())
    assert allowed.status_code == 200 and allowed.json()["data"]["ActivityID"] > 0
    refused = requests.post(emulator.api_url + "CaseActivity/Activity", json=body, timeout=5,
                            auth=emulator.create_api_key(("case.read", "case.write", "task.write")))
    assert refused.status_code == 403
    assert emulator.stats()["activities_posted"] == 1


# ------------------------------------------------------------------- variants the emulator does not produce


class _Canned(BaseHTTPRequestHandler):
    answers: dict[str, Any] = {}

    def _reply(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(self.answers[self.path.split("?")[0]]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _reply

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def canned() -> Iterator[tuple[str, dict[str, Any]]]:
    answers: dict[str, Any] = {}
    handler = type("Handler", (_Canned,), {"answers": answers})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", answers
    server.shutdown()
    server.server_close()


def test_a_v3_row_with_only_the_case_id_is_completed_by_the_case_read(canned):
    url, answers = canned
    answers["/publicapi/V3/Case/FindCase"] = {"matchFound": True, "caseData": {"Data": json.dumps({"CaseID": 7})}}
    answers["/publicapi/V4/Case/CaseInfo"] = {"Success": True, "Data": json.dumps(
        {"CaseID": 7, "FirstName": "Ann", "LastName": "Lee", "SSN": "123-45-6789", "Status": "Active"})}
    client = client_for(url, "k", "s", LogiqsDialect(search="v3-findcase", case_read="Case/CaseInfo"))
    [case] = client.find_cases("Lee", "6789")
    assert (case.case_id, case.first_name, case.ssn_last4, case.active) == (7, "Ann", "6789", True)
    assert "123-45" not in case.model_dump_json()  # a full SSN on the wire is cut to its last 4 on arrival


def test_a_v3_answer_inside_an_envelope_and_a_refusal_in_an_envelope(canned):
    url, answers = canned
    client = client_for(url, "k", "s", V3)
    answers["/publicapi/V3/Case/FindCase"] = {"success": True, "data": {"matchFound": False}}
    assert client.find_cases("Lee", "6789") == []
    answers["/publicapi/V3/Case/FindCase"] = {"Success": False, "Message": "denied", "StatusCode": 403}
    with pytest.raises(AuthError, match="case.read"):
        client.find_cases("Lee", "6789")
    answers["/publicapi/V3/Case/FindCase"] = {"matchFound": True, "caseData": {}}
    with pytest.raises(PermanentError, match="unexpected|without"):
        client.find_cases("Lee", "6789")


def test_tenant_root_and_family_bases():
    assert tenant_root("https://t.logiqs.com/publicapi/V4/") == "https://t.logiqs.com"
    assert tenant_root("https://t.logiqs.com/publicapi") == "https://t.logiqs.com"
    assert api_base("https://t.logiqs.com", "V3") == "https://t.logiqs.com/publicapi/V3/"
    assert api_base("https://t.logiqs.com/publicapi/v4") == "https://t.logiqs.com/publicapi/V4/"
