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
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import httpx
from prefect.concurrency.sync import rate_limit

from mailroom.errors import ConfigurationError, ThrottledError, TransientError
from mailroom.pipeline_settings import PipelineSettings
from mailroom.resilience import set_shared_limit

logger = logging.getLogger("mailroom.tasks.limits")

SLOT_TIMEOUT_SECONDS = 120.0  # a slot not granted in this long: THROTTLED (the task-level retry waits longer)


class PrefectRateLimit:
    """A call's permit from a Prefect global concurrency limit in rate-limit mode; failures become our errors.

    Every permit is a request to the Prefect server, and Prefect sends one slot request at a time per process: with
    two workers at a load average of ~20, Drive calls waited ~10,000 thread-seconds for permits in a 367-notice run
    while sending under one request per second. So permits can be taken ``block`` at a time and handed to this
    process's next calls, each valid for ``block / rate`` seconds (the time the shared bucket needs to refill them):
    all workers together then send at most ``burst + rate + block`` requests in any second instead of
    ``burst + rate``. ``block`` is half the burst: Drive (burst 10) takes 5 at a time; Logiqs (burst 2, the limit
    that binds) still takes one.
    """

    def __init__(self, service: str, limit_name: str, *, block: int = 1, rate: float = 1.0,
                 timeout_seconds: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.service, self.limit_name, self.block, self.rate = service, limit_name, max(1, block), rate
        self.timeout_seconds = SLOT_TIMEOUT_SECONDS if timeout_seconds is None else timeout_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._prepaid = 0
        self._prepaid_until = 0.0

    def __call__(self) -> None:
        with self._lock:
            if self._prepaid > 0 and self._clock() < self._prepaid_until:
                self._prepaid -= 1
                return
        self._acquire(self.block)
        with self._lock:
            self._prepaid, self._prepaid_until = self.block - 1, self._clock() + self.block / self.rate

    def _acquire(self, slots: int) -> None:
        try:
            rate_limit(self.limit_name, occupy=slots, timeout_seconds=self.timeout_seconds, strict=True)
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
        for service, (name, slots, rate) in settings.shared_limits().items():
            limit = PrefectRateLimit(service, name, block=slots // 2, rate=rate)
            stack.callback(set_shared_limit(service, limit))
        yield
