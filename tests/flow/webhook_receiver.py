"""A local HTTP receiver on 127.0.0.1 that records every POST it gets (JSON bodies), for alert tests."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


class WebhookReceiver:
    """``with WebhookReceiver() as hook:`` ... ``hook.url``; ``hook.wait_for(predicate, timeout)``."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    payload = {"raw": body.decode("utf-8", "replace")}
                with receiver._changed:
                    receiver.calls.append(payload)
                    receiver._changed.notify_all()
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:  # keep the test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def __enter__(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def matching(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        with self._changed:
            return [call for call in self.calls if predicate(call)]

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], *, count: int = 1,
                 timeout: float = 90.0) -> list[dict[str, Any]]:
        """Block until ``count`` calls match (woken by each arriving call, not polling); fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [call for call in self.calls if predicate(call)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(found)} of {count} webhook call(s) after {timeout:.0f}s; got {self.calls}")
                self._changed.wait(left)
