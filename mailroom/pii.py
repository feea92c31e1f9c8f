"""PII / secret scrubber for every log line, exception message and report string.

What is masked (and why each pattern is shaped the way it is):
- private-key PEM blocks (service-account JSON ends up in tracebacks), whole block replaced;
- Authorization / Proxy-Authorization header values (Basic, Bearer, anything) and bare ``Bearer <token>``;
- secrets in URLs and key=value text: ``?key=``, ``access_token=``, ``client_secret: ...``, ``user:pass@host``;
- e-mail addresses (local part; the domain stays for debugging);
- SSNs / ITINs written 123-45-6789, 123 45 6789, 123.45.6789; 9 bare digits when labelled (SSN, TIN, ITIN,
  Social Security No.) or ITIN-shaped (9XX-[5-6,7-8,9]X-XXXX); the last 4 stay: ``***-**-6789``;
- EINs 12-3456789 (``**-***6789``) and US phone numbers (``***-***-4567``).
Deliberately NOT touched: dates (2024-01-15, 01/15/2024), money ($1,234.56), AUR control numbers (87139-0114),
Drive file ids and case ids. A bare unlabelled 9-digit number that is not ITIN-shaped is kept, because ids of that
length exist in Logiqs; code must therefore never log a raw SSN without its label (notices keep only the last 4).
"""

from __future__ import annotations

import logging
import re

_MASK = "***"
# In URLs `key=` is Google's API key; in free text a bare "key" is too common (idempotency keys, notice keys).
_QUERY_SECRET_NAMES = r"key|sig|code|"
_SECRET_NAMES = (
    r"api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|id[_-]?token|token|auth[_-]?token|client[_-]?secret"
    r"|secret|password|passwd|pwd|private[_-]?key|private[_-]?key[_-]?id|signature|x-api-key|apisecret|api[_-]?secret"
)

_PATTERNS: list[tuple[re.Pattern[str], object]] = [
    # PEM private keys, including a truncated block with no END line.
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S), "[REDACTED PRIVATE KEY]"),
    # JSON-escaped PEM ("-----BEGIN PRIVATE KEY-----\nMIIE...") inside one line.
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[^\"']*"), "[REDACTED PRIVATE KEY]"),
    (re.compile(r"(?i)\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(?:(basic|bearer|token|digest|negotiate)\s+)?[^\s\"',;}]+"),
     lambda m: f"{m.group(1)}{m.group(2) + ' ' if m.group(2) else ''}{_MASK}"),
    (re.compile(r"(?i)\bbearer\s+(?!\*\*\*)[A-Za-z0-9\-._~+/]+=*"), f"Bearer {_MASK}"),
    # user:password@host in URLs.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@]+:)[^/\s@]+@"), rf"\1{_MASK}@"),
    # Query-string and key=value / "key": "value" secrets.
    (re.compile(rf"(?i)([?&;]\s*(?:{_QUERY_SECRET_NAMES}{_SECRET_NAMES})=)[^&#\s\"']+"), rf"\1{_MASK}"),
    (re.compile(rf"(?i)([\"']?\b(?:{_SECRET_NAMES})\b[\"']?\s*[:=]\s*[\"']?)(?!\*\*\*)[^\s\"'&,;}}]+"), rf"\1{_MASK}"),
    (re.compile(r"(?i)\b[A-Z0-9._%+\-]+@((?:[A-Z0-9\-]+\.)+[A-Z]{2,})\b"), rf"{_MASK}@\1"),
    # Labelled 9 digits: "SSN 123456789", "TIN: 123-45-6789", "Social Security No. 123 45 6789".
    (re.compile(r"(?i)\b(ssn|ssn/itin|itin|tin|social security(?: number| no\.?| #)?|taxpayer id(?:entification)?(?: number)?)"
                r"\b([^\d\n]{0,20}?)\d{3}[-. ]?\d{2}[-. ]?(\d{4})(?!\d)"),
     rf"\1\2{_MASK}-**-\3"),
    # Formatted SSN / ITIN anywhere.
    (re.compile(r"(?<![\d\-./])\d{3}[-. ]\d{2}[-. ](\d{4})(?![\d]|[-./]\d)"), rf"{_MASK}-**-\1"),
    # Bare ITIN-shaped 9 digits (IRS ranges for digits 4-5: 50-65, 70-88, 90-92, 94-99).
    (re.compile(r"(?<![\d$.,\-])9\d{2}(?:5\d|6[0-5]|7\d|8[0-8]|9[0-24-9])(\d{4})(?![\d]|[.,]\d)"), rf"{_MASK}-**-\1"),
    # EIN 12-3456789.
    (re.compile(r"(?<![\d\-./])\d{2}-\d{3}(\d{4})(?![\d]|[-./]\d)"), rf"**-{_MASK}\1"),
    # US phone numbers: (555) 123-4567, 555-123-4567, 555.123.4567, +1 555 123 4567.
    (re.compile(r"(?<![\d\-./])(?:\+?1[-. ]?)?(?:\(\d{3}\)\s?|\d{3}[-. ])\d{3}[-. ](\d{4})(?![\d]|[-./]\d)"), rf"{_MASK}-{_MASK}-\1"),
]


def scrub(text: str) -> str:
    """Return ``text`` with PII and secrets masked (see module docstring). Idempotent."""
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)  # type: ignore[arg-type]
    return text


class PiiScrubbingFilter(logging.Filter):
    """Rewrites each record's final message (and any traceback text) through ``scrub``. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_mailroom_scrubbed", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the line
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        record._mailroom_scrubbed = True  # type: ignore[attr-defined]
        return True


DEFAULT_LOGGERS = ("", "prefect", "prefect.flow_runs", "prefect.task_runs", "mailroom")


def install_scrubber(*logger_names: str) -> PiiScrubbingFilter:
    """Attach one scrubbing filter to the named loggers (root, prefect and mailroom by default) and to their handlers.

    Handlers too, because a logger's own filters do not see records propagated from child loggers
    (``mailroom.drive`` → root handler), while a handler's filters see every record it emits. Safe to call twice.
    """
    names = logger_names or DEFAULT_LOGGERS
    shared = _existing_filter() or PiiScrubbingFilter()
    for name in names:
        target = logging.getLogger(name)
        for filterer in (target, *target.handlers):
            if not any(isinstance(f, PiiScrubbingFilter) for f in filterer.filters):
                filterer.addFilter(shared)
    return shared


def _existing_filter() -> PiiScrubbingFilter | None:
    for f in logging.getLogger().filters:
        if isinstance(f, PiiScrubbingFilter):
            return f
    return None
