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

    def __init__(self, service: str, limit_name: str, *, timeout_seconds: float | None = None) -> None:
        self.service, self.limit_name = service, limit_name
        self.timeout_seconds = SLOT_TIMEOUT_SECONDS if timeout_seconds is None else timeout_seconds

    def __call__(self) -> None:
        try:
            rate_limit(self.limit_name, occupy=1, timeout_seconds=self.timeout_seconds, strict=True)
        except TimeoutError as exc:
            raise ThrottledError(
                f"no {self.limit_name} slot within {self.timeout_seconds:.0f}s (the pool is at its shared rate)",
                service=self.service, operation="shared-rate-limit", reason="shared_limit_timeout",
            ) from exc
        except Exception as exc:  # Prefect wraps everything else in ConcurrencySlotAcquisitionError
            raise self._translate(exc) from exc

    def _translate(self, exc: Exception) -> Exception:
        where = dict(service=self.service, operation="shared-rate-limit")
        cause = exc.__cause__
        if type(exc).__name__ != "ConcurrencySlotAcquisitionError":
            cause = exc
        if cause is None:  # strict, and the server knows no such limit
            return ConfigurationError(
                f"global concurrency limit {self.limit_name} is missing; create it with `python -m blocks.limits`",
                reason="shared_limit_missing", **where)
        status = getattr(getattr(cause, "response", None), "status_code", None)
        if status is not None and 400 <= status < 500 and status not in (408, 429):
            return ConfigurationError(  # e.g. 422: the limit has no slot at all
                f"global concurrency limit {self.limit_name} refuses one slot (HTTP {status}); check it in the UI "
                "(Concurrency) or reset it with `python -m blocks.limits`", reason="shared_limit_unusable", **where)
        if isinstance(cause, (httpx.HTTPError, OSError)):
            return TransientError(f"Prefect server did not grant a {self.limit_name} slot ({type(cause).__name__})",
                                  reason="shared_limit_unavailable", **where)
        return exc  # not a limit problem we know: let it show as the bug it is


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
