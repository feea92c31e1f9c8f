"""When two Drive files are one letter: the identities the intake rules claim before any effect.

Three ways a letter arrives twice (docs/exactly-once.md, "Duplicates"):

- **the same file uploaded twice**: identical bytes, so the same md5 (``content_identity``), known from the listing;
- **the same letter scanned twice**: other bytes, but the same letter type, notice date, SSN last 4 and AUR control
  number (``letter_identity``), known once the notice is read. A letter without an AUR number (CP504, LT11) is
  identified by its tax year instead: the IRS sends one such letter per tax period, often on the same day;
- **the letter is already on its case**: a document of the same name, not carrying this notice's marker, is in the
  case's Logiqs activity feed (``filed_copy``), known once the case is matched. This catches letters filed by hand,
  by an earlier system, or by a mailroom with another ledger.

The first notice to claim an identity in the ledger owns it; every later one is UNMATCHED as "duplicate of <the
owner>", with no document and no task. An owner that ends UNMATCHED gives its identities up, so a letter set aside
for a person (no case yet, say) can be filed when it is scanned again later.

An identity is stored as a hash and holds no more than the report shows (letter type, dates, SSN last 4).
"""

from __future__ import annotations

import hashlib
from enum import Enum

from pydantic import BaseModel

from mailroom.crm import Activity
from mailroom.notices import Notice

EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"  # an empty upload is not a copy of anything
_NO_MD5 = "no-md5"


class IdentityKind(str, Enum):
    CONTENT = "content"  # the file's md5
    LETTER = "letter"  # letter type + notice date + SSN last 4 + AUR number (or tax year)


class Original(BaseModel, frozen=True):
    """What a duplicate duplicates: another notice of this Drive, or a document already on the case."""

    file_id: str | None = None
    file_name: str = ""
    case_id: int | None = None
    document_id: int | None = None

    @property
    def ref(self) -> str:
        return self.file_id if self.file_id is not None else f"logiqs-document:{self.document_id}"

    @property
    def reason(self) -> str:
        if self.file_id is not None:
            return f"duplicate of {self.file_name or 'a notice'} (file {self.file_id}): no new document or task"
        return (f"duplicate of document {self.document_id} already on case {self.case_id} under the same name: "
                "no new document or task")


def content_identity(md5: str | None) -> str | None:
    return None if not md5 or md5 in (_NO_MD5, EMPTY_MD5) else md5


def letter_identity(notice: Notice) -> str | None:
    """A stable hash of what makes a letter one letter, or None when the notice does not say enough."""
    letter_type = getattr(notice.letter_type, "value", notice.letter_type)
    if letter_type in (None, "", "OTHER") or notice.notice_date is None or not notice.ssn_last4:
        return None
    if notice.aur_control_number:
        period = f"aur:{notice.aur_control_number.strip().upper()}"
    elif notice.tax_year is not None:
        period = f"year:{notice.tax_year}"
    else:
        return None
    parts = ("v1", letter_type, notice.notice_date.isoformat(), notice.ssn_last4, period)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def filed_copy(activities: list[Activity], marker: str, document_name: str) -> int | None:
    """The oldest document on the case named ``document_name`` that is not this notice's own (no ``marker``).

    Logiqs records an upload as a ``Document`` activity whose Subject carries the file name (docs/logiqs-api.md);
    names are compared without case, as a person would.
    """
    wanted = document_name.casefold()
    ids = sorted(
        activity.document_id for activity in activities
        if activity.kind.lower() == "document" and activity.document_id is not None
        and wanted in (activity.subject or "").casefold() and marker not in (activity.comment or "")
    )
    return ids[0] if ids else None
