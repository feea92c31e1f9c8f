"""Vendor error adapters: how a raw vendor exception reaches the classifier as one of our error classes.

mailroom's own clients map their vendor's errors where they meet the vendor (``DriveClient`` through
``mailroom.drive_errors``, ``LogiqsClient`` through ``mailroom.logiqs_errors``), so the policy around them only sees
``mailroom.errors`` classes. The guide's API is also called with functions that raise vendor exceptions themselves
(a caller's own ``request.execute()`` or ``response.raise_for_status()``). For those, ``classify`` asks the adapters:
first the mappings mailroom ships, then any a caller added with ``register_error_adapter``. An adapter is
``adapter(exc, *, idempotent: bool, now: float | None) -> MailroomError | None`` (None: not its vendor).

The shipped mappings are named here and imported on the first foreign exception, rather than registering
themselves when imported: how an ``HttpError`` is classified must not depend on whether something happened to
import ``mailroom.drive`` first, and importing ``mailroom.resilience`` must not import googleapiclient or requests.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from typing import Callable, Protocol

from mailroom.errors import MailroomError


class ErrorAdapter(Protocol):
    def __call__(self, exc: BaseException, *, idempotent: bool, now: float | None) -> MailroomError | None: ...


# "module:function". A module whose vendor library is not installed is skipped: none of its exceptions can occur.
SHIPPED_ADAPTERS = ("mailroom.drive_errors:translate", "mailroom.logiqs_errors:translate")

logger = logging.getLogger("mailroom.resilience")

_STANDARD_LIBRARY = frozenset(sys.stdlib_module_names)  # "builtins" included
_registered: list[ErrorAdapter] = []
_shipped: list[ErrorAdapter] | None = None
_lock = threading.Lock()  # guards _registered
_load_lock = threading.Lock()  # held while importing the shipped mappings (never while taking _lock)


def register_error_adapter(adapter: ErrorAdapter) -> Callable[[], None]:
    """Let ``classify`` map another vendor's exceptions; returns a remover."""
    with _lock:
        _registered.append(adapter)

    def remove() -> None:
        with _lock:
            if adapter in _registered:
                _registered.remove(adapter)

    return remove


def translate(exc: BaseException, *, idempotent: bool = True, now: float | None = None) -> MailroomError | None:
    """The first adapter's translation of a foreign exception, or None when no adapter knows it.

    A standard-library exception is nobody's vendor exception: it is never offered (nor loads the mappings). An
    adapter that fails is logged and skipped.
    """
    if type(exc).__module__.partition(".")[0] in _STANDARD_LIBRARY:
        return None
    for adapter in (*_shipped_adapters(), *_registered):
        try:
            translation = adapter(exc, idempotent=idempotent, now=now)
        except Exception:  # noqa: BLE001 - an adapter's bug must not replace the caller's exception
            logger.warning("error adapter %r failed on %s; ignored", getattr(adapter, "__name__", adapter),
                           type(exc).__name__, exc_info=True)
            continue
        if translation is not None:
            return translation
    return None


def _shipped_adapters() -> list[ErrorAdapter]:
    global _shipped
    if _shipped is None:
        with _load_lock:
            if _shipped is None:
                _shipped = [adapter for spec in SHIPPED_ADAPTERS if (adapter := _load(spec)) is not None]
    return _shipped


def _load(spec: str) -> ErrorAdapter | None:
    module_name, _, function = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as missing:
        if (missing.name or "").split(".")[0] == module_name.split(".")[0]:
            raise  # our own module is missing: a packaging bug, not an absent vendor
        return None
    return getattr(module, function)
