"""extract_notice: file -> Notice, text layer first, OCR for pages without usable text, file name as a fallback.

The document text (which may contain a full SSN) lives only inside this module's functions: it is never logged,
never put in an exception, never returned. Logs carry page counts, sources and timings only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pymupdf

from mailroom.notices.filename_hints import FILE_NAME_CONFIDENCE, hints_from_file_name
from mailroom.notices.model import (
    RESPONSE_WINDOW_DAYS,
    ExtractionError,
    ExtractionFailure,
    ExtractionLimits,
    FieldProvenance,
    FieldSource,
    LetterType,
    Notice,
)
from mailroom.notices.names import find_names
from mailroom.notices.ocr import ocr_page
from mailroom.notices.parse import (
    Found,
    find_amount_due,
    find_aur_control_number,
    find_letter_type,
    find_notice_date,
    find_response_due_date,
    find_tax_year,
    normalize_text,
)
from mailroom.notices.ssn import find_ssn_last4
from mailroom.notices.text_layer import is_usable, open_document, page_text, read_checked_bytes

logger = logging.getLogger(__name__)

OCR_CONFIDENCE_FACTOR = 0.9  # OCR output is noisier than a text layer; the same parse is worth a bit less
DERIVED_DUE_CONFIDENCE = 0.7
# Fields every notice type prints; OCR stops early once they are all found (fields live on the first pages).
_CORE_FIELDS = ("letter_type", "tax_year", "notice_date", "taxpayer_last_name", "ssn_last4", "amount_due")
_AUR_LETTERS = (LetterType.CP2000, LetterType.CP2501, LetterType.CP3219A)


def _parse_fields(text: str) -> dict[str, Found[Any]]:
    """Every field this text gives, keyed by Notice field name."""
    found: dict[str, Found[Any]] = {}
    simple: dict[str, Callable[[str], Found[Any] | None]] = {
        "letter_type": find_letter_type,
        "tax_year": find_tax_year,
        "notice_date": find_notice_date,
        "response_due_date": find_response_due_date,
        "ssn_last4": find_ssn_last4,
        "aur_control_number": find_aur_control_number,
        "amount_due": find_amount_due,
    }
    for field_name, parser in simple.items():
        result = parser(text)
        if result is not None:
            found[field_name] = result
    names = find_names(text)
    if names is not None:
        found["taxpayer_first_name"] = Found(names.value.taxpayer.first, names.confidence)
        found["taxpayer_last_name"] = Found(names.value.taxpayer.last, names.confidence)
        if names.value.spouse is not None:
            found["spouse_first_name"] = Found(names.value.spouse.first, names.confidence)
            found["spouse_last_name"] = Found(names.value.spouse.last, names.confidence)
    return found


TRUSTED_CONFIDENCE = 0.9  # a parse below this (unlabelled guess, OCR repair) keeps OCR looking at later pages
_NAME_GROUP = ("taxpayer_first_name", "taxpayer_last_name", "spouse_first_name", "spouse_last_name")


def _complete(found: dict[str, Found[Any]]) -> bool:
    """Every field this letter type prints is known with trusted confidence (so later pages cannot add anything)."""
    letter = found.get("letter_type")
    required = list(_CORE_FIELDS)
    if letter is not None and letter.value is LetterType.CP2501:
        required.remove("amount_due")  # CP2501 asks for an explanation; it states no amount
    if letter is not None and letter.value in _AUR_LETTERS:
        required.append("aur_control_number")
    return all(name in found and found[name].confidence >= TRUSTED_CONFIDENCE for name in required)


def _merge_pages(per_page: list[dict[str, Found[Any]]]) -> dict[str, Found[Any]]:
    """Per field, the most confident page wins (the earlier one on ties): a clean "Amount due" on the response form
    beats an OCR-repaired one on page 1. Names move as a group so a taxpayer and a spouse come from one line."""
    merged: dict[str, Found[Any]] = {}
    for found in per_page:
        for name, result in found.items():
            if name not in _NAME_GROUP and (name not in merged or result.confidence > merged[name].confidence):
                merged[name] = result
        names, best = found.get("taxpayer_last_name"), merged.get("taxpayer_last_name")
        if names is not None and (best is None or names.confidence > best.confidence):
            for name in _NAME_GROUP:
                merged.pop(name, None)
                if name in found:
                    merged[name] = found[name]
    return merged


class _Reader:
    """Reads the pages of one open document within the time budget."""

    def __init__(self, document: pymupdf.Document, limits: ExtractionLimits, deadline: float) -> None:
        self.document, self.limits, self.deadline = document, limits, deadline
        self.text_pages: list[str] = []
        self.scanned_pages: list[int] = []
        self.ocr_pages: list[str] = []

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def _check_time(self, stage: str) -> None:
        if self.remaining() <= 0:
            raise ExtractionError(
                ExtractionFailure.TIMEOUT,
                f"time budget of {self.limits.time_budget_seconds:.1f} s spent during {stage}",
            )

    def read_text_layer(self) -> None:
        for page in self.document:
            self._check_time("text extraction")
            text = page_text(page)
            if is_usable(text):
                self.text_pages.append(normalize_text(text))
            else:
                self.scanned_pages.append(page.number)

    def read_ocr(self, text_layer_found: dict[str, Found[Any]]) -> dict[str, Found[Any]]:
        per_page: list[dict[str, Found[Any]]] = []
        found: dict[str, Found[Any]] = {}
        for page_number in self.scanned_pages[: self.limits.ocr_max_pages]:
            self._check_time("OCR")
            page = self.document[page_number]
            self.ocr_pages.append(normalize_text(ocr_page(page, self.limits, timeout_seconds=self.remaining())))
            per_page.append(_parse_fields(self.ocr_pages[-1]))
            found = _merge_pages(per_page)
            if _complete({**found, **text_layer_found}):
                break
        return found


def _provenance(found: Found[Any], source: FieldSource, factor: float = 1.0) -> FieldProvenance:
    return FieldProvenance(confidence=round(found.confidence * factor, 3), source=source)


def _merge(notice_values: dict[str, Any], fields: dict[str, FieldProvenance], found: dict[str, Found[Any]],
           source: FieldSource, factor: float = 1.0) -> None:  # fmt: skip
    for field_name, result in found.items():
        if field_name not in notice_values:
            notice_values[field_name] = result.value
            fields[field_name] = _provenance(result, source, factor)


def _apply_file_name_hints(values: dict[str, Any], fields: dict[str, FieldProvenance], file_name: str | None) -> None:
    hints = hints_from_file_name(file_name)
    hinted = {
        "letter_type": hints.letter_type,
        "notice_date": hints.notice_date,
        "taxpayer_last_name": hints.last_name,
        "tax_year": hints.tax_year,
    }
    for field_name, value in hinted.items():
        if value is None:
            continue
        if field_name not in values or fields[field_name].confidence < FILE_NAME_CONFIDENCE:
            values[field_name] = value
            fields[field_name] = FieldProvenance(confidence=FILE_NAME_CONFIDENCE, source=FieldSource.FILE_NAME)


def _derive_due_date(values: dict[str, Any], fields: dict[str, FieldProvenance]) -> None:
    if "response_due_date" in values or "notice_date" not in values:
        return
    window = RESPONSE_WINDOW_DAYS[values.get("letter_type", LetterType.OTHER)]
    values["response_due_date"] = values["notice_date"] + timedelta(days=window)
    values["response_due_derived"] = True
    base = fields["notice_date"].confidence
    fields["response_due_date"] = FieldProvenance(
        confidence=round(base * DERIVED_DUE_CONFIDENCE, 3), source=FieldSource.DERIVED
    )


def extract_in_process(path: Path, *, file_name: str | None, limits: ExtractionLimits) -> Notice:
    notice = _extract(path, file_name=file_name, limits=limits, ocr=True)
    assert notice is not None  # with OCR allowed there is always an answer (or an ExtractionError)
    return notice


def read_without_ocr(path: Path, *, file_name: str | None, limits: ExtractionLimits) -> Notice | None:
    """The notice from its text layer alone, or None when reading it needs OCR: a scan, or a text layer that lacks
    fields a scanned page may hold. Cheap (no page is rendered): what a run reads first to order its notices."""
    return _extract(path, file_name=file_name, limits=limits, ocr=False)


def _extract(path: Path, *, file_name: str | None, limits: ExtractionLimits, ocr: bool) -> Notice | None:
    started = time.monotonic()
    data = read_checked_bytes(path, limits)
    document = open_document(data, limits)
    try:
        reader = _Reader(document, limits, started + limits.time_budget_seconds)
        reader.read_text_layer()
        text_found = _parse_fields("\n".join(reader.text_pages)) if reader.text_pages else {}
        ocr_found: dict[str, Found[Any]] = {}
        if reader.scanned_pages and not _complete(text_found):
            if not ocr:
                return None
            ocr_found = reader.read_ocr(text_found)
        page_count = document.page_count
    finally:
        document.close()
    if not reader.text_pages and not any(page.strip() for page in reader.ocr_pages):
        raise ExtractionError(ExtractionFailure.NO_TEXT, f"no readable text on any of {page_count} page(s)")
    values: dict[str, Any] = {}
    fields: dict[str, FieldProvenance] = {}
    _merge(values, fields, text_found, FieldSource.TEXT_LAYER)
    _merge(values, fields, ocr_found, FieldSource.OCR, OCR_CONFIDENCE_FACTOR)
    _apply_file_name_hints(values, fields, file_name)
    _derive_due_date(values, fields)
    notice = Notice(**values, page_count=page_count, ocr_pages=len(reader.ocr_pages), fields=fields)
    logger.debug(
        "extracted notice: pages=%d ocr_pages=%d fields=%d in %.2fs",
        page_count, len(reader.ocr_pages), len(fields), time.monotonic() - started,
    )  # fmt: skip
    return notice
