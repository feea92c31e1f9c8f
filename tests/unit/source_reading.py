"""What the project's source files say, read with ast in a fresh interpreter.

In a test worker whose earlier tests left threads running, CPython 3.11's ast.parse now and then raises a spurious
"AST constructor recursion depth mismatch" SystemError (python/cpython#106905, fixed in 3.12; seen here on two xdist
workers, in test_architecture and in test_errors). A child interpreter has no such threads.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_READ = """
import ast, json, sys
found = {}
for path in sys.argv[1:]:
    imports, classes = set(), []
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read(), filename=path)):
        if isinstance(node, ast.Import):
            imports.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imports.add(node.module.partition(".")[0])
        elif isinstance(node, ast.ClassDef):
            bases = [b.id if isinstance(b, ast.Name) else b.attr for b in node.bases
                     if isinstance(b, (ast.Name, ast.Attribute))]
            classes.append([node.lineno, node.name, bases])
    found[path] = {"imports": sorted(imports), "classes": classes}
print(json.dumps(found))
"""


def _read(paths: list[Path]) -> dict[Path, dict]:
    done = subprocess.run([sys.executable, "-c", _READ, *map(str, paths)], capture_output=True, text=True,
                          check=True, timeout=120)  # fmt: skip
    return {Path(path): facts for path, facts in json.loads(done.stdout).items()}


def imported_packages_of(paths: list[Path]) -> dict[Path, set[str]]:
    """Top-level names of everything each file imports (relative imports stay inside their own package)."""
    return {path: set(facts["imports"]) for path, facts in _read(paths).items()}


def classes_of(paths: list[Path]) -> dict[Path, list[tuple[int, str, list[str]]]]:
    """(line, name, base names) of every class each file defines."""
    return {path: [tuple(c) for c in facts["classes"]] for path, facts in _read(paths).items()}
