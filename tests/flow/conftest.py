"""A real `prefect server` for the flow tests (the temporary server loses task runs; see docs/operations.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_HOME, PREFECT_SERVER_ANALYTICS_ENABLED, temporary_settings

from blocks.prefect_server import LocalServer, flush_run_records, start_server


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
