"""mailroom.pii: examples for each pattern plus hypothesis properties (no SSN form survives; dates, money and AUR
control numbers are left alone)."""

from __future__ import annotations

import io
import logging
from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mailroom.pii import PiiScrubbingFilter, install_scrubber, scrub

areas = st.integers(1, 899).filter(lambda n: n != 666)
groups = st.integers(1, 99)
serials = st.integers(1, 9999)
# Surrounding text: anything printable; the SSN is separated from it by spaces so it stays an SSN-shaped token.
filler = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
ssn_forms = st.sampled_from(["{a}-{g}-{s}", "{a} {g} {s}", "{a}.{g}.{s}", "SSN {a}{g}{s}", "SSN: {a}{g}{s}", "SSN#{a}{g}{s}",
                             "TIN {a}{g}{s}", "ITIN: {a}-{g}-{s}", "Social Security Number {a}{g}{s}", "ssn {a} {g} {s}",
                             "SSN is {a}{g}{s}", "SSN (primary): {a}{g}{s}", "Taxpayer ID Number {a}{g}{s}"])


def _all_forms(a: str, g: str, s: str) -> list[str]:
    return [f"{a}-{g}-{s}", f"{a} {g} {s}", f"{a}.{g}.{s}", f"{a}{g}{s}"]


@settings(max_examples=300, deadline=None)  # a loaded 2-core box must not turn slowness into failures
@given(a=areas, g=groups, s=serials, form=ssn_forms, before=filler, after=filler)
@example(a=123, g=45, s=6789, form="{a}-{g}-{s}", before="", after="")
def test_no_generated_ssn_survives_in_any_form_and_the_last_4_stay(a, g, s, form, before, after):
    a_, g_, s_ = f"{a:03d}", f"{g:02d}", f"{s:04d}"
    text = f"{before} {form.format(a=a_, g=g_, s=s_)} {after}"
    out = scrub(text)
    for shape in _all_forms(a_, g_, s_):
        assert shape not in out
    assert f"***-**-{s_}" in out


@settings(deadline=None)
@given(a=st.integers(900, 999), g=st.sampled_from([*range(50, 66), *range(70, 89), 90, 91, 92, *range(94, 100)]), s=serials)
def test_bare_itins_are_masked_even_without_a_label(a, g, s):
    itin = f"{a}{g:02d}{s:04d}"
    assert scrub(f"id {itin} here") == f"id ***-**-{s:04d} here"


dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2035, 12, 31))
date_text = st.builds(lambda d, fmt: d.strftime(fmt), dates, st.sampled_from(["%m/%d/%Y", "%Y-%m-%d", "%B %d, %Y", "%m-%d-%Y", "%m.%d.%Y", "%d %b %Y"]))
money = st.builds(lambda cents, fmt: fmt.format(cents / 100), st.integers(0, 10**11), st.sampled_from(["${:,.2f}", "{:,.2f}", "${:.2f}", "USD {:,.2f}"]))
aur = st.builds(lambda a, b: f"{a:05d}-{b:04d}", st.integers(0, 99999), st.integers(0, 9999))
safe_token = st.one_of(date_text, money, aur, st.sampled_from(["CP2000", "Tax Year 2023", "IRS", "notice", "amount due", "page 3 of 7"]))


@settings(max_examples=300, deadline=None)  # a loaded 2-core box must not turn slowness into failures
@given(tokens=st.lists(safe_token, min_size=1, max_size=8))
def test_dates_money_and_aur_control_numbers_are_not_mangled(tokens):
    text = " | ".join(tokens)
    assert scrub(text) == text


@settings(deadline=None)
@given(st.text(max_size=200))
def test_scrub_is_idempotent(text):
    once = scrub(text)
    assert scrub(once) == once


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("EIN 12-3456789 on file", "EIN **-***6789 on file"),
        ("mail jane.doe+irs@example.com now", "mail ***@example.com now"),
        ("call (555) 123-4567 or 555.987.6543", "call ***-***-4567 or ***-***-6543"),
        ("Authorization: Bearer eyJhbGciOi.abc-def", "Authorization: Bearer ***"),
        ("authorization=Basic dXNlcjpwYXNz", "authorization=Basic ***"),
        ("sent header {'Authorization': 'Basic dXNlcjpwYXNz'}", "sent header {'Authorization': 'Basic ***'}"),
        ("token is Bearer ya29.A0ARrdaM-xyz", "token is Bearer ***"),
        ("GET https://www.googleapis.com/drive/v3/files?key=AIzaSyA-1234&pageSize=10", "GET https://www.googleapis.com/drive/v3/files?key=***&pageSize=10"),
        ("POST /token?access_token=ya29.x&client_secret=s3cr3t", "POST /token?access_token=***&client_secret=***"),
        ('{"client_secret": "abc123", "api_key": "k-9"}', '{"client_secret": "***", "api_key": "***"}'),
        ("https://user:hunter2@logiqs.example.test/api", "https://user:***@logiqs.example.test/api"),
        ("password=hunter2 ok", "password=*** ok"),
    ],
)
def test_secret_and_contact_patterns(raw, expected):
    assert scrub(raw) == expected


def test_private_key_blocks_are_removed_whole_even_json_escaped_or_truncated():
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nabc==\n-----END PRIVATE KEY-----"
    assert scrub(f"key:\n{pem}\nafter") == "key:\n[REDACTED PRIVATE KEY]\nafter"
    escaped = '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIB\\n-----END PRIVATE KEY-----\\n", "x": 1}'
    assert "MIIEvQIB" not in scrub(escaped)
    assert "MIIEvQ" not in scrub("-----BEGIN RSA PRIVATE KEY-----\nMIIEvQ")


def test_identifiers_stay_readable():
    line = "drive file 1AbC_dEf-123456789xyz case 123456 doc 87139-0114 CaseDocumentID 4412"
    assert scrub(line) == line


def test_filter_scrubs_args_and_tracebacks_on_handlers():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PiiScrubbingFilter())
    log = logging.getLogger("mailroom.test_pii_filter")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("taxpayer %s at %s", "123-45-6789", "a@b.example")
        try:
            raise ValueError("bad SSN 987-65-4321")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert "123-45-6789" not in out and "987-65-4321" not in out and "a@b.example" not in out
    assert "***-**-6789" in out and "***-**-4321" in out


def test_install_scrubber_reaches_records_from_child_loggers():
    root = logging.getLogger("mailroom_pii_root_test")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    root.propagate = False
    try:
        install_scrubber("mailroom_pii_root_test")
        install_scrubber("mailroom_pii_root_test")  # twice is harmless
        assert sum(isinstance(f, PiiScrubbingFilter) for f in handler.filters) == 1
        logging.getLogger("mailroom_pii_root_test.child").error("ssn 123-45-6789")
    finally:
        root.removeHandler(handler)
    assert stream.getvalue().strip() == "ssn ***-**-6789"
