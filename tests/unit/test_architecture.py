"""The arrows between packages point one way: flows -> tasks -> core (mailroom); sandbox -> core; never back.

Read from the source with ast (every import statement, also those inside functions), so a lazy import counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORWARDER = ROOT / "mailroom" / "sandbox"  # `python -m mailroom.sandbox`, kept for people and scripts


def imported_packages(path: Path) -> set[str]:
    """Top-level names of everything ``path`` imports (relative imports stay inside their own package)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def imports_of(package: str, *, skip: Path | None = None) -> dict[str, set[str]]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no modules under {package}/"
    return {str(f.relative_to(ROOT)): imported_packages(f) for f in files if skip is None or skip not in f.parents}


def test_the_reader_sees_every_kind_of_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import a.b\nfrom c.d import e\nfrom . import local\ndef f():\n    import g\n")
    assert imported_packages(module) == {"a", "c", "g"}


@pytest.mark.parametrize("forbidden", ["mailroom_sandbox", "prefect", "flows", "tasks", "blocks"])
def test_the_core_never_imports_the_sandbox_prefect_or_the_layers_above_it(forbidden):
    offenders = [path for path, names in imports_of("mailroom", skip=FORWARDER).items() if forbidden in names]
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
