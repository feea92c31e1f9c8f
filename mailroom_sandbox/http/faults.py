"""Seeded, reproducible fault injection shared by the sandbox emulators (Drive v3, Logiqs V4).

Why seeded per endpoint: a chaos run must be replayable. Each (service, endpoint) pair owns its own
``random.Random`` stream derived from the seed, and every decision draws exactly two numbers from it, so the n-th
call to an endpoint gets the same fault for the same seed no matter how calls to *other* endpoints interleave across
threads. (Calls to the *same* endpoint from several threads are still ordered by arrival, which is the honest
behaviour of a real server.)

Kinds of fault (``FaultKind``):
- ``http_429``  429 with Retry-After, given as seconds or (with probability ``retry_after_http_date``) an HTTP-date
- ``throttle``  the service's own throttle answer (Drive: 403 userRateLimitExceeded; Logiqs: 429) with Retry-After
- ``http_500`` / ``http_502`` / ``http_503`` / ``http_504``
- ``reset``     the connection is reset (RST) without any response
- ``slow``      the normal response, after ``slow_seconds``
- ``hang``      no response for ``hang_seconds`` (meant to exceed the client's read timeout), then the socket closes
- ``ambiguous`` mutating methods only (POST/PUT/PATCH/DELETE): the handler runs and its effect persists, then the
  client loses the response by one of ``ambiguous_modes``: reset, hang, or a 503.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LossMode = Literal["reset", "hang", "503"]


class FaultKind(str, Enum):
    HTTP_429 = "http_429"
    THROTTLE = "throttle"
    HTTP_500 = "http_500"
    HTTP_502 = "http_502"
    HTTP_503 = "http_503"
    HTTP_504 = "http_504"
    RESET = "reset"
    SLOW = "slow"
    HANG = "hang"
    AMBIGUOUS = "ambiguous"

    @property
    def status(self) -> int | None:
        """The HTTP status a fault of this kind answers with by default (None: no response at all / normal one)."""
        return _KIND_STATUS.get(self)


_KIND_STATUS = {
    FaultKind.HTTP_429: 429,
    FaultKind.THROTTLE: 429,  # the emulator's error renderer may answer differently (Drive uses 403)
    FaultKind.HTTP_500: 500,
    FaultKind.HTTP_502: 502,
    FaultKind.HTTP_503: 503,
    FaultKind.HTTP_504: 504,
}

# Share of each failing kind when a total rate is spread by FaultConfig.uniform (sums to 1). Slow responses are not
# failures and are left out; hangs are kept rare because each one costs the client a whole read timeout.
UNIFORM_WEIGHTS: dict[FaultKind, float] = {
    FaultKind.HTTP_429: 0.20,
    FaultKind.THROTTLE: 0.10,
    FaultKind.HTTP_500: 0.15,
    FaultKind.HTTP_502: 0.10,
    FaultKind.HTTP_503: 0.15,
    FaultKind.HTTP_504: 0.05,
    FaultKind.RESET: 0.20,
    FaultKind.HANG: 0.05,
}


class EndpointFaults(BaseModel):
    """Probabilities (per request) of each fault kind on one endpoint, plus the knobs of those faults."""

    model_config = ConfigDict(extra="forbid")

    http_429: float = Field(0.0, ge=0, le=1)
    throttle: float = Field(0.0, ge=0, le=1)
    http_500: float = Field(0.0, ge=0, le=1)
    http_502: float = Field(0.0, ge=0, le=1)
    http_503: float = Field(0.0, ge=0, le=1)
    http_504: float = Field(0.0, ge=0, le=1)
    reset: float = Field(0.0, ge=0, le=1)
    slow: float = Field(0.0, ge=0, le=1)
    hang: float = Field(0.0, ge=0, le=1)
    ambiguous: float = Field(0.0, ge=0, le=1)  # only drawn for mutating methods

    retry_after_seconds: float = Field(1.0, ge=0)
    retry_after_http_date: float = Field(0.25, ge=0, le=1)  # share of 429/throttle answers using an HTTP-date
    slow_seconds: float = Field(0.5, ge=0, le=60)
    hang_seconds: float = Field(2.0, ge=0, le=600)
    ambiguous_modes: list[LossMode] = Field(default_factory=lambda: ["reset", "hang", "503"], min_length=1)

    @model_validator(mode="after")
    def _total_at_most_one(self) -> EndpointFaults:
        if self.total_rate(mutating=True) > 1.0 + 1e-9:
            raise ValueError("fault probabilities of one endpoint must sum to at most 1")
        return self

    def rates(self, *, mutating: bool) -> list[tuple[FaultKind, float]]:
        """(kind, probability) in a fixed order; the order is part of the reproducibility contract."""
        table = [(kind, getattr(self, kind.value)) for kind in FaultKind if kind is not FaultKind.AMBIGUOUS]
        if mutating:
            table.append((FaultKind.AMBIGUOUS, self.ambiguous))
        return table

    def total_rate(self, *, mutating: bool) -> float:
        return sum(p for _, p in self.rates(mutating=mutating))


class Outage(BaseModel):
    """The service answers 503 to every request (or to ``endpoints`` only) during a window."""

    model_config = ConfigDict(extra="forbid")

    start_after: float = Field(0.0, ge=0)  # seconds after the config was applied
    duration: float = Field(..., gt=0)
    endpoints: list[str] | None = None  # None: the whole service


class FaultConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    default: EndpointFaults = Field(default_factory=EndpointFaults)
    endpoints: dict[str, EndpointFaults] = Field(default_factory=dict)  # keyed by the emulator's endpoint name
    outages: list[Outage] = Field(default_factory=list)

    @classmethod
    def uniform(cls, rate: float, *, seed: int = 0, ambiguous_rate: float = 0.0, **knobs: object) -> FaultConfig:
        """Spread a total failure ``rate`` over the failing kinds (UNIFORM_WEIGHTS) on every endpoint.

        ``ambiguous_rate`` is added on top for mutating requests. ``knobs`` set EndpointFaults fields such as
        ``hang_seconds`` or ``retry_after_seconds``.
        """
        if not 0 <= rate + ambiguous_rate <= 1:
            raise ValueError("rate + ambiguous_rate must be within [0, 1]")
        rates = {kind.value: rate * weight for kind, weight in UNIFORM_WEIGHTS.items()}
        return cls(seed=seed, default=EndpointFaults(**rates, ambiguous=ambiguous_rate, **knobs))

    def for_endpoint(self, endpoint: str) -> EndpointFaults:
        return self.endpoints.get(endpoint, self.default)


class RateLimitConfig(BaseModel):
    """Server-side token bucket: ``requests_per_second`` refill, ``burst`` capacity; None/0 disables it."""

    model_config = ConfigDict(extra="forbid")

    requests_per_second: float | None = Field(10.0, ge=0)
    burst: int = Field(10, ge=1)

    @property
    def enabled(self) -> bool:
        return bool(self.requests_per_second)


class FaultDecision(BaseModel):
    """What the emulator core must do with one request."""

    kind: FaultKind | None = None  # None: serve normally
    status: int | None = None
    retry_after: float | None = None
    retry_after_http_date: bool = False
    delay_seconds: float = 0.0  # slow: before answering; hang / ambiguous-hang: before closing
    loss: LossMode | None = None  # for ambiguous: how the committed response is lost

    @property
    def is_fault(self) -> bool:
        return self.kind is not None


NO_FAULT = FaultDecision()


class FaultInjector:
    """Turns a FaultConfig into per-request decisions. Thread-safe; reconfigurable at runtime."""

    def __init__(self, config: FaultConfig | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._streams: dict[tuple[str, str], tuple[threading.Lock, random.Random]] = {}
        self._manual_outages: list[tuple[float, float, frozenset[str] | None]] = []
        self.configure(config or FaultConfig())

    @property
    def config(self) -> FaultConfig:
        return self._config

    def configure(self, config: FaultConfig) -> None:
        """Apply a new config: RNG streams restart from the seed, scheduled outages count from now."""
        with self._lock:
            self._config = config
            self._applied_at = self._clock()
            self._streams = {}

    def _stream(self, service: str, endpoint: str) -> tuple[threading.Lock, random.Random]:
        key = (service, endpoint)
        with self._lock:
            stream = self._streams.get(key)
            if stream is None:
                # str seeds are hashed with SHA-512 by random.Random: stable across processes and PYTHONHASHSEED
                stream = (threading.Lock(), random.Random(f"{self._config.seed}:{service}:{endpoint}"))
                self._streams[key] = stream
            return stream

    def decide(self, service: str, endpoint: str, method: str) -> FaultDecision:
        faults = self._config.for_endpoint(endpoint)
        lock, rng = self._stream(service, endpoint)
        with lock:
            pick, detail = rng.random(), rng.random()  # always two draws, so the sequence never shifts
        kind = _pick_kind(faults.rates(mutating=method.upper() in MUTATING_METHODS), pick)
        if kind is None:
            return NO_FAULT
        if kind in (FaultKind.HTTP_429, FaultKind.THROTTLE):
            return FaultDecision(
                kind=kind,
                status=kind.status,
                retry_after=faults.retry_after_seconds,
                retry_after_http_date=detail < faults.retry_after_http_date,
            )
        if kind is FaultKind.SLOW:
            return FaultDecision(kind=kind, delay_seconds=faults.slow_seconds)
        if kind is FaultKind.HANG:
            return FaultDecision(kind=kind, delay_seconds=faults.hang_seconds)
        if kind is FaultKind.AMBIGUOUS:
            modes = faults.ambiguous_modes
            loss = modes[min(int(detail * len(modes)), len(modes) - 1)]
            return FaultDecision(
                kind=kind, loss=loss, status=503 if loss == "503" else None, delay_seconds=faults.hang_seconds
            )
        return FaultDecision(kind=kind, status=kind.status)

    def start_outage(self, seconds: float, *, endpoints: list[str] | None = None) -> None:
        """Begin an outage now (admin endpoint / tests), independent of the configured schedule."""
        now = self._clock()
        with self._lock:
            self._manual_outages.append((now, now + seconds, frozenset(endpoints) if endpoints else None))

    def end_outages(self) -> None:
        """End every outage begun with ``start_outage`` now (a test ends one on a condition, not on a clock)."""
        with self._lock:
            self._manual_outages = []

    def outage_remaining(self, endpoint: str) -> float | None:
        """Seconds left of an outage covering ``endpoint`` right now, or None when the endpoint is up."""
        now = self._clock()
        windows = [
            (self._applied_at + o.start_after, self._applied_at + o.start_after + o.duration,
             frozenset(o.endpoints) if o.endpoints else None)
            for o in self._config.outages
        ]
        with self._lock:
            self._manual_outages = [w for w in self._manual_outages if w[1] > now]
            windows += self._manual_outages
        remaining = [end - now for start, end, eps in windows if start <= now < end and (eps is None or endpoint in eps)]
        return max(remaining) if remaining else None


def _pick_kind(table: list[tuple[FaultKind, float]], u: float) -> FaultKind | None:
    cumulative = 0.0
    for kind, probability in table:
        cumulative += probability
        if u < cumulative:
            return kind
    return None


# ---------------------------------------------------------------------------------------------------- CLI flags


def add_fault_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags shared by the sandbox CLI (``python -m mailroom.sandbox up ...``)."""
    group = parser.add_argument_group("fault injection")
    group.add_argument("--fault-rate", type=float, default=0.0, help="total transient fault rate per request (0-1)")
    group.add_argument("--ambiguous-rate", type=float, default=0.0,
                       help="extra rate of POST/PUT 'commit then lose the response' faults (0-1)")
    group.add_argument("--fault-seed", type=int, default=0, help="seed of the fault sequences")
    group.add_argument("--retry-after", type=float, default=1.0, help="Retry-After seconds on injected 429s")
    group.add_argument("--hang-seconds", type=float, default=2.0, help="how long a hang lasts before the close")
    group.add_argument("--slow-seconds", type=float, default=0.5, help="delay of a slow response")
    group.add_argument("--outage", action="append", default=[], metavar="START:DURATION",
                       help="scheduled outage, seconds after start-up (repeatable), e.g. 60:120")
    group.add_argument("--faults-json", type=Path, default=None,
                       help="a full FaultConfig as JSON (overrides the other fault flags)")
    group.add_argument("--rate-limit", type=float, default=10.0, help="server-side requests/second (0 = off)")
    group.add_argument("--burst", type=int, default=10, help="server-side token bucket size")


def fault_config_from_args(ns: argparse.Namespace) -> FaultConfig:
    if ns.faults_json is not None:
        return FaultConfig.model_validate(json.loads(Path(ns.faults_json).read_text()))
    config = FaultConfig.uniform(
        ns.fault_rate,
        seed=ns.fault_seed,
        ambiguous_rate=ns.ambiguous_rate,
        retry_after_seconds=ns.retry_after,
        hang_seconds=ns.hang_seconds,
        slow_seconds=ns.slow_seconds,
    )
    config.outages = [_parse_outage(spec) for spec in ns.outage]
    return config


def rate_limit_from_args(ns: argparse.Namespace) -> RateLimitConfig:
    return RateLimitConfig(requests_per_second=ns.rate_limit or None, burst=ns.burst)


def _parse_outage(spec: str) -> Outage:
    try:
        start, duration = (float(part) for part in spec.split(":", 1))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--outage expects START:DURATION in seconds, got {spec!r}") from exc
    return Outage(start_after=start, duration=duration)


# ------------------------------------------------------------------------------------- server-side throttle + stats


class TokenBucket:
    """The emulated service's own rate limit. ``try_acquire`` never blocks: a refused request gets a 429."""

    def __init__(self, config: RateLimitConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = config.requests_per_second or 0.0
        self._capacity = float(config.burst)
        self._tokens = self._capacity
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def try_acquire(self) -> tuple[bool, float]:
        """(granted, seconds until a token is available)."""
        if not self._rate:
            return True, 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True, 0.0
            return False, (1.0 - self._tokens) / self._rate


class EmulatorStats:
    """Counters read by tests and benchmarks through ``GET /_sandbox/stats``."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: dict[str, dict[str, int]] = {}
        self._faults: dict[str, int] = {}
        self._faults_by_endpoint: dict[str, dict[str, int]] = {}
        self._throttled: dict[str, int] = {}
        self._window: deque[float] = deque()
        self._peak = 0
        self._requests = 0

    def arrival(self) -> None:
        """Count one API request; the sliding 1-second window gives the peak rate any client achieved."""
        now = self._clock()
        with self._lock:
            self._requests += 1
            self._window.append(now)
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            self._peak = max(self._peak, len(self._window))

    def record_call(self, endpoint: str, status: int | str) -> None:
        with self._lock:
            per_status = self._calls.setdefault(endpoint, {})
            per_status[str(status)] = per_status.get(str(status), 0) + 1

    def record_fault(self, endpoint: str, kind: str) -> None:
        with self._lock:
            self._faults[kind] = self._faults.get(kind, 0) + 1
            per_kind = self._faults_by_endpoint.setdefault(endpoint, {})
            per_kind[kind] = per_kind.get(kind, 0) + 1

    def record_throttle(self, endpoint: str) -> None:
        with self._lock:
            self._throttled[endpoint] = self._throttled.get(endpoint, 0) + 1

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "requests": self._requests,
                "calls": {ep: dict(s) for ep, s in self._calls.items()},
                "faults": dict(self._faults),
                "faults_by_endpoint": {ep: dict(k) for ep, k in self._faults_by_endpoint.items()},
                "throttled": sum(self._throttled.values()),
                "throttled_by_endpoint": dict(self._throttled),
                "max_requests_per_second": self._peak,
            }
