"""The arrows between packages point one way: flows -> tasks -> core (mailroom); sandbox -> core; never back.

Read from the source with ast (every import statement, also those inside functions), so a lazy import counts too.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from tests.unit.source_reading import imported_packages_of

ROOT = Path(__file__).resolve().parents[2]
FORWARDER = ROOT / "mailroom" / "sandbox"  # `python -m mailroom.sandbox`, kept for people and scripts
COMMAND = ROOT / "mailroom" / "__main__.py"  # `python -m mailroom doctor`: forwards to blocks.doctor


def imported_packages(path: Path) -> set[str]:
    return imported_packages_of([path])[path]


@functools.cache
def imports_of(package: str, *, skip: tuple[Path, ...] = ()) -> dict[str, set[str]]:
    """Every module of ``package`` and what it imports, leaving out the forwarders in ``skip`` (a directory skips
    everything under it, a file itself)."""
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no modules under {package}/"
    kept = [f for f in files if not any(f == s or s in f.parents for s in skip)]
    return {str(f.relative_to(ROOT)): names for f, names in imported_packages_of(kept).items()}


def test_the_reader_sees_every_kind_of_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import a.b\nfrom c.d import e\nfrom . import local\ndef f():\n    import g\n")
    assert imported_packages(module) == {"a", "c", "g"}


@pytest.mark.parametrize("forbidden", ["mailroom_sandbox", "prefect", "flows", "tasks", "blocks"])
def test_the_core_never_imports_the_sandbox_prefect_or_the_layers_above_it(forbidden):
    offenders = [path for path, names in imports_of("mailroom", skip=(FORWARDER, COMMAND)).items()
                  if forbidden in names]
    assert offenders == []


@pytest.mark.parametrize("forbidden", ["prefect", "flows", "tasks", "blocks"])
def test_the_sandbox_depends_on_the_core_only(forbidden):
    offenders = [path for path, names in imports_of("mailroom_sandbox").items() if forbidden in names]
    assert offenders == []


def test_the_forwarding_entry_point_holds_nothing_but_the_forward():
    assert sorted(p.name for p in FORWARDER.glob("*.py")) == ["__init__.py", "__main__.py"]
    assert imported_packages(FORWARDER / "__init__.py") == set()
    assert imported_packages(FORWARDER / "__main__.py") <= {"sys", "mailroom_sandbox"}
    assert len((FORWARDER / "__main__.py").read_text().splitlines()) <= 15  # the forward + the missing-extra hint


def test_the_command_entry_point_only_forwards_to_the_doctor_in_blocks():
    # `python -m mailroom` must be a command of the product, yet what it runs loads Prefect blocks: the core's
    # __main__ holds nothing but the forward (and is never imported by the core itself).
    assert imported_packages(COMMAND) <= {"sys", "blocks"}
    assert len(COMMAND.read_text().splitlines()) <= 10
    modules = imports_of("mailroom", skip=(COMMAND,))
    importers = [path for path in modules if "mailroom.__main__" in (ROOT / path).read_text()]
    assert importers == []
