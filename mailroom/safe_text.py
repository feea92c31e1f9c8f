"""Text from outside (Drive file names above all) made safe to show: in a report cell, a UI table, a log line.

Anyone who can drop a file into a Drive folder chooses its name, so a name is hostile input:

- ``printable(text)``: control characters (C0, DEL, C1) and the Unicode bidirectional controls (the right-to-left
  override that makes ``invoice\u202efdp.exe`` read as ``invoiceexe.pdf``) are replaced by a visible escape
  (``\\x07``, ``\\u202e``), so nothing invisible reaches a person and openpyxl never meets a character it refuses.
- ``spreadsheet_cell(text)``: a cell that a spreadsheet would read as a formula gets a leading ``'`` (OWASP's
  recommendation for CSV injection, ASVS 1.2.10 for CSV and xlsx). Formula triggers: ``= + - @``, their full-width
  forms, and tab / CR / LF / NUL, also after leading spaces. A value that already starts with ``'`` gets one more,
  so ``from_spreadsheet_cell`` can always undo exactly what was added (the csv reads back to the same rows).
"""

from __future__ import annotations

import re

# C0 controls (tab, CR and LF included: a name has no business carrying them), DEL, C1 controls, and the bidi
# embeddings/overrides/isolates/marks. Line and paragraph separators too: they break a cell or a log line.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\x00\uff1d\uff0b\uff0d\uff20")
_QUOTE = "'"


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control and bidi character shown as a visible escape (``\\x07``, ``\\u202e``)."""
    return _UNSAFE.sub(_escape, text) if text else text


def needs_quote(text: str) -> bool:
    stripped = text.lstrip(" ")
    return bool(stripped) and (stripped[0] in FORMULA_TRIGGERS or text[0] == _QUOTE)


def spreadsheet_cell(text: str) -> str:
    """A string a spreadsheet shows as text, never evaluates: printable, and quoted when it could start a formula."""
    text = printable(text)
    return _QUOTE + text if needs_quote(text) else text


def from_spreadsheet_cell(text: str) -> str:
    """Undo ``spreadsheet_cell``'s quote (the escapes stay: they are what the report shows)."""
    if text.startswith(_QUOTE) and needs_quote(text[1:]):
        return text[1:]
    return text
