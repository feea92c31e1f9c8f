"""The firm's document naming convention: ``IRS_CORR_{type}_{year}_DTD_{MM.DD.YYYY}_{LAST}.pdf``.

The result goes into Drive and Logiqs and onto people's disks, so it is reduced to ``[A-Z0-9._-]``: no path
separators, quotes, control characters or unicode look-alikes, whatever the notice said.
"""

from __future__ import annotations

import re
import unicodedata

from mailroom.notices.model import Notice

MAX_LAST_NAME_CHARS = 40
UNKNOWN = "UNKNOWN"


def safe_component(text: str | None, *, max_chars: int = MAX_LAST_NAME_CHARS) -> str:
    """Upper-case ASCII letters, digits and single hyphens; UNKNOWN when nothing usable is left."""
    if not text:
        return UNKNOWN
    # NFKD splits "Ü" into "U" + combining mark and folds compatibility forms (full-width letters, ligatures).
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").upper()
    ascii_text = re.sub(r"['\"`]", "", ascii_text)  # O'BRIEN -> OBRIEN rather than O-BRIEN
    ascii_text = re.sub(r"[^A-Z0-9]+", "-", ascii_text).strip("-")
    ascii_text = ascii_text[:max_chars].strip("-")
    return ascii_text or UNKNOWN


def document_name(notice: Notice) -> str:
    year = str(notice.tax_year) if notice.tax_year else UNKNOWN
    dated = notice.notice_date.strftime("%m.%d.%Y") if notice.notice_date else "UNDATED"
    last = safe_component(notice.taxpayer_last_name)
    return f"IRS_CORR_{notice.letter_type.value}_{year}_DTD_{dated}_{last}.pdf"
