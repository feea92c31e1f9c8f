"""mailroom.errors holds every error class, and its docstring's tree is the hierarchy as it really is."""

from __future__ import annotations

import builtins
import inspect
import re
from pathlib import Path

import mailroom
from mailroom import errors
from tests.unit.source_reading import classes_of

PACKAGE = Path(mailroom.__file__).parent
# The sandbox's emulator-internal errors (a bad Drive query, a refused token) are not mailroom's: it is moving out of
# the package into mailroom_sandbox/.
NOT_PRODUCT = ("sandbox",)


def error_classes() -> dict[str, type[BaseException]]:
    return {
        name: obj
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == errors.__name__
    }


def test_no_module_outside_errors_defines_an_exception():
    builtin_exceptions = {n for n, o in vars(builtins).items() if inspect.isclass(o) and issubclass(o, BaseException)}
    exception_names = builtin_exceptions | set(error_classes())
    offenders = []
    paths = [path for path in PACKAGE.rglob("*.py")
             if path.relative_to(PACKAGE).parts[0] not in NOT_PRODUCT and path.name != "errors.py"]  # fmt: skip
    for path, classes in classes_of(paths).items():
        for line, name, bases in classes:
            if set(bases) & exception_names or any(re.search(r"(Error|Exception)$", b) for b in bases):
                offenders.append(f"{path.relative_to(PACKAGE)}:{line} {name}")
    assert offenders == []


def test_the_docstring_tree_draws_every_class_under_its_real_parent_with_its_class():
    drawn: dict[str, tuple[str, str]] = {}  # class -> (parent, ErrorClass column)
    parents: list[str] = []
    root_column = None
    for line in errors.__doc__.splitlines():
        match = re.search(r"(?:^\s*|── )(?P<name>[A-Z]\w+)(?:\s*\.*\s*(?P<kind>[A-Z]+\b|\(kept\)))?", line)
        if not match or ("──" not in line and match.group("name") != "Exception"):
            continue  # prose and continuation lines
        column = match.start("name")
        root_column = column if root_column is None else root_column
        depth = (column - root_column) // 4
        parents[depth:] = [match.group("name")]
        if depth:
            drawn[match.group("name")] = (parents[depth - 1], match.group("kind") or "")
    classes = error_classes()
    assert set(drawn) == set(classes)
    for name, (parent, kind) in drawn.items():
        cls = classes[name]
        assert cls.__bases__[0].__name__ == parent, name
        if kind != "(kept)":
            assert cls.error_class.name == kind, name


def test_old_import_paths_still_give_the_same_classes():
    from mailroom.ledger import LeaseLostError as from_ledger
    from mailroom.ledger_records import LeaseLostError as from_records
    from mailroom.notices import ExtractionError as from_notices
    from mailroom.notices import ExtractionFailure as failure_from_notices
    from mailroom.notices.model import ExtractionError as from_model

    assert from_ledger is from_records is errors.LeaseLostError
    assert from_notices is from_model is errors.ExtractionError
    assert failure_from_notices is errors.ExtractionFailure


def test_extraction_error_keeps_its_failure_and_reason():
    exc = errors.ExtractionError(errors.ExtractionFailure.ENCRYPTED, "PDF is password-protected")
    assert exc.failure is errors.ExtractionFailure.ENCRYPTED and exc.reason == "ENCRYPTED"
    assert isinstance(exc, errors.PermanentError) and not exc.retryable
