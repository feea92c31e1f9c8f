"""The resilience core against a real HTTP server on 127.0.0.1 that injects 429/503/resets/read timeouts, called
through requests and through google-api-python-client (googleapiclient.http.HttpRequest over httplib2).

Every test runs twice: with the vendor's raw exceptions reaching the policy (a guide-API caller's own function), and
with them mapped where the client meets the vendor (``google_errors`` / ``requests_errors``, as DriveClient and
LogiqsClient do). Both must behave the same. Sleeps between attempts go to a fake clock (the waits are asserted
exactly); everything on the wire is real.
"""

from __future__ import annotations

import functools
import json
import socket
import struct
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httplib2
import pytest
import requests
from googleapiclient.http import HttpRequest
from googleapiclient.model import JsonModel

from mailroom.drive_errors import google_errors
from mailroom.errors import AmbiguousOutcomeError, AuthError, NotFoundError, RateLimitedError, TransientError
from mailroom.logiqs_errors import requests_errors
from mailroom.resilience import FakeClock, ResiliencePolicy, metrics_snapshot, registry, reset_registry, run_resiliently

READ_TIMEOUT = 0.5  # client read timeout; a "hang" fault holds the response longer (0.25 s flaked on a loaded box)


class FaultServer(ThreadingHTTPServer):
    """Each path has a queue of faults; a request pops the next one, and an empty queue means 200 + JSON."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FaultHandler)
        self.faults: dict[str, deque] = defaultdict(deque)
        self.hits: dict[str, list[str]] = defaultdict(list)
        self.release = threading.Event()  # ends every hang at teardown

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def script(self, path: str, *faults: tuple) -> str:
        self.faults[path].extend(faults)
        return self.url + path


class FaultHandler(BaseHTTPRequestHandler):
    server: FaultServer

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._serve()

    def _serve(self) -> None:
        path = self.path.split("?")[0]
        self.server.hits[path].append(self.command)
        fault = self.server.faults[path].popleft() if self.server.faults[path] else ("ok",)
        kind = fault[0]
        if kind == "reset":  # RST instead of a response: the client sees ECONNRESET
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if kind == "hang":
            self.server.release.wait(READ_TIMEOUT * 4)
            fault = ("ok",)
        status, headers, body = (200, {}, {"id": "f1", "ok": True}) if fault[0] == "ok" else fault[1:]
        payload = json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass  # the socket was reset on purpose


def google_body(status: int, reason: str) -> dict:
    return {"error": {"code": status, "message": "details", "errors": [{"reason": reason, "domain": "usageLimits"}]}}


@pytest.fixture
def server():
    srv = FaultServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=2)


@pytest.fixture
def clock():
    fake = FakeClock()
    reset_registry(clock=fake)
    return fake


@pytest.fixture(params=["raw", "mapped"])
def vendor(request):
    """``vendor(func, idempotent=...)``: the function as a guide caller passes it, or wrapped as our clients do."""

    def wrap(func, *, idempotent: bool = True):
        if request.param == "raw":
            return func

        @functools.wraps(func)
        def mapped(*args, **kwargs):
            with google_errors(idempotent=idempotent, now=registry.clock.time), requests_errors(idempotent=idempotent):
                return func(*args, **kwargs)

        return mapped

    return wrap


@pytest.fixture
def session():
    with requests.Session() as s:
        yield s


def policy(service: str = "logiqs", **options) -> ResiliencePolicy:
    options.setdefault("jitter", 0.0)
    return ResiliencePolicy(service, max_retries=3, initial_delay=1.0, max_delay=30.0, **options)


def get(session: requests.Session, url: str):
    response = session.get(url, timeout=(1.0, READ_TIMEOUT))
    response.raise_for_status()
    return response.json()


def post(session: requests.Session, url: str):
    response = session.post(url, json={"comment": "x"}, timeout=(1.0, READ_TIMEOUT))
    response.raise_for_status()
    return response.json()


# --- requests --------------------------------------------------------------------------------------------------------


def test_requests_503s_are_retried_with_backoff(server, clock, session, vendor):
    url = server.script("/cases", ("status", 503, {}, {}), ("status", 503, {}, {}))
    assert policy().call(vendor(get), session, url, operation="get_case")["ok"]
    assert server.hits["/cases"] == ["GET"] * 3
    assert clock.sleeps == [1.0, 2.0]


def test_requests_429_retry_after_is_the_whole_wait(server, clock, session, vendor):
    url = server.script("/search", ("status", 429, {"Retry-After": "2"}, {}))
    assert run_resiliently(vendor(get), session, url, service_name="logiqs", initial_delay=5.0, jitter=0.0)["ok"]
    assert clock.sleeps == [2.0]
    snap = metrics_snapshot()["logiqs"]["get"]
    assert (snap.throttles, snap.retry_after_waits, snap.retries) == (1, 1, 1)


def test_requests_429_with_a_long_retry_after_fails_fast(server, clock, session, vendor):
    url = server.script("/search", ("status", 429, {"Retry-After": "3600"}, {}))
    with pytest.raises(RateLimitedError) as raised:
        policy().call(vendor(get), session, url, operation="find_cases")
    assert server.hits["/search"] == ["GET"] and clock.sleeps == []
    assert raised.value.retry_after == 3600


def test_requests_404_is_one_request(server, clock, session, vendor):
    url = server.script("/cases/9", ("status", 404, {}, {"Message": "no such case"}))
    with pytest.raises(NotFoundError):
        policy().call(vendor(get), session, url, operation="get_case")
    assert server.hits["/cases/9"] == ["GET"]


def test_requests_reset_and_read_timeout_are_retried_for_reads(server, clock, session, vendor):
    url = server.script("/files", ("reset",), ("hang",))
    assert policy().call(vendor(get), session, url, operation="list")["ok"]
    assert len(server.hits["/files"]) == 3


@pytest.mark.parametrize("fault", [("reset",), ("hang",)])
def test_requests_write_that_may_have_landed_is_ambiguous_and_sent_once(server, clock, session, fault, vendor):
    url = server.script("/tasks", fault)
    with pytest.raises(AmbiguousOutcomeError) as raised:
        policy().call(vendor(post, idempotent=False), session, url, operation="create_task", idempotent=False)
    assert server.hits["/tasks"] == ["POST"]
    assert raised.value.service == "logiqs" and raised.value.operation == "create_task"
    assert isinstance(raised.value.__cause__, requests.exceptions.RequestException)


def test_requests_write_to_a_closed_port_is_safely_retried(clock, session, vendor):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransientError) as raised:
        policy().call(vendor(post, idempotent=False), session, f"http://127.0.0.1:{port}/tasks", operation="create_task",
                      idempotent=False)
    assert raised.value.reason == "connect_failed"
    assert len(clock.sleeps) == 3  # refused = never sent, so retrying a write is safe


# --- google-api-python-client ------------------------------------------------------------------------------------------


def google_request(url: str, method: str = "GET") -> HttpRequest:
    # A fresh httplib2.Http per request, as googleapiclient recommends for thread safety.
    return HttpRequest(httplib2.Http(timeout=READ_TIMEOUT), JsonModel().response, url, method=method)


def execute(url: str, method: str = "GET"):
    return google_request(url, method).execute(num_retries=0)


def test_google_403_rate_limit_is_throttled_and_retried(server, clock, vendor):
    url = server.script("/drive/v3/files", ("status", 403, {}, google_body(403, "userRateLimitExceeded")),
                        ("status", 500, {}, google_body(500, "backendError")))
    assert policy("drive").call(vendor(execute), url, operation="files.list")["ok"]
    assert len(server.hits["/drive/v3/files"]) == 3
    snap = metrics_snapshot()["drive"]["files.list"]
    assert snap.retries_by_class == {"throttled": 1, "transient": 1}


def test_google_403_permission_is_permanent_after_one_request(server, clock, vendor):
    url = server.script("/drive/v3/files/x", ("status", 403, {}, google_body(403, "insufficientFilePermissions")))
    with pytest.raises(AuthError) as raised:
        policy("drive").call(vendor(execute), url, operation="files.get")
    assert len(server.hits["/drive/v3/files/x"]) == 1
    assert raised.value.reason == "insufficientFilePermissions" and raised.value.status == 403


def test_google_retry_after_header_replaces_backoff(server, clock, vendor):
    url = server.script("/drive/v3/files", ("status", 429, {"Retry-After": "4"}, google_body(429, "rateLimitExceeded")))
    assert policy("drive").call(vendor(execute), url, operation="files.list")["ok"]
    assert clock.sleeps == [4.0]


def test_google_reset_and_socket_timeout_are_retried_for_reads(server, clock, vendor):
    url = server.script("/drive/v3/files/y", ("reset",), ("hang",))
    assert policy("drive").call(vendor(execute), url, operation="files.get")["ok"]
    assert len(server.hits["/drive/v3/files/y"]) == 3


def test_google_write_timeout_is_ambiguous(server, clock, vendor):
    url = server.script("/upload/drive/v3/files", ("hang",))
    with pytest.raises(AmbiguousOutcomeError):
        policy("drive").call(vendor(execute, idempotent=False), url, "POST", operation="files.create", idempotent=False)
    assert server.hits["/upload/drive/v3/files"] == ["POST"]


def test_google_backend_outage_exhausts_retries(server, clock, vendor):
    url = server.script("/drive/v3/files", *[("status", 503, {}, google_body(503, "backendError"))] * 4)
    with pytest.raises(TransientError) as raised:
        policy("drive").call(vendor(execute), url, operation="files.list")
    assert len(server.hits["/drive/v3/files"]) == 4
    assert raised.value.reason == "backendError" and "details" not in str(raised.value)  # no body text in messages


def test_outage_opens_the_circuit_and_later_calls_do_not_reach_the_server(server, clock, session, vendor):
    from mailroom.errors import CircuitOpenError
    from mailroom.resilience import CircuitBreaker, registry

    registry.configure("logiqs", breaker=CircuitBreaker(failure_threshold=4, cooldown=30.0, clock=clock))
    url = server.script("/cases", *[("status", 503, {}, {})] * 4)
    with pytest.raises(TransientError):
        policy().call(vendor(get), session, url, operation="get_case")
    for _ in range(5):
        with pytest.raises(CircuitOpenError):
            policy().call(vendor(get), session, url, operation="get_case")
    assert len(server.hits["/cases"]) == 4  # the five calls during the outage never went out
    clock.advance(30.0)
    assert policy().call(vendor(get), session, url, operation="get_case")["ok"]  # the probe finds the service back
    assert len(server.hits["/cases"]) == 5


def discovery_document(root_url: str) -> dict:
    """The smallest Drive-like discovery document: files.get and files.create, rooted at our fault server."""
    return {
        "kind": "discovery#restDescription", "discoveryVersion": "v1", "id": "drive:v3", "name": "drive", "version": "v3",
        "rootUrl": root_url + "/", "servicePath": "drive/v3/", "batchPath": "batch/drive/v3", "protocol": "rest",
        "resources": {"files": {"methods": {
            "get": {"id": "drive.files.get", "path": "files/{fileId}", "httpMethod": "GET",
                    "parameters": {"fileId": {"type": "string", "required": True, "location": "path"}},
                    "parameterOrder": ["fileId"], "response": {"$ref": "File"}},
            "create": {"id": "drive.files.create", "path": "files", "httpMethod": "POST", "request": {"$ref": "File"},
                       "response": {"$ref": "File"}},
        }}},
        "schemas": {"File": {"id": "File", "type": "object", "properties": {"name": {"type": "string"}}}},
    }


def test_google_resource_built_from_a_static_discovery_document(server, clock, vendor):
    from googleapiclient.discovery import build_from_document

    drive = build_from_document(discovery_document(server.url), http=httplib2.Http(timeout=READ_TIMEOUT))
    server.script("/drive/v3/files/abc", ("status", 403, {}, google_body(403, "userRateLimitExceeded")), ("reset",))
    result = policy("drive").call(vendor(drive.files().get(fileId="abc").execute), num_retries=0, operation="files.get")
    assert result["ok"] and len(server.hits["/drive/v3/files/abc"]) == 3

    server.script("/drive/v3/files", ("hang",))
    with pytest.raises(AmbiguousOutcomeError):
        policy("drive").call(vendor(drive.files().create(body={"name": "x.pdf"}).execute, idempotent=False), num_retries=0,
                             operation="files.create", idempotent=False)
    assert server.hits["/drive/v3/files"] == ["POST"]
