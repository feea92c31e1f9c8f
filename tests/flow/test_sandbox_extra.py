"""`--sandbox` without the optional sandbox extra: a clear message on how to install it, exit 2, no traceback.

The extra is installed here, so its absence is simulated: a finder ahead of all others, or ``sys.modules[name] =
None`` in a child process, makes ``import name`` raise ModuleNotFoundError as a missing distribution does.
"""

from __future__ import annotations

import importlib.abc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import sandbox_unavailable

ROOT = Path(__file__).resolve().parents[2]
INSTALL_HINTS = ("pip install 'mailroom[sandbox]'", "bash scripts/install.sh")


def test_nothing_is_missing_when_the_extra_is_installed():
    assert sandbox_unavailable() is None


class Absent(importlib.abc.MetaPathFinder):
    """Imports of these top-level names fail as if they were not installed."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def test_a_missing_sandbox_package_gets_the_install_hint(monkeypatch):
    for name in [name for name in sys.modules if name.partition(".")[0] == "mailroom_sandbox"]:
        monkeypatch.delitem(sys.modules, name)  # put back when the test ends
    monkeypatch.setattr(sys, "meta_path", [Absent("mailroom_sandbox"), *sys.meta_path])
    message = sandbox_unavailable()
    assert message is not None and "mailroom_sandbox is not installed" in message
    assert all(hint in message for hint in INSTALL_HINTS)


def test_a_missing_module_of_our_own_is_a_bug_not_a_missing_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mailroom_sandbox.stack", None)
    with pytest.raises(ModuleNotFoundError):
        sandbox_unavailable()


def test_daily_py_sandbox_without_the_extra_says_how_to_install_it_and_exits_2(tmp_path):
    """As a person runs it (flows/daily.py as __main__), with faker -- a library only the extra brings -- absent.
    The check comes before anything else: no Prefect server is started (the API URL points at nothing)."""
    script = ("import runpy, sys; sys.modules['faker'] = None; sys.argv = ['flows/daily.py', '--sandbox'];"
              f"runpy.run_path({str(ROOT / 'flows' / 'daily.py')!r}, run_name='__main__')")
    env = {**os.environ, "PREFECT_API_URL": "http://127.0.0.1:9/api", "PREFECT_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "faker is not installed" in done.stderr and all(hint in done.stderr for hint in INSTALL_HINTS)
    assert "Prefect server" not in done.stdout
