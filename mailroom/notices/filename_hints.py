"""What a mailroom file name says about the notice inside, e.g. ``CP2000 DTD 10.14.2025_SMITH - 0012.pdf``.

Staff name scans by hand, so these hints are a lower-confidence fallback: used only for fields the document itself
did not give us.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from mailroom.notices.model import LetterType
from mailroom.notices.parse import find_letter_type

FILE_NAME_CONFIDENCE = 0.6

# "DTD 10.14.2025", "DTD 10-14-2025", "DTD 10142025", "dated 10/14/2025"
_DATED = re.compile(r"\b(?:DTD|DATED)\s*[_:.-]?\s*(\d{1,2})[._/-]?(\d{1,2})[._/-]?((?:19|20)\d\d)", re.I)
# The last name follows the date: "..._SMITH - 0012", "... SMITH-JONES 0012", "_O'BRIEN"
_WORD = r"[A-Za-z\u00c0-\u024f][A-Za-z\u00c0-\u024f'\-]*"
_NAME_AFTER_DATE = re.compile(rf"^[\s_-]+({_WORD}(?:\s{_WORD})?)")
_TAX_YEAR = re.compile(r"\b(?:TY|TAX\s?YEAR)\s*[_-]?\s*((?:19|20)\d\d)\b", re.I)


@dataclass(frozen=True)
class FileNameHints:
    letter_type: LetterType | None = None
    notice_date: date | None = None
    last_name: str | None = None
    tax_year: int | None = None


def _stem(file_name: str) -> str:
    # Only the last path component counts: a name like "../../x.pdf" must not leak directory parts into hints.
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", file_name))[-1]
    return re.sub(r"\.pdf$", "", base, flags=re.I)


def hints_from_file_name(file_name: str | None) -> FileNameHints:
    if not file_name:
        return FileNameHints()
    stem = _stem(file_name)
    letter = find_letter_type(stem.replace("_", " "))
    notice_date: date | None = None
    last_name: str | None = None
    dated = _DATED.search(stem)
    if dated:
        try:
            notice_date = date(int(dated.group(3)), int(dated.group(1)), int(dated.group(2)))
        except ValueError:
            notice_date = None
        name = _NAME_AFTER_DATE.match(stem[dated.end() :])
        if name and name.group(1).upper() not in ("COPY", "SCAN", "FINAL"):
            last_name = name.group(1).strip().upper()
    tax_year = _TAX_YEAR.search(stem)
    return FileNameHints(
        letter_type=letter.value if letter else None,
        notice_date=notice_date,
        last_name=last_name,
        tax_year=int(tax_year.group(1)) if tax_year else None,
    )
