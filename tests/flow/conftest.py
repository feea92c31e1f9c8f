"""A real `prefect server` for the flow tests (the temporary server loses task runs; see docs/operations.md)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_HOME, PREFECT_SERVER_ANALYTICS_ENABLED, temporary_settings

from blocks.prefect_server import LocalServer, flush_run_records, prefect_cli, start_server

ROOT = Path(__file__).resolve().parents[2]

# For the workers and runners the tests start: they look for scheduled runs every 10 s by default, so each run a test
# triggers waited up to 10 s (5 on average) before anything happened, once per pick-up. Looking every second changes
# when a run is picked up, not what the run does or what the tests check; each look is one small API call.
QUICK_PICKUP_ENV = {"PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_RUNNER_POLL_FREQUENCY": "1"}


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    home = tmp_path_factory.mktemp("prefect-home")
    server = start_server(home=home, log_path=home / "server.log")
    try:
        with temporary_settings(
            updates={PREFECT_API_URL: server.api_url, PREFECT_HOME: str(home), PREFECT_SERVER_ANALYTICS_ENABLED: False}
        ):
            yield server
            flush_run_records()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def prefect_home(prefect_server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from prefect.settings import get_current_settings

    return Path(get_current_settings().home)


def prefect_cli_ok(args: list[str], env: dict[str, str]) -> str:
    """``prefect --no-prompt ARGS`` from the project root; its stdout, or the test fails with its output."""
    done = subprocess.run([*prefect_cli(), "--no-prompt", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="session")
def deployed(prefect_server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The work pool and `prefect deploy --all` with the project's prefect.yaml, once per session (each is a CLI
    process that imports the flows); returns the environment the CLI used, for the workers a test starts. Tests
    only read the deployments and trigger runs of them."""
    env = {**os.environ, "PREFECT_API_URL": prefect_server.api_url,
           "PREFECT_HOME": str(tmp_path_factory.mktemp("deploy-home")),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PWD": str(ROOT),  # PWD: prefect.yaml's pull step
           **QUICK_PICKUP_ENV}
    prefect_cli_ok(["work-pool", "create", "mailroom-process", "--type", "process", "--overwrite"], env)
    prefect_cli_ok(["deploy", "--all"], env)
    return env
