"""A port picked free can be taken before the server binds it (two pytest-xdist workers start servers at once):
start_server tries a new port instead of failing the session (blocks.prefect_server).

The stand-in for `prefect server` is a real process that binds the port it is given and answers /api/health, or
exits like uvicorn when the port is in use; only the command line is swapped, the start-up code runs as it is."""

from __future__ import annotations

import socket
import sys

import pytest
import requests

import blocks.prefect_server as prefect_server

STAND_IN = """
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()
        self.wfile.write(b"true")
    def log_message(self, *args):
        pass
try:
    server = HTTPServer(("127.0.0.1", int(sys.argv[sys.argv.index("--port") + 1])), Health)
except OSError:
    sys.exit(1)
server.serve_forever()
"""


@pytest.fixture
def taken_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.fixture(autouse=True)
def stand_in_server(tmp_path, monkeypatch):
    script = tmp_path / "stand_in.py"
    script.write_text(STAND_IN)
    monkeypatch.setattr(prefect_server, "prefect_cli", lambda: [sys.executable, str(script)])


def test_a_taken_port_is_given_up_for_a_new_one(tmp_path, monkeypatch, taken_port):
    picks = iter([taken_port, prefect_server.free_port()])
    monkeypatch.setattr(prefect_server, "free_port", lambda: next(picks))
    server = prefect_server.start_server(home=tmp_path)
    try:
        assert str(taken_port) not in server.api_url
        assert requests.get(f"{server.api_url}/health", timeout=5).status_code == 200
    finally:
        server.stop()


def test_a_port_the_caller_chose_is_not_swapped(tmp_path, taken_port):
    with pytest.raises(prefect_server.ServerExited):
        prefect_server.start_server(home=tmp_path, port=taken_port)
