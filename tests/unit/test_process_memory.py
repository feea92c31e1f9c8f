"""The flow caps glibc's malloc arenas (mailroom.process_memory): checked in a fresh process, where nothing else set it."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import ctypes, ctypes.util, threading
from mailroom.process_memory import limit_malloc_arenas
assert limit_malloc_arenas(1)
# Threads that allocate at once would each get an arena; malloc_info lists every arena as a <heap nr=...> block.
libc = ctypes.CDLL(ctypes.util.find_library("c"))
def work():
    blocks = [bytearray(200_000) for _ in range(20)]
threads = [threading.Thread(target=work) for _ in range(6)]
[t.start() for t in threads]; [t.join() for t in threads]
libc.malloc_info(0, ctypes.c_void_p.in_dll(libc, "stdout"))
"""


def test_a_capped_process_keeps_one_arena_however_many_threads_allocate():
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.count("<heap nr=") == 1, out[:400]
