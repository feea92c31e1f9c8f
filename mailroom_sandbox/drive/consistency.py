"""Eventual consistency of Drive listings: files.list answers from an index that lags behind writes.

Real Drive documents no bound, and integrators report that a file just created, moved or trashed can be missing
from (or still present in) ``files.list`` results for a few seconds, while ``files.get`` on its id is immediate.
``ListingLag`` reproduces that: every write made while a lag is set is remembered with the time it happened, and a
listing sees each file as it was ``lag`` seconds ago -- a file created since is absent, a file moved since is still
listed under its old parent (with its old ``parents``) and not yet under the new one.

Only writes made while the lag is non-zero are remembered, so a sandbox seeded before the lag is switched on lists its
seeded state at once ("it was there yesterday"), and a lag of 0 costs nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Protocol, TypeVar


class _Versioned(Protocol):
    id: str
    parents: list[str]


V = TypeVar("V", bound=_Versioned)
_BEFORE_TIME = float("-inf")  # the state a file had before the first write we remember


class ListingLag:
    """Per-file history of listing-relevant states, for as long as the lag needs it. Thread-safe."""

    def __init__(self, seconds: float = 0.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        if seconds < 0:
            raise ValueError("a listing lag cannot be negative")
        self.seconds = float(seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._history: dict[str, list[tuple[float, V | None]]] = {}  # type: ignore[valid-type]

    def set(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a listing lag cannot be negative")
        with self._lock:
            self.seconds = float(seconds)
            if not seconds:
                self._history.clear()

    def written(self, before: V | None, after: V) -> None:
        """Remember a write: ``before`` is the file's state until now (None: it did not exist), ``after`` its new one.

        Both are copied, so later in-place changes to the live object do not rewrite history."""
        if not self.seconds:
            return
        now = self._clock()
        with self._lock:
            history = self._history.get(after.id)
            if history is None:
                history = self._history[after.id] = [(_BEFORE_TIME, _copy(before))]
            history.append((now, _copy(after)))

    def visible(self, current: Iterable[V]) -> list[V]:
        """What a listing sees now: each file as it was ``seconds`` ago; files that did not exist then are left out."""
        files = list(current)
        if not self.seconds:
            return files
        cutoff = self._clock() - self.seconds
        seen: list[V] = []
        with self._lock:
            for stored in files:
                history = self._history.get(stored.id)
                if history is None:
                    seen.append(stored)
                    continue
                settled = [entry for entry in history if entry[0] <= cutoff]
                state = settled[-1][1]
                if len(settled) == len(history):
                    del self._history[stored.id]  # caught up: the index shows the file as it is
                else:
                    history[: len(settled) - 1] = []  # older states can never be shown again
                if state is not None:
                    seen.append(state)
        return seen

    def pending(self) -> int:
        """Files whose latest write the listings do not show yet (stats)."""
        cutoff = self._clock() - self.seconds
        with self._lock:
            return sum(1 for history in self._history.values() if history[-1][0] > cutoff)


def _copy(stored: V | None) -> V | None:
    return None if stored is None else replace(stored, parents=list(stored.parents))  # type: ignore[type-var]
