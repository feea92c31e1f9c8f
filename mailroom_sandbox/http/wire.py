"""The wire half of the sandbox HTTP core: request/response types and the per-connection handler.

``ConnectionHandler`` is where the faults that live below HTTP are carried out: a TCP reset with no response
(SO_LINGER 0), a hang that outlasts the client's read timeout, and the response lost after the handler committed.
Routing, gates and stats are decided by the bound server, reachable as ``self.core``: anything with the ``Core``
interface below (``EmulatorServer`` in core.py). The handler knows that interface, not core.py, so the import arrow
runs one way, core -> wire.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel

from mailroom_sandbox.http.faults import EmulatorStats, FaultDecision, FaultKind

ADMIN_PREFIX = "/_sandbox/"
MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass
class Request:
    method: str
    path: str
    endpoint: str  # the route name: key for fault overrides and stats
    path_params: dict[str, str]
    query: dict[str, list[str]]
    headers: Message
    body: bytes = b""

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    def query_value(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        body = payload.model_dump_json().encode() if isinstance(payload, BaseModel) else json.dumps(payload).encode()
        return cls(status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


Handler = Callable[[Request], Response]


class Route(Protocol):
    name: str  # the endpoint key for fault overrides and stats
    handler: Handler


class Core(Protocol):
    """What a connection asks of its server; ``EmulatorServer`` (core.py) documents each of these."""

    stopping: threading.Event
    stats_collector: EmulatorStats
    render_error: Callable[[str, int, float | None], Response]

    def track(self, conn: socket.socket, *, open_: bool) -> None: ...
    def admin_handler(self, method: str, path: str) -> Handler | None: ...
    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]: ...
    def decide(self, request: Request) -> Response | FaultDecision | None: ...
    def run_handler(self, handler: Handler, request: Request) -> Response: ...
    def handled(self, request: Request, response: Response) -> None: ...
    def error_response(self, kind: str, status: int, retry_after: float | None, *, http_date: bool) -> Response: ...


@dataclass
class Part:
    name: str | None
    filename: str | None
    content_type: str
    headers: Message
    data: bytes


def parse_multipart(request: Request) -> list[Part]:
    """Parts of a multipart/form-data or multipart/related body (raises ValueError if the body is not multipart)."""
    content_type = request.header("Content-Type", "") or ""
    if not content_type.lower().startswith("multipart/"):
        raise ValueError("not a multipart body")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    if not message.is_multipart():
        raise ValueError("malformed multipart body")
    parts = []
    for part in message.iter_parts():
        parts.append(Part(
            name=part.get_param("name", header="content-disposition"),
            filename=part.get_filename(),
            content_type=part.get_content_type(),
            headers=part,
            data=part.get_payload(decode=True) or b"",
        ))
    return parts


class ConnectionHandler(BaseHTTPRequestHandler):
    """One connection (keep-alive): parse, gate, fault, dispatch. Bound to its EmulatorServer as ``core``."""

    protocol_version = "HTTP/1.1"
    server_version = "mailroom-sandbox"
    timeout = 30  # idle keep-alive connections end after this
    disable_nagle_algorithm = True  # headers and body go out in two writes: Nagle + delayed ACK would add 40 ms
    core: Core

    def setup(self) -> None:
        super().setup()
        self.core.track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass  # the socket was reset on purpose, or the client went away
        finally:
            self.core.track(self.connection, open_=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: request lines can carry names in query strings (Drive ``q``); stats count the requests."""

    def _dispatch(self) -> None:
        core, method = self.core, self.command
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        try:
            body = self._read_body()
        except ValueError:  # a malformed Content-Length or chunk size: the stream cannot be trusted any more
            self.close_connection = True
            return self._send(core.render_error("bad_request", 400, None))
        if body is None:
            return self._send(core.render_error("too_large", 413, None))
        if path.startswith(ADMIN_PREFIX):
            admin = core.admin_handler(method, path)
            request = Request(method, path, "_sandbox", {}, query, self.headers, body)
            return self._send(core.run_handler(admin, request) if admin else core.render_error("not_found", 404, None))
        route, params, path_known = core.match(method, path)
        if route is None:
            response = core.render_error("method_not_allowed" if path_known else "not_found",
                                         405 if path_known else 404, None)
            core.stats_collector.record_call("<unrouted>", response.status)
            return self._send(response)
        request = Request(method, path, route.name, params, query, self.headers, body)
        outcome = core.decide(request)
        if isinstance(outcome, Response):
            core.stats_collector.record_call(route.name, outcome.status)
            return self._send(outcome)
        decision = outcome
        if decision is not None and decision.kind in (FaultKind.RESET, FaultKind.HANG):
            core.stats_collector.record_call(route.name, decision.kind.value)
            return self._reset() if decision.kind is FaultKind.RESET else self._hang(decision.delay_seconds)
        if decision is not None and decision.kind is FaultKind.SLOW:
            core.stopping.wait(decision.delay_seconds)
        response = core.run_handler(route.handler, request)
        core.handled(request, response)
        if decision is not None and decision.kind is FaultKind.AMBIGUOUS and response.status < 400:
            # the effect is committed; now the client loses the answer (counted only now: a rejected request
            # committed nothing, so it is answered normally and no fault is recorded)
            core.stats_collector.record_fault(route.name, f"ambiguous_{decision.loss}")
            core.stats_collector.record_call(route.name, decision.loss if decision.loss != "503" else 503)
            if decision.loss == "reset":
                return self._reset()
            if decision.loss == "hang":
                return self._hang(decision.delay_seconds)
            return self._send(core.error_response("ambiguous_503", 503, None, http_date=False))
        core.stats_collector.record_call(route.name, response.status)
        self._send(response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY_BYTES:
                    self.close_connection = True
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True  # unread body: the connection cannot be reused
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except OSError:
            self.close_connection = True

    def _reset(self) -> None:
        """SO_LINGER 0 + close makes the kernel send RST: the client sees a reset and no response."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.connection.close()
        self.rfile.close()  # drops the last reference to the fd, so the close (and the RST) happens now

    def _hang(self, seconds: float) -> None:
        """Say nothing for ``seconds`` (past the client's read timeout), then close without a response."""
        self.close_connection = True
        self.core.stopping.wait(seconds)
