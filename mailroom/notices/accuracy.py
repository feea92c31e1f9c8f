"""Per-field comparison of an extracted Notice with ground truth, shared by the corpus test and the benchmark.

Ground truth is any object with the Notice's field names (the sandbox corpus's ``ExpectedNotice``); it is read by
attribute so the core package does not depend on the sandbox.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from mailroom.notices.model import Notice

FIELDS = (
    "letter_type", "tax_year", "notice_date", "response_due_date", "response_due_derived",
    "taxpayer_first_name", "taxpayer_last_name", "spouse_first_name", "spouse_last_name",
    "ssn_last4", "aur_control_number", "amount_due", "page_count",
)  # fmt: skip
NAME_FIELDS = {"taxpayer_first_name", "taxpayer_last_name", "spouse_first_name", "spouse_last_name"}


def _name_key(value: str | None) -> str | None:
    # Names are compared case-insensitively and with unicode normalised (the notice prints capitals).
    return unicodedata.normalize("NFC", value).casefold().strip() if value else None


def field_matches(notice: Notice, expected: Any, field_name: str) -> bool:
    got, want = getattr(notice, field_name), getattr(expected, field_name)
    if field_name == "letter_type":
        return got.value == str(want)
    if field_name in NAME_FIELDS:
        return _name_key(got) == _name_key(want)
    return got == want


@dataclass
class FieldTally:
    """Correct / total per field, plus which files got each field wrong (keys only, never values)."""

    correct: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    wrong: dict[str, list[str]] = field(default_factory=dict)

    def add(self, key: str, notice: Notice, expected: Any) -> list[str]:
        misses = []
        for field_name in FIELDS:
            self.total[field_name] += 1
            if field_matches(notice, expected, field_name):
                self.correct[field_name] += 1
            else:
                misses.append(field_name)
                self.wrong.setdefault(field_name, []).append(key)
        return misses

    def accuracy(self, field_name: str) -> float:
        return self.correct[field_name] / self.total[field_name] if self.total[field_name] else 0.0

    def worst(self) -> float:
        return min((self.accuracy(name) for name in FIELDS), default=0.0)
