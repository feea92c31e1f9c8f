"""Where a run keeps the notices it downloaded: a private directory inside the state dir, never the shared temp dir.

A downloaded notice holds a full SSN. So its bytes live in ``<state_dir>/work/run-<id>-<random>/`` (directories
0700, like the ledger's), and the directory is removed when the run ends, whatever happens. A run that is killed
(``kill -9``, power loss, OOM) cannot remove its own: the next run does, before it downloads anything
(``sweep_dead``).

How a run is known to be dead: each work dir holds a ``.lock`` file that its run keeps locked (``flock``) for its
whole life. The kernel drops the lock when the process dies, however it dies, so "I can take the lock" means
"nobody is using this directory", with no pid to be reused and no clock to trust. A directory with no lock file
yet (a run between creating it and locking it) is left alone for ``UNLOCKED_GRACE_SECONDS``.

Older mailroom versions kept downloads in ``$TMPDIR/mailroom-run-*``; ``sweep_legacy`` removes such directories of
this user once they are a day old (they carry no lock, so age is the only safe sign that their run is over).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import socket
import tempfile
import time
from pathlib import Path
from types import TracebackType

logger = logging.getLogger(__name__)

WORK_DIR_NAME = "work"
RUN_PREFIX = "run-"
LOCK_NAME = ".lock"
LEGACY_PREFIX = "mailroom-run-"
UNLOCKED_GRACE_SECONDS = 60.0
LEGACY_MAX_AGE_SECONDS = 24 * 3600.0


def work_root(state_dir: Path) -> Path:
    """``<state_dir>/work``, created 0700 (and tightened to 0700 if someone loosened it)."""
    root = Path(state_dir) / WORK_DIR_NAME
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    if root.stat().st_mode & 0o077 and root.stat().st_uid == os.getuid():
        os.chmod(root, 0o700)
    return root


class RunWorkdir:
    """This run's private directory: created and locked on enter, removed on exit.

        with RunWorkdir(state_dir, owner=flow_run_id) as workdir:
            drive.download(file_id, workdir / f"{file_id}.pdf")
    """

    def __init__(self, state_dir: Path, owner: str) -> None:
        self.state_dir = Path(state_dir)
        self.owner = owner
        self.path: Path | None = None
        self._lock_fd: int | None = None

    def __enter__(self) -> Path:
        label = re.sub(r"[^A-Za-z0-9]+", "", self.owner)[:12] or "run"
        path = Path(tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{label}-", dir=work_root(self.state_dir)))  # 0700
        fd = os.open(path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            holder = {"owner": self.owner, "host": socket.gethostname(), "pid": os.getpid(), "started": time.time()}
            os.write(fd, json.dumps(holder).encode())  # for a person looking at the directory; ids only
        except BaseException:
            os.close(fd)
            shutil.rmtree(path, ignore_errors=True)
            raise
        self.path, self._lock_fd = path, fd
        return path

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # after the removal: no sweeper can take the directory while we delete it
        self.path = self._lock_fd = None


def sweep_dead(state_dir: Path, *, now: float | None = None) -> list[str]:
    """Remove the work dirs of runs that are no longer alive; returns their names (no taxpayer data in them)."""
    now = time.time() if now is None else now
    root = Path(state_dir) / WORK_DIR_NAME
    if not root.is_dir():
        return []
    removed = []
    for path in sorted(root.glob(f"{RUN_PREFIX}*")):
        if path.is_dir() and not path.is_symlink() and _remove_if_unheld(path, now):
            removed.append(path.name)
    if removed:
        logger.info("removed %d work dir(s) left by runs that died: %s", len(removed), ", ".join(removed))
    return removed


def _remove_if_unheld(path: Path, now: float) -> bool:
    try:
        fd = os.open(path / LOCK_NAME, os.O_RDWR | os.O_NOFOLLOW)
    except FileNotFoundError:
        try:
            young = now - path.stat().st_mtime < UNLOCKED_GRACE_SECONDS
        except FileNotFoundError:
            return False  # another sweeper removed it
        if young:
            return False  # its run is between creating and locking it
        shutil.rmtree(path, ignore_errors=True)
        return True
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False  # its run is alive
    try:
        shutil.rmtree(path, ignore_errors=True)  # still holding the lock: nobody can adopt it meanwhile
    finally:
        os.close(fd)
    return True


def sweep_legacy(temp_dir: Path | None = None, *, now: float | None = None,
                 max_age_seconds: float = LEGACY_MAX_AGE_SECONDS) -> list[str]:
    """Remove this user's ``mailroom-run-*`` directories in the temp dir (older versions' downloads) once old."""
    now = time.time() if now is None else now
    temp_dir = Path(temp_dir or tempfile.gettempdir())
    removed = []
    for path in sorted(temp_dir.glob(f"{LEGACY_PREFIX}*")):
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue
        if path.is_dir() and not path.is_symlink() and info.st_uid == os.getuid() \
                and now - info.st_mtime >= max_age_seconds:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    if removed:
        logger.info("removed %d download dir(s) an older mailroom left in %s", len(removed), temp_dir)
    return removed
