"""Drive fixtures shared by the Drive test modules: one emulator per module (no server-side rate limit), handed to
each test with faults off, and a real googleapiclient service for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mailroom.drive import build_drive_service
from mailroom_sandbox.drive.server import DriveEmulator
from mailroom_sandbox.http.faults import FaultConfig, RateLimitConfig


@pytest.fixture(scope="module")
def drive_emulator() -> Iterator[DriveEmulator]:
    with DriveEmulator(rate_limit=RateLimitConfig(requests_per_second=None)) as emulator:
        yield emulator


@pytest.fixture
def drive(drive_emulator: DriveEmulator) -> Iterator[DriveEmulator]:
    """The module's Drive emulator, faults off when the test starts and again when it ends."""
    drive_emulator.set_faults(FaultConfig())
    yield drive_emulator
    drive_emulator.set_faults(FaultConfig())


@pytest.fixture(scope="module")
def drive_service(drive_emulator: DriveEmulator) -> Any:
    """googleapiclient's Drive v3 service for the module's emulator, with real google-auth credentials."""
    return build_drive_service(drive_emulator.service_account_info(), api_endpoint=drive_emulator.url, timeout=10)
