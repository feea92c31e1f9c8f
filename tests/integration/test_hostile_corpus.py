"""The hostile part of the corpus is what it claims: hostile names on readable notices, copies that really are copies,
a rescan that reads as the same letter, and unreadable files that stay unreadable."""

from __future__ import annotations

import pytest

from mailroom.notices import extract_notice
from mailroom.notices.model import ExtractionLimits
from mailroom_sandbox.corpus.hostile import HOSTILE_BAD_NAMES, HOSTILE_NOTICE_NAMES
from mailroom_sandbox.corpus.models import FileKind, Reason


@pytest.fixture(scope="module")
def hostile_corpus(tmp_path_factory):
    from mailroom_sandbox.corpus import generate_corpus

    return generate_corpus(tmp_path_factory.mktemp("hostile"), notices=2, seed=13, scanned_fraction=0.0,
                           include_bad_files=False, include_hostile_files=True)


def test_every_hostile_name_is_on_a_readable_notice(hostile_corpus):
    named = [f for f in hostile_corpus.files if f.trouble == "hostile_name"]
    assert len(named) == len(HOSTILE_NOTICE_NAMES)
    assert any(f.drive_name.startswith("=") for f in named) and any("\u202e" in f.drive_name for f in named)
    for file in named:
        notice = extract_notice(hostile_corpus.path(file), file_name=file.drive_name)
        assert notice.ssn_last4 == file.notice.ssn_last4 and notice.notice_date == file.notice.notice_date


def test_the_copies_are_copies_and_the_rescan_reads_as_the_same_letter(hostile_corpus):
    copies = {f.key: f for f in hostile_corpus.files if f.duplicate_of}
    assert set(copies) == {"duplicate00", "rescan00"}
    assert all(f.expected_reason == Reason.DUPLICATE.value for f in copies.values())

    upload, original = copies["duplicate00"], hostile_corpus.file(copies["duplicate00"].duplicate_of)
    assert hostile_corpus.path(upload).read_bytes() == hostile_corpus.path(original).read_bytes()

    rescan, letter = copies["rescan00"], hostile_corpus.file("letter00")
    assert rescan.md5 != letter.md5
    read = [extract_notice(hostile_corpus.path(f), file_name=f.drive_name) for f in (letter, rescan)]
    identity = [(n.letter_type, n.notice_date, n.ssn_last4, n.aur_control_number) for n in read]
    assert identity[0] == identity[1] and None not in identity[0]


def test_the_hostile_bad_files_are_unreadable_for_their_reason(hostile_corpus):
    bad = [f for f in hostile_corpus.files if f.kind is FileKind.BAD]
    assert len(bad) == len(HOSTILE_BAD_NAMES)
    too_large = next(f for f in bad if f.expected_reason == "bad_file:too_large")
    assert too_large.size > ExtractionLimits().max_bytes
