"""Reading IRS notices: ``extract_notice`` (file -> Notice) and the document naming convention."""

from __future__ import annotations

from pathlib import Path

from mailroom.notices.extract import extract_in_process, read_without_ocr
from mailroom.notices.model import (
    ExtractionError,
    ExtractionFailure,
    ExtractionLimits,
    FieldProvenance,
    FieldSource,
    LetterType,
    Notice,
)
from mailroom.notices.naming import document_name


def extract_notices(
    path: Path, *, file_name: str | None = None, limits: ExtractionLimits | None = None
) -> list[Notice]:
    """Every letter in the file (one Notice each, with its page range; a cover sheet is skipped). Raises
    ExtractionError (with ``.failure``) for a file that cannot be read.

    ``file_name`` is the name the file had in Drive (the local path may be a temp file); its hints fill fields the
    first letter does not give.
    """
    limits = limits or ExtractionLimits()
    path = Path(path)
    if limits.isolate:
        from mailroom.notices.isolation import extract_isolated

        return extract_isolated(path, file_name=file_name or path.name, limits=limits)
    return extract_in_process(path, file_name=file_name or path.name, limits=limits)


def extract_notice(path: Path, *, file_name: str | None = None, limits: ExtractionLimits | None = None) -> Notice:
    """The first (usually the only) letter of the file; ``extract_notices`` gives every letter."""
    return extract_notices(path, file_name=file_name, limits=limits)[0]


def read_text_layer(path: Path, *, file_name: str | None = None, limits: ExtractionLimits | None = None
                    ) -> list[Notice] | None:
    """``extract_notices`` without OCR: the letters when text layers are all there is, else None (it needs OCR).

    With ``limits.isolate`` (hostile files are read in a killable child) nothing is read here: None.
    """
    limits = limits or ExtractionLimits()
    if limits.isolate:
        return None
    return read_without_ocr(Path(path), file_name=file_name or Path(path).name, limits=limits)


__all__ = [
    "ExtractionError",
    "ExtractionFailure",
    "ExtractionLimits",
    "FieldProvenance",
    "FieldSource",
    "LetterType",
    "Notice",
    "document_name",
    "extract_notice",
    "read_text_layer",
    "extract_notices",
]
