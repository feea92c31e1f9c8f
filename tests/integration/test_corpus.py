"""The synthetic corpus is ground truth for extraction and matching, so it is tested like production code:
what the manifest promises must be on the page, bad files must be bad, and the case book must produce the outcome
the manifest expects."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from pathlib import Path

import pymupdf
import pytest
from pypdf import PdfReader

from mailroom_sandbox.corpus import cached_corpus, generate_corpus
from mailroom_sandbox.corpus.cases import last_name_tokens, scenario_weights
from mailroom_sandbox.corpus.models import Corpus, CorpusFile, FileKind, Outcome, Reason
from mailroom_sandbox.corpus.pdf import format_amount, format_date
from mailroom_sandbox.corpus.scan import scan_pdf

SSN_SHAPE = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")


@pytest.fixture(scope="module")
def typed_corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return generate_corpus(tmp_path_factory.mktemp("typed"), notices=150, seed=11, scanned_fraction=0.0,
                           scenario_rates={"spouse_primary": 0.03})


def _text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_every_manifest_field_of_a_typed_notice_is_in_its_text_layer(typed_corpus: Corpus) -> None:
    typed = typed_corpus.of_kind(FileKind.TYPED)
    assert len(typed) == 150
    for f in typed:
        n = f.notice
        assert n is not None
        reader = PdfReader(typed_corpus.path(f))
        assert len(reader.pages) == n.page_count, f.key
        text = "\n".join(page.extract_text() for page in reader.pages)
        upper = text.upper()
        expected = [n.letter_type, str(n.tax_year), format_date(n.notice_date, n.date_style), n.name_line]
        expected += [name.upper() for name in (n.taxpayer_first_name, n.taxpayer_last_name, n.spouse_first_name,
                                               n.spouse_last_name) if name]  # fmt: skip
        if not n.response_due_derived:
            expected.append(format_date(n.response_due_date, n.date_style))
        if n.aur_control_number:
            expected.append(n.aur_control_number)
        if n.amount_due is not None:
            expected.append(format_amount(n.amount_due))
        for value in expected:
            assert value.upper() in upper, (f.key, value)
        tins = SSN_SHAPE.findall(text) + re.findall(r"XXX-XX-\d{4}", text)
        if n.ssn_display == "absent":
            assert n.ssn_last4 is None and not tins, f.key
        else:
            assert tins and all(t.endswith(n.ssn_last4) for t in tins), f.key
            assert (n.ssn_display == "full") == bool(SSN_SHAPE.findall(text)), f.key


def test_manifest_notice_entries_never_hold_a_full_ssn(typed_corpus: Corpus) -> None:
    manifest = json.loads((typed_corpus.root / "manifest.json").read_text())
    entries = json.dumps(manifest["files"])
    assert not SSN_SHAPE.search(entries)
    for case in typed_corpus.cases:
        for ssn in filter(None, (case.ssn, case.spouse_ssn)):
            assert ssn not in entries and ssn not in repr(case)


def test_the_mix_has_every_letter_type_date_form_and_trouble(typed_corpus: Corpus) -> None:
    notices = [f.notice for f in typed_corpus.files if f.notice]
    assert {n.letter_type for n in notices} == {"CP2000", "CP2501", "CP3219A", "CP504", "LT11"}
    assert Counter(n.letter_type for n in notices).most_common(1)[0][0] == "CP2000"
    assert {n.date_style for n in notices} == {"long", "abbrev", "numeric"}
    assert {n.ssn_display for n in notices} == {"masked", "full", "absent"}
    assert any(n.response_due_derived for n in notices)
    assert any(n.spouse_first_name for n in notices) and any(", " in n.name_line for n in notices)
    assert any(n.name_line.isupper() for n in notices)
    assert set(range(2, 7)) == {n.page_count for n in notices}
    reasons = {f.expected_reason for f in typed_corpus.files}
    assert {r.value for r in Reason} - {Reason.DUPLICATE.value} <= reasons  # duplicates come with hostile files
    troubles = ",".join(f.trouble or "" for f in typed_corpus.files)
    for trouble in ("nickname", "typo", "suffix", "hyphenated", "closed_and_open", "nasty_name", "joint",
                    "spouse_primary", "same_last4_other_person", "apostrophe"):
        assert trouble in troubles
    names = [f.drive_name for f in typed_corpus.files]
    assert any(re.fullmatch(r"CP\w+ DTD \d\d\.\d\d\.\d{4}_.+ - \d{4}\.pdf", n) for n in names)
    assert any('"' in n for n in names) and any("../" in n for n in names) and any(not n.isascii() for n in names)
    assert Counter(names)["scan.pdf"] >= 2


def test_the_case_book_yields_exactly_the_expected_outcome(typed_corpus: Corpus) -> None:
    """Search the case book as widely as a matcher may (any part of either last name, taxpayer's or spouse's last 4)
    and check the ground truth holds."""

    def hits(f: CorpusFile) -> list:
        n = f.notice
        wanted = last_name_tokens(n.taxpayer_last_name) | last_name_tokens(n.spouse_last_name or "")
        return [c for c in typed_corpus.cases if n.ssn_last4 in (c.ssn_last4, c.spouse_ssn_last4)
                and wanted & (last_name_tokens(c.last_name) | last_name_tokens(c.spouse_last_name or ""))]  # fmt: skip

    case_ids = [c.case_id for c in typed_corpus.cases]
    assert len(case_ids) == len(set(case_ids))
    for f in typed_corpus.files:
        if f.kind is FileKind.BAD:
            assert f.expected_outcome is Outcome.UNMATCHED and f.expected_reason.startswith("bad_file:")
            continue
        found = hits(f)
        active = [c for c in found if c.active]
        if f.expected_reason == Reason.MATCHED.value:
            case = typed_corpus.case(f.expected_case_id)
            assert case.active and case in active, f.key
            # any other open case under this last name and last 4 belongs to someone with another first name
            for other in active:
                if other.case_id != case.case_id:
                    assert other.first_name[:3].lower() != f.notice.taxpayer_first_name[:3].lower(), f.key
        else:
            assert f.expected_case_id is None and f.expected_outcome is Outcome.UNMATCHED
        if f.expected_reason == Reason.AMBIGUOUS.value:
            assert len(active) == 2 and len({c.ssn_last4 for c in active}) == 1, f.key
        if f.expected_reason == Reason.INACTIVE_ONLY.value:
            assert found and not active, f.key
        if f.expected_reason == Reason.NO_CASE.value:
            assert not found, f.key
        if f.expected_reason == Reason.INSUFFICIENT_DATA.value:
            assert f.notice.ssn_last4 is None


def test_bad_files_really_are_bad(typed_corpus: Corpus) -> None:
    bad = {f.expected_reason.split(":")[1]: typed_corpus.path(f) for f in typed_corpus.of_kind(FileKind.BAD)}
    assert set(bad) == {"empty", "corrupt", "encrypted", "not_pdf", "too_many_pages"}
    assert bad["empty"].stat().st_size == 0
    assert not bad["not_pdf"].read_bytes().startswith(b"%PDF")
    assert PdfReader(bad["encrypted"]).is_encrypted
    assert len(PdfReader(bad["too_many_pages"]).pages) == 300
    with pytest.raises(Exception):
        reader = PdfReader(bad["corrupt"], strict=False)
        [page.extract_text() for page in reader.pages]
    assert bad["corrupt"].read_bytes().startswith(b"%PDF")
    with pytest.raises(Exception):
        PdfReader(io.BytesIO(bad["not_pdf"].read_bytes()))


def test_scanned_notices_are_image_only_at_scanner_resolution_and_reproducible(tmp_path: Path) -> None:
    corpus = generate_corpus(tmp_path, notices=2, seed=5, scanned_fraction=1.0, include_bad_files=False)
    scans = corpus.of_kind(FileKind.SCANNED)
    assert len(scans) == 2
    for f in scans:
        with pymupdf.open(corpus.path(f)) as doc:
            assert doc.page_count == f.notice.page_count
            assert all(not page.get_text().strip() for page in doc)
            (xref, *_), *_ = doc[0].get_images()
            width_px = doc.extract_image(xref)["width"]
            dpi = width_px / (doc[0].rect.width / 72)
            assert 195 <= dpi <= 305 and abs(dpi - f.scan.dpi) < 2
        assert 200 <= f.scan.dpi <= 300 and abs(f.scan.skew_degrees) <= 1.5 and f.scan.blur_radius > 0
    source = tmp_path / "typed.pdf"
    typed = generate_corpus(tmp_path / "typed", notices=1, seed=5, scanned_fraction=0.0, include_bad_files=False)
    source.write_bytes(typed.path(typed.files[0]).read_bytes())
    outputs = []
    for run in range(2):
        scan_pdf(source, tmp_path / f"scan{run}.pdf", scans[0].scan, seed=99)
        outputs.append((tmp_path / f"scan{run}.pdf").read_bytes())
    assert outputs[0] == outputs[1]


def test_same_seed_same_corpus_other_seed_other_corpus(tmp_path: Path) -> None:
    def snapshot(out: Path, seed: int) -> dict:
        manifest = generate_corpus(out, notices=8, seed=seed, scanned_fraction=0.0).model_dump(mode="json")
        manifest.pop("generation_seconds")
        for f in manifest["files"]:
            if f["expected_reason"] == "bad_file:encrypted":  # pypdf salts AES from the OS
                f.pop("md5"), f.pop("size")
        return manifest

    first = snapshot(tmp_path / "a", 3)
    assert first == snapshot(tmp_path / "b", 3)  # md5 of every other file included: byte-identical
    other = snapshot(tmp_path / "c", 4)
    assert other["cases"] != first["cases"] and other["files"] != first["files"]


def test_load_round_trips_the_manifest(typed_corpus: Corpus) -> None:
    loaded = Corpus.load(typed_corpus.root)
    assert loaded.model_dump() == typed_corpus.model_dump()
    assert loaded.path(loaded.files[0]).is_file()
    assert {f.key for f in loaded.in_scope()} < {f.key for f in loaded.files}
    assert loaded.folder("batch3").path == "2025/CP2000 Batch 3"


def test_cached_corpus_is_generated_once_per_options(tmp_path: Path) -> None:
    first = cached_corpus(tmp_path, notices=3, seed=2, scanned_fraction=0.0, include_bad_files=False)
    again = cached_corpus(tmp_path, notices=3, seed=2, scanned_fraction=0.0, include_bad_files=False)
    assert again.root == first.root and again.generation_seconds == first.generation_seconds  # loaded, not redone
    other = cached_corpus(tmp_path, notices=3, seed=3, scanned_fraction=0.0, include_bad_files=False)
    assert other.root != first.root and other.cases != first.cases
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({first.root.name, other.root.name})  # no leftovers


def test_cli_corpus_command_writes_a_loadable_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mailroom_sandbox.__main__ import main

    assert main(["corpus", str(tmp_path), "--notices", "3", "--scanned-fraction", "0", "--no-bad-files"]) == 0
    corpus = Corpus.load(tmp_path)
    assert len(corpus.files) == 3 and not corpus.of_kind(FileKind.BAD)
    assert "3 files" in capsys.readouterr().out


def test_scenario_rates_fix_shares_and_reject_unknown_scenarios() -> None:
    weights = scenario_weights({"no_case": 0.5, "spouse_primary": 0.1})
    assert weights["no_case"] == 0.5 and weights["spouse_primary"] == 0.1
    assert abs(sum(weights.values()) - 1.0) < 1e-9 and weights["plain"] > 0
    assert scenario_weights({})["spouse_primary"] == 0.0  # off by default, see SCENARIOS
    with pytest.raises(ValueError):
        scenario_weights({"spouse_primry": 0.1})
    with pytest.raises(ValueError):
        scenario_weights({"no_case": 0.7, "ambiguous": 0.5})
