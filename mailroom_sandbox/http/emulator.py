"""What every sandbox emulator shares: an ``EmulatorServer`` in ``self.server``, a start/stop lifecycle usable as a
context manager, and the runtime chaos knobs (faults, rate limit, outage) passed through to the server."""

from __future__ import annotations

from typing import Any, Self


from mailroom_sandbox.http.core import EmulatorServer
from mailroom_sandbox.http.faults import FaultConfig, RateLimitConfig


class Emulator:
    server: EmulatorServer

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def stats(self) -> dict[str, Any]:
        return self.server.stats()

    def set_faults(self, config: FaultConfig) -> None:
        self.server.set_faults(config)

    def set_rate_limit(self, config: RateLimitConfig) -> None:
        self.server.set_rate_limit(config)

    def start_outage(self, seconds: float, *, endpoints: list[str] | None = None) -> None:
        self.server.start_outage(seconds, endpoints=endpoints)
