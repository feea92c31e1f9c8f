"""Tesseract in memory: its C API (Debian ``libtesseract5``) through ctypes, pixels in, words with boxes out.

Why not the command line (pytesseract): pytesseract writes the page image and Tesseract's output to files in the
system temp dir, and a process killed mid-OCR leaves them there with the taxpayer's full SSN in them. Here the
pixels we rendered go to the library as a buffer and the TSV comes back as a string: nothing touches a disk. A
side effect measured in benchmarks/extraction.py: the model is loaded once per engine instead of once per page
(~0.17 s CPU per call saved), which lets the reader OCR small strips of a page cheaply.

Tesseract never parses the (hostile) file: it sees only the grayscale buffer PyMuPDF rendered. A TessBaseAPI is not
thread-safe, so a thread borrows an engine from a pool for one page and gives it back: there are only ever as many
engines as OCRs that ran at once. (An engine per thread grew a flow by ~30 MB per new thread for good: the task
runner's threads come and go, and 179 notices took the flow to 1.1 GB.) ctypes releases the GIL while Tesseract
works.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from mailroom.errors import ConfigurationError, ExtractionError, ExtractionFailure

# Tesseract's OpenMP threads oversubscribe a shared 2-core runner and were slower in our measurements than one thread
# per page (parallelism belongs to the flow's task runner). libgomp reads this when the library is loaded.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

_LIBRARY_NAMES = ("libtesseract.so.5", "libtesseract.so")
_OEM_LSTM_ONLY = 1
_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_engines: list["_Engine"] = []  # every engine made, ended at exit (else Tesseract reports its caches "leaked")
_idle: list["_Engine"] = []  # engines no thread is using right now
# OCR is CPU-bound (one OpenMP thread each): more OCRs at once than cores only add engines (~30 MB each), not speed.
# The flow runs `concurrency` notices at once (8 by default); their OCRs take turns on this many engines.
MAX_ENGINES = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
_engine_slots = threading.BoundedSemaphore(MAX_ENGINES)
# Waiting for a slot is not the document's own work: a document's time budget leaves it out (``queue_wait_seconds``),
# else a scan queued behind others timed out on a busy run (3 of 26 scans at 8 notices at once, measured). The wait
# has its own, longer bound.
ENGINE_QUEUE_TIMEOUT_SECONDS = 600.0
_queue_waits = threading.local()
# Test hooks: called with "pixels" once the page is handed to Tesseract and with "text" once its words exist, so a
# test can kill the process at a known point of an OCR (never used by the product).
_hooks: list[Callable[[str], None]] = []


def add_ocr_hook(hook: Callable[[str], None]) -> None:
    _hooks.append(hook)


def clear_ocr_hooks() -> None:
    _hooks.clear()


@dataclass(frozen=True)
class Word:
    """One recognised word: text, Tesseract confidence 0-100, box in image pixels, and its line's identity."""

    text: str
    conf: float
    left: int
    top: int
    width: int
    height: int
    line: tuple[int, int, int]  # (block, paragraph, line) as Tesseract numbered them

    @property
    def bottom(self) -> int:
        return self.top + self.height

    @property
    def right(self) -> int:
        return self.left + self.width


def _library() -> ctypes.CDLL:
    global _lib
    with _lock:
        if _lib is not None:
            return _lib
        path = next((name for name in _LIBRARY_NAMES if _loadable(name)), None) or ctypes.util.find_library("tesseract")
        if path is None:
            raise ConfigurationError(
                "Tesseract OCR is not installed (Debian packages tesseract-ocr and libtesseract5; see "
                "scripts/install.sh)", service="extraction", operation="ocr",
            )  # fmt: skip
        lib = ctypes.CDLL(path)
        p, i, c = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
        signatures = {
            "TessBaseAPICreate": (p, []),
            "TessBaseAPIInit2": (i, [p, c, c, i]),
            "TessBaseAPISetPageSegMode": (None, [p, i]),
            "TessBaseAPISetVariable": (i, [p, c, c]),
            "TessBaseAPISetImage": (None, [p, c, i, i, i, i]),
            "TessBaseAPISetSourceResolution": (None, [p, i]),
            "TessBaseAPIRecognize": (i, [p, p]),
            "TessBaseAPIGetTsvText": (p, [p, i]),
            "TessBaseAPIClear": (None, [p]),
            "TessBaseAPIEnd": (None, [p]),
            "TessBaseAPIDelete": (None, [p]),
            "TessDeleteText": (None, [p]),
            "TessMonitorCreate": (p, []),
            "TessMonitorDelete": (None, [p]),
            "TessMonitorSetDeadlineMSecs": (None, [p, i]),
        }
        for name, (restype, argtypes) in signatures.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
        _lib = lib
        return lib


def _loadable(name: str) -> bool:
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


class _Engine:
    """One initialised TessBaseAPI (English, LSTM), reused for every page this thread reads."""

    def __init__(self) -> None:
        self.lib = _library()
        self.handle = self.lib.TessBaseAPICreate()
        if self.lib.TessBaseAPIInit2(self.handle, None, b"eng", _OEM_LSTM_ONLY) != 0:
            raise ConfigurationError(
                "Tesseract's English model is missing (Debian package tesseract-ocr-eng)",
                service="extraction", operation="ocr",
            )  # fmt: skip
        # Checking every line for white-on-black text cost ~15 % of the time on our notices, which print none.
        self.lib.TessBaseAPISetVariable(self.handle, b"tessedit_do_invert", b"0")
        # Tesseract prints diagnostics ("Detected 74 diacritics") to stderr; they say nothing to an operator.
        self.lib.TessBaseAPISetVariable(self.handle, b"debug_file", os.devnull.encode())
        with _lock:
            _engines.append(self)

    def close(self) -> None:
        self.lib.TessBaseAPIEnd(self.handle)
        self.lib.TessBaseAPIDelete(self.handle)

    def words(self, pixels: bytes, width: int, height: int, *, dpi: int, psm: int, timeout_seconds: float,
              whitelist: str = "") -> list[Word]:  # fmt: skip
        lib, handle = self.lib, self.handle
        lib.TessBaseAPISetPageSegMode(handle, psm)
        lib.TessBaseAPISetVariable(handle, b"tessedit_char_whitelist", whitelist.encode())  # "" = every character
        lib.TessBaseAPISetImage(handle, pixels, width, height, 1, width)
        lib.TessBaseAPISetSourceResolution(handle, dpi)
        monitor = lib.TessMonitorCreate()
        try:
            lib.TessMonitorSetDeadlineMSecs(monitor, max(1, int(timeout_seconds * 1000)))
            for hook in list(_hooks):
                hook("pixels")
            started = time.monotonic()
            status = lib.TessBaseAPIRecognize(handle, monitor)
            if time.monotonic() - started >= timeout_seconds:
                raise TimeoutError("OCR deadline passed")
            if status != 0:
                return []
            raw = lib.TessBaseAPIGetTsvText(handle, 0)
            try:
                tsv = ctypes.string_at(raw).decode("utf-8", "replace") if raw else ""
            finally:
                if raw:
                    lib.TessDeleteText(raw)
            for hook in list(_hooks):
                hook("text")
        finally:
            lib.TessMonitorDelete(monitor)
            lib.TessBaseAPIClear(handle)  # forget the page (and its text) at once
        return _parse_tsv(tsv)


@atexit.register
def _end_engines() -> None:
    with _lock:
        engines, _engines[:], _idle[:] = list(_engines), [], []
    for engine in engines:
        engine.close()


def _parse_tsv(tsv: str) -> list[Word]:
    words = []
    for row in tsv.splitlines():
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue  # level 5 = word; other levels are page/block/paragraph/line boxes
        words.append(Word(
            text=cells[11].strip(), conf=float(cells[10]), left=int(cells[6]), top=int(cells[7]),
            width=int(cells[8]), height=int(cells[9]), line=(int(cells[2]), int(cells[3]), int(cells[4])),
        ))  # fmt: skip
    return words


def queue_wait_seconds() -> float:
    """Seconds this thread has waited for an OCR engine so far (a document is read in one thread: its budget
    subtracts what this grew by while it was read)."""
    return getattr(_queue_waits, "seconds", 0.0)


def recognize_words(pixels: bytes, width: int, height: int, *, dpi: int, psm: int, timeout_seconds: float,
                    whitelist: str = "") -> list[Word]:  # fmt: skip
    """Words of an 8-bit grayscale image (``width`` bytes per row), made of ``whitelist``'s characters only when it is
    given (engines are shared: every call sets it, so an empty one lifts the last caller's). Raises TimeoutError past
    ``timeout_seconds`` of its own work (waiting for a free engine does not count: ``queue_wait_seconds``); an
    ExtractionError (TIMEOUT) when no engine came free within ``ENGINE_QUEUE_TIMEOUT_SECONDS`` (far more scans at
    once than cores)."""
    if timeout_seconds <= 0:
        raise TimeoutError("OCR deadline passed before the page was read")
    waited_from = time.monotonic()
    acquired = _engine_slots.acquire(timeout=ENGINE_QUEUE_TIMEOUT_SECONDS)
    _queue_waits.seconds = queue_wait_seconds() + (time.monotonic() - waited_from)
    if not acquired:
        raise ExtractionError(ExtractionFailure.TIMEOUT,
                              f"OCR not started: no OCR engine came free within {ENGINE_QUEUE_TIMEOUT_SECONDS:.0f} s")
    try:
        with _lock:
            engine = _idle.pop() if _idle else None
        if engine is None:
            engine = _Engine()
        try:
            return engine.words(pixels, width, height, dpi=dpi, psm=psm, timeout_seconds=timeout_seconds,
                                whitelist=whitelist)  # fmt: skip
        finally:
            with _lock:
                _idle.append(engine)
    finally:
        _engine_slots.release()


def engine_count() -> int:
    """Engines made so far in this process (each holds the model, ~30 MB): at most the OCRs that ran at once."""
    with _lock:
        return len(_engines)
