"""The HTTP core both sandbox emulators run on: routing, server-side rate limit, outages, seeded faults, stats.

Why our own small core over ``http.server``: the faults we must inject live below the application layer (a TCP
reset with no response, a hang past the client's read timeout, a response lost *after* the handler committed), and
a threaded stdlib server lets us do exactly that with no dependency. Everything binds 127.0.0.1 only.

Per API request the core applies, in order: a fault a test scripted for that very request (``fail_next``) ->
scheduled/manual outage (503) -> token-bucket rate limit (the service's throttle answer + Retry-After) -> the seeded
fault decision (faults.FaultInjector) -> the route handler. Requests under ``/_sandbox/`` are admin requests: never
faulted, throttled or counted.

How to build an emulator on http.core
-------------------------------------
::

    def render_error(kind: str, status: int, retry_after: float | None) -> Response:
        # kind: "rate_limit" (server-side throttle), a FaultKind value ("http_429", "throttle", "http_500", ...),
        # "outage", "ambiguous_503", "not_found", "method_not_allowed", "too_large", "internal".
        # Return the service's error body; you may change the status (Drive answers "throttle" with 403).
        # The core adds the Retry-After header itself (seconds or HTTP-date) when retry_after is not None,
        # unless the server was built with retry_after_header=False (real Drive sends none).
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

import logging
import math
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from pydantic import ValidationError

from mailroom_sandbox.http.faults import (
    EmulatorStats,
    FaultConfig,
    FaultDecision,
    FaultInjector,
    FaultKind,
    RateLimitConfig,
    TokenBucket,
)
from mailroom_sandbox.http.wire import (
    ADMIN_PREFIX,
    ConnectionHandler,
    Handler,
    Part,
    Request,
    Response,
    parse_multipart,
)

logger = logging.getLogger(__name__)

__all__ = [  # Request, Response, Part and parse_multipart live in http.wire; emulators import them from here
    "ADMIN_PREFIX", "EmulatorServer", "ErrorRenderer", "Handler", "Part", "Request", "Response", "parse_multipart",
]

ErrorRenderer = Callable[[str, int, float | None], Response]


def _ok() -> Response:
    return Response.json({"ok": True})


def _default_renderer(kind: str, status: int, retry_after: float | None) -> Response:
    return Response.json({"error": kind, "status": status}, status=status)


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
        retry_after_header: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.name = name
        # Whether throttle answers carry Retry-After. Logiqs sends it; real Drive does not, so the Drive emulator
        # turns it off by default (the renderer still learns the wait, so a body could mention it).
        self.retry_after_header = retry_after_header
        self.injector = faults if isinstance(faults, FaultInjector) else FaultInjector(faults)
        self.rate_limit = rate_limit or RateLimitConfig(requests_per_second=None)
        self._bucket = TokenBucket(self.rate_limit)
        self.render_error = error_renderer or _default_renderer
        self.stats_collector = EmulatorStats()
        self._routes: list[_Route] = []
        self._admin: dict[tuple[str, str], Handler] = {}
        self._stats_providers: list[Callable[[], dict[str, Any]]] = []
        self._request_hooks: list[Callable[[Request], None]] = []
        self._response_hooks: list[Callable[[Request, Response], None]] = []
        self._scripted: list[tuple[Callable[[Request], bool], list[FaultKind]]] = []
        self._scripted_lock = threading.Lock()
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

    def add_request_hook(self, hook: Callable[[Request], None]) -> None:
        """Call ``hook(request)`` in the request's thread before anything else (tests hold requests here to force an
        interleaving; other requests are served meanwhile)."""
        self._request_hooks.append(hook)

    def add_response_hook(self, hook: Callable[[Request, Response], None]) -> None:
        """Call ``hook(request, response)`` in the request's thread after the route's handler ran (its change is
        committed) and before the response is sent: a test acts here on a change the client has not heard of yet,
        e.g. kills the client between a committed Drive move and the bookkeeping that should follow it."""
        self._response_hooks.append(hook)

    def fail_next(self, matching: Callable[[Request], bool], kinds: list[FaultKind]) -> None:
        """Answer the next ``len(kinds)`` requests ``matching`` accepts with these faults, in order, ahead of every
        other gate. The seeded faults follow arrival order, so which caller meets two in a row depends on how threads
        interleave; a test that needs one chosen call to fail twice scripts it here instead."""
        if any(kind.status is None for kind in kinds):
            raise ValueError("only faults that answer with an HTTP status can be scripted")
        with self._scripted_lock:
            self._scripted.append((matching, list(kinds)))

    def _scripted_fault(self, request: Request) -> FaultKind | None:
        with self._scripted_lock:
            for matching, kinds in self._scripted:
                if kinds and matching(request):
                    return kinds.pop(0)
        return None

    def handled(self, request: Request, response: Response) -> None:
        for hook in self._response_hooks:
            hook(request, response)

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

    def end_outages(self) -> None:
        self.injector.end_outages()

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
        httpd = ThreadingHTTPServer((self._host, self._port), type("BoundHandler", (ConnectionHandler,), {"core": self}))
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
        for hook in self._request_hooks:
            hook(request)
        self.stats_collector.arrival()
        scripted = self._scripted_fault(request)
        if scripted is not None:
            self.stats_collector.record_fault(request.endpoint, scripted.value)
            throttled = scripted in (FaultKind.HTTP_429, FaultKind.THROTTLE)
            wait = self.injector.config.for_endpoint(request.endpoint).retry_after_seconds if throttled else None
            return self.error_response(scripted.value, scripted.status, wait, http_date=False)
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
        if decision.kind is not FaultKind.AMBIGUOUS:  # recorded by the handler once the effect is committed
            self.stats_collector.record_fault(request.endpoint, decision.kind.value)
        if decision.status is not None and decision.kind is not FaultKind.AMBIGUOUS:
            return self.error_response(
                decision.kind.value, decision.status, decision.retry_after, http_date=decision.retry_after_http_date
            )
        return decision

    def error_response(self, kind: str, status: int, retry_after: float | None, *, http_date: bool) -> Response:
        response = self.render_error(kind, status, retry_after)
        if retry_after is not None and self.retry_after_header and "Retry-After" not in response.headers:
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
