"""Finding or starting the real Prefect server that holds the blocks and records the runs.

Prefect's temporary (ephemeral) server loses task runs at shutdown (docs/operations.md), so mailroom never relies on
it: a run points at ``PREFECT_API_URL`` when set, else at a server on 127.0.0.1:4200, else starts one.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

DEFAULT_PORT = 4200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_healthy(api_url: str, *, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


# A bound, not an expectation: ~10 s on a quiet machine, but 90 s was exceeded while 6 test suites shared 2 cores.
STARTUP_TIMEOUT = 240.0


class ServerExited(RuntimeError):
    """The server process ended before it answered (e.g. its port was taken)."""


def wait_healthy(api_url: str, *, timeout: float = STARTUP_TIMEOUT, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerExited(f"prefect server exited with code {process.returncode} before answering {api_url}")
        if is_healthy(api_url, timeout=1.0):
            return
        time.sleep(0.25)
    raise TimeoutError(f"prefect server did not answer {api_url}/health within {timeout:.0f}s")


def server_env(home: Path | None, api_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PREFECT_SERVER_ANALYTICS_ENABLED="false",  # offline machines otherwise log telemetry failures
        PREFECT_UI_API_URL=api_url,  # without it the UI calls 127.0.0.1:4200 whatever the port
        PREFECT_API_URL=api_url,
        # The alert automations (blocks/alerts.py) run in the server's triggers service, which also runs actions:
        # on by default, set here so a profile that turned it off cannot silently mute the alerts.
        PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED="true",
    )
    if home is not None:
        env["PREFECT_HOME"] = str(home)
    return env


def prefect_cli() -> list[str]:
    exe = shutil.which("prefect")
    return [exe] if exe else [sys.executable, "-m", "prefect"]


@dataclass
class LocalServer:
    api_url: str
    process: subprocess.Popen | None = field(default=None, repr=False)
    started_here: bool = False

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # the server runs uvicorn children in its own group
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)


def start_server(*, home: Path | None, port: int | None = None, log_path: Path | None = None,
                 env: dict[str, str] | None = None) -> LocalServer:
    """Start ``prefect server start`` in the foreground of a child process (tests, benchmarks); caller stops it.

    ``env``: extra settings for the server, e.g. ``PREFECT_API_DATABASE_CONNECTION_URL`` for a PostgreSQL database
    (what a server that several workers report to needs; SQLite answers 503 under their load). Without a ``port``,
    a free one is picked; another process (a second pytest-xdist worker) may take it before the server binds it, so
    a server that exits before answering is started again on a new port, up to three times.
    """
    for attempt in range(1 if port else 3):
        chosen = port or free_port()
        try:
            return _start_on(chosen, home=home, log_path=log_path, env=env)
        except ServerExited:
            if port or attempt == 2:
                raise
    raise AssertionError("unreachable")


def _start_on(port: int, *, home: Path | None, log_path: Path | None, env: dict[str, str] | None) -> LocalServer:
    api_url = f"http://127.0.0.1:{port}/api"
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(
        [*prefect_cli(), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env={**server_env(home, api_url), **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = LocalServer(api_url=api_url, process=process, started_here=True)
    try:
        wait_healthy(api_url, process=process)
    except BaseException:
        server.stop()
        raise
    return server


def ensure_server(configured_api_url: str | None) -> LocalServer:
    """The server a local run reports to: the configured one, one on :4200, or a new background one on :4200."""
    if configured_api_url:
        if not is_healthy(configured_api_url):
            raise RuntimeError(f"PREFECT_API_URL={configured_api_url} does not answer; start that server first")
        return LocalServer(api_url=configured_api_url)
    default_url = f"http://127.0.0.1:{DEFAULT_PORT}/api"
    if is_healthy(default_url):
        return LocalServer(api_url=default_url)
    port = DEFAULT_PORT
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", DEFAULT_PORT)) == 0:  # something else holds 4200
            port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    clear_stale_pid_file(_prefect_home())
    subprocess.run(
        [*prefect_cli(), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--background"],
        env=server_env(None, api_url),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    wait_healthy(api_url)
    return LocalServer(api_url=api_url, started_here=True)


def _prefect_home() -> Path:
    from prefect.settings import PREFECT_HOME

    return Path(PREFECT_HOME.value()).expanduser()


def clear_stale_pid_file(home: Path) -> bool:
    """Remove ``server.pid`` when its process is gone; True if removed.

    ``prefect server start --background`` refuses to start while that file exists ("A server is already running in
    the background"), even when the process it names died with the machine or was killed: the demo then failed with
    a traceback. A live process's file is left alone (that server is someone's; `prefect server stop` is theirs).
    """
    pid_file = home / "server.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pid_file.unlink(missing_ok=True)
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def flush_run_records(timeout: float = 15.0) -> None:
    """Send every queued log line and event to the API now (before the server or the process goes away)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=timeout, at_exit=False)
