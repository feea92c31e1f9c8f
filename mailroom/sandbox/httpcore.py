"""The HTTP core both sandbox emulators run on: routing, server-side rate limit, outages, seeded faults, stats.

Why our own small core over ``http.server``: the faults we must inject live below the application layer (a TCP
reset with no response, a hang past the client's read timeout, a response lost *after* the handler committed), and
a threaded stdlib server lets us do exactly that with no dependency. Everything binds 127.0.0.1 only.

Per API request the core applies, in order: scheduled/manual outage (503) -> token-bucket rate limit (the service's
throttle answer + Retry-After) -> the seeded fault decision (faults.FaultInjector) -> the route handler. Requests
under ``/_sandbox/`` are admin requests: never faulted, throttled or counted.

How to build an emulator on httpcore
------------------------------------
::

    def render_error(kind: str, status: int, retry_after: float | None) -> Response:
        # kind: "rate_limit" (server-side throttle), a FaultKind value ("http_429", "throttle", "http_500", ...),
        # "outage", "ambiguous_503", "not_found", "method_not_allowed", "too_large", "internal".
        # Return the service's error body; you may change the status (Drive answers "throttle" with 403).
        # The core adds the Retry-After header itself (seconds or HTTP-date) when retry_after is not None.
        return Response.json({"error": {"code": status, "message": kind}}, status=status)

    server = EmulatorServer("drive", faults=FaultConfig.uniform(0.1, seed=7),
                            rate_limit=RateLimitConfig(requests_per_second=10, burst=10),
                            error_renderer=render_error)

    @server.route("GET", "/drive/v3/files/{fileId}", name="files.get")   # name = the fault/stats endpoint key
    def get_file(request: Request) -> Response:
        file_id = request.path_params["fileId"]
        fields = request.query_value("fields")          # request.query is multi-valued: dict[str, list[str]]
        auth = request.header("Authorization")          # case-insensitive
        return Response.json({"id": file_id})

    server.add_stats_provider(lambda: {"files": 3})     # merged into GET /_sandbox/stats and server.stats()
    server.add_admin_route("POST", "seed", handler)      # served at /_sandbox/seed, never faulted
    server.start(); print(server.url); ...; server.stop()

``{name}`` matches one path segment, ``{name:path}`` the rest of the path. ``parse_multipart(request)`` splits
multipart/form-data and multipart/related bodies. Handlers must be thread-safe (one thread per connection).
Admin API: GET /_sandbox/stats, GET|PUT /_sandbox/faults (FaultConfig JSON), POST /_sandbox/outage
{"seconds": T, "endpoints": [...]}, GET|PUT /_sandbox/rate-limit, POST /_sandbox/reset-stats.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import logging
import math
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import BaseModel, ValidationError

from mailroom.sandbox.faults import (
    EmulatorStats,
    FaultConfig,
    FaultDecision,
    FaultInjector,
    FaultKind,
    RateLimitConfig,
    TokenBucket,
)

logger = logging.getLogger(__name__)

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


ErrorRenderer = Callable[[str, int, float | None], Response]
Handler = Callable[[Request], Response]


def _ok() -> Response:
    return Response.json({"ok": True})


def _default_renderer(kind: str, status: int, retry_after: float | None) -> Response:
    return Response.json({"error": kind, "status": status}, status=status)


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


@dataclass
class _Route:
    method: str
    regex: re.Pattern[str]
    name: str
    handler: Handler


def _compile(pattern: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in re.finditer(r"\{(\w+)(:path)?\}", pattern):
        out.append(re.escape(pattern[pos:m.start()]))
        out.append(f"(?P<{m.group(1)}>{'.+' if m.group(2) else '[^/]+'})")
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("^" + "".join(out) + "$")


class EmulatorServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 with routing, rate limit, outages, seeded faults and stats."""

    def __init__(
        self,
        name: str,
        *,
        faults: FaultConfig | FaultInjector | None = None,
        rate_limit: RateLimitConfig | None = None,
        error_renderer: ErrorRenderer | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.name = name
        self.injector = faults if isinstance(faults, FaultInjector) else FaultInjector(faults)
        self.rate_limit = rate_limit or RateLimitConfig(requests_per_second=None)
        self._bucket = TokenBucket(self.rate_limit)
        self.render_error = error_renderer or _default_renderer
        self.stats_collector = EmulatorStats()
        self._routes: list[_Route] = []
        self._admin: dict[tuple[str, str], Handler] = {}
        self._stats_providers: list[Callable[[], dict[str, Any]]] = []
        self._host, self._port = host, port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._install_admin_routes()

    # ---------------------------------------------------------------------------------------------- registration
    def add_route(self, method: str, pattern: str, handler: Handler, *, name: str | None = None) -> None:
        self._routes.append(_Route(method.upper(), _compile(pattern), name or f"{method.upper()} {pattern}", handler))

    def route(self, method: str, pattern: str, *, name: str | None = None) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add_route(method, pattern, handler, name=name)
            return handler
        return register

    def add_admin_route(self, method: str, subpath: str, handler: Handler) -> None:
        self._admin[(method.upper(), ADMIN_PREFIX + subpath.strip("/"))] = handler

    def add_stats_provider(self, provider: Callable[[], dict[str, Any]]) -> None:
        self._stats_providers.append(provider)

    def match(self, method: str, path: str) -> tuple[_Route | None, dict[str, str], bool]:
        """(route, path params, path_known) -- path_known tells a 405 from a 404."""
        path_known = False
        for route in self._routes:
            m = route.regex.match(path)
            if m:
                path_known = True
                if route.method == method:
                    return route, {k: unquote(v) for k, v in m.groupdict().items()}, True
        return None, {}, path_known

    # --------------------------------------------------------------------------------------------- runtime control
    def set_faults(self, config: FaultConfig) -> None:
        self.injector.configure(config)

    def set_rate_limit(self, config: RateLimitConfig) -> None:
        self.rate_limit = config
        self._bucket = TokenBucket(config)

    def start_outage(self, seconds: float, *, endpoints: list[str] | None = None) -> None:
        self.injector.start_outage(seconds, endpoints=endpoints)

    def stats(self) -> dict[str, Any]:
        snapshot = self.stats_collector.snapshot()
        snapshot["service"] = self.name
        for provider in self._stats_providers:
            snapshot.update(provider())
        return snapshot

    def reset_stats(self) -> None:
        self.stats_collector = EmulatorStats()

    # --------------------------------------------------------------------------------------------------- lifecycle
    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError(f"{self.name} emulator is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> EmulatorServer:
        if self._httpd is not None:
            return self
        self.stopping.clear()
        httpd = ThreadingHTTPServer((self._host, self._port), type("BoundHandler", (_Handler,), {"core": self}))
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"{self.name}-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self.stopping.set()  # wakes hanging handlers
        self._httpd.shutdown()
        with self._connections_lock:
            for conn in list(self._connections):  # end keep-alive connections, or they would keep being served
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def track(self, conn: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(conn)

    # ---------------------------------------------------------------------------------------------- request flow
    def decide(self, request: Request) -> Response | FaultDecision | None:
        """Pre-handler gates: a Response to send at once, a fault decision to act on, or None to serve normally."""
        self.stats_collector.arrival()
        remaining = self.injector.outage_remaining(request.endpoint)
        if remaining is not None:
            self.stats_collector.record_fault(request.endpoint, "outage")
            return self.error_response("outage", 503, None, http_date=False)
        granted, wait = self._bucket.try_acquire()
        if not granted:
            self.stats_collector.record_throttle(request.endpoint)
            return self.error_response("rate_limit", 429, max(1.0, math.ceil(wait)), http_date=False)
        decision = self.injector.decide(self.name, request.endpoint, request.method)
        if decision.kind is None:
            return None
        label = decision.kind.value if decision.loss is None else f"{decision.kind.value}_{decision.loss}"
        self.stats_collector.record_fault(request.endpoint, label)
        if decision.status is not None and decision.kind is not FaultKind.AMBIGUOUS:
            return self.error_response(
                decision.kind.value, decision.status, decision.retry_after, http_date=decision.retry_after_http_date
            )
        return decision

    def error_response(self, kind: str, status: int, retry_after: float | None, *, http_date: bool) -> Response:
        response = self.render_error(kind, status, retry_after)
        if retry_after is not None and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = (
                formatdate(time.time() + retry_after, usegmt=True) if http_date else str(math.ceil(retry_after))
            )
        return response

    def run_handler(self, handler: Handler, request: Request) -> Response:
        try:
            return handler(request)
        except (ValueError, ValidationError, KeyError) as exc:
            logger.debug("%s %s rejected: %s", self.name, request.endpoint, type(exc).__name__)
            return self.render_error("bad_request", 400, None)
        except Exception:  # an emulator bug must show up as a 500, not kill the connection silently
            logger.exception("%s emulator handler %s crashed", self.name, request.endpoint)
            return self.render_error("internal", 500, None)

    def _install_admin_routes(self) -> None:
        add = self.add_admin_route
        add("GET", "stats", lambda r: Response.json(self.stats()))
        add("GET", "faults", lambda r: Response.json(self.injector.config))
        add("PUT", "faults", lambda r: (self.set_faults(FaultConfig.model_validate_json(r.body)), _ok())[1])
        add("POST", "outage", self._post_outage)
        add("GET", "rate-limit", lambda r: Response.json(self.rate_limit))
        add("PUT", "rate-limit", lambda r: (self.set_rate_limit(RateLimitConfig.model_validate_json(r.body)), _ok())[1])
        add("POST", "reset-stats", lambda r: (self.reset_stats(), _ok())[1])

    def _post_outage(self, request: Request) -> Response:
        spec = request.json() or {}
        seconds = float(spec["seconds"])
        if seconds <= 0:
            raise ValueError("seconds must be positive")
        self.start_outage(seconds, endpoints=spec.get("endpoints"))
        return Response.json({"outage_seconds": seconds, "endpoints": spec.get("endpoints")})

    def admin_handler(self, method: str, path: str) -> Handler | None:
        return self._admin.get((method, path.rstrip("/")))


class _Handler(BaseHTTPRequestHandler):
    """One connection (keep-alive): parse, gate, fault, dispatch. Bound to its EmulatorServer as ``core``."""

    protocol_version = "HTTP/1.1"
    server_version = "mailroom-sandbox"
    timeout = 30  # idle keep-alive connections end after this
    disable_nagle_algorithm = True  # headers and body go out in two writes: Nagle + delayed ACK would add 40 ms
    core: EmulatorServer

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
        body = self._read_body()
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
        if decision is not None and decision.kind is FaultKind.AMBIGUOUS and response.status < 400:
            # the effect is committed; now the client loses the answer
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
