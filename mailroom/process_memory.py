"""Keeping a many-threaded flow process's memory close to what it uses.

glibc gives each thread that allocates at the same time as another its own malloc arena (up to 8 per core), and
memory freed in one arena is not reused by threads on another, so a flow running `concurrency` notices on as many
threads (plus Prefect's own) holds fragments of every arena. Measured (benchmarks/throughput.py, 100 notices, 20 %
scanned, concurrency 8, same machine one run after the other): peak RSS 556 MB with glibc's default, 488 MB with 2
arenas, and no slower. This is glibc's documented ``M_ARENA_MAX`` (the ``MALLOC_ARENA_MAX`` environment variable),
set from inside the process so that a run started from the Prefect UI or a worker gets it too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

logger = logging.getLogger(__name__)

_M_ARENA_MAX = -8  # glibc's malloc.h


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas for threads created from now on; False where there is no glibc (nothing changes)."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl, macOS: no mallopt, their allocators do not grow arenas per thread
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))
