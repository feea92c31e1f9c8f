"""Drive and Logiqs call rates held for every worker together, through Prefect global concurrency limits.

Each service gets a limit with ``burst`` slots that decay at the configured calls per second (Prefect's "rate limit"
mode): every call first takes a slot from the Prefect server, so all flow processes of the pool together stay within
the service's quota. The resilience core only knows "a shared limit to wait for" (``set_shared_limit``); this module
plugs Prefect's in. The per-process token bucket and its adaptive slow-down on throttling stay in front of it.

The limits are created from the settings block when missing (``blocks.limits.ensure_shared_limits``, at the start
of a run) or by ``python -m blocks.limits``, which also updates them after a rate change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
from prefect.concurrency.sync import rate_limit

from mailroom.errors import ConfigurationError, ThrottledError, TransientError
from mailroom.pipeline_settings import PipelineSettings
from mailroom.resilience import set_shared_limit

logger = logging.getLogger("mailroom.tasks.limits")

SLOT_TIMEOUT_SECONDS = 120.0  # a slot not granted in this long: THROTTLED (the task-level retry waits longer)


class PrefectRateLimit:
    """One call's permit from a Prefect global concurrency limit in rate-limit mode; failures become our errors."""

    def __init__(self, service: str, limit_name: str, *, timeout_seconds: float = SLOT_TIMEOUT_SECONDS) -> None:
        self.service, self.limit_name, self.timeout_seconds = service, limit_name, timeout_seconds

    def __call__(self) -> None:
        try:
            rate_limit(self.limit_name, occupy=1, timeout_seconds=self.timeout_seconds, strict=True)
        except TimeoutError as exc:
            raise ThrottledError(
                f"no {self.limit_name} slot within {self.timeout_seconds:.0f}s (the pool is at its shared rate)",
                service=self.service, operation="shared-rate-limit", reason="shared_limit_timeout",
            ) from exc
        except httpx.HTTPError as exc:
            raise TransientError(
                f"Prefect server did not grant a {self.limit_name} slot ({type(exc).__name__})",
                service=self.service, operation="shared-rate-limit", reason="shared_limit_unavailable",
            ) from exc
        except Exception as exc:  # ConcurrencySlotAcquisitionError: strict and the limit does not exist
            if type(exc).__name__ != "ConcurrencySlotAcquisitionError":
                raise
            raise ConfigurationError(
                f"global concurrency limit {self.limit_name} is missing; create it with `python -m blocks.limits`",
                service=self.service, operation="shared-rate-limit", reason="shared_limit_missing",
            ) from exc


@contextmanager
def shared_limits_installed(settings: PipelineSettings) -> Iterator[None]:
    """For the duration of a run: every Drive/Logiqs call of this process also takes a slot of the shared limit."""
    if not settings.shared_rate_limits:
        yield
        return
    with ExitStack() as stack:
        for service, (name, _slots, _rate) in settings.shared_limits().items():
            stack.callback(set_shared_limit(service, PrefectRateLimit(service, name)))
        yield
