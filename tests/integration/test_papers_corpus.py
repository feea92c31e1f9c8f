"""The papers corpus (mailroom_sandbox.papers): deterministic, truthful, every damage kind, no text on scans.

Text layers are checked with PyMuPDF's own extraction, not with the project's reader: this corpus exists to test
that reader, so it must not be validated by it. One small corpus is generated through the CLI for the module.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

import pymupdf
import pytest

from mailroom_sandbox.papers import HELD_OUT_SEED, load_manifest, plan_corpus
from mailroom_sandbox.papers.__main__ import main
from mailroom_sandbox.papers.batch import build_pdf
from mailroom_sandbox.papers.damage import DAMAGE_KINDS
from mailroom_sandbox.papers.manifest import FIELD_NAMES, Manifest

SEED = 11
TYPED, SCANNED = 12, 12
MONTHS = ("January February March April May June July August September October November December").split()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("papers")
    assert main(["generate", "--out", str(out), "--seed", str(SEED), "--typed", str(TYPED),
                 "--scanned", str(SCANNED)]) == 0
    return out, load_manifest(out / "manifest.json")


def _printed_dates(value: date) -> set[str]:
    """Every way a date may be printed on a real notice: October 14, 2025 / OCTOBER 14, 2025 / Oct. 14, 2025 /
    10/14/2025 / 10/4/2025. Written out here, apart from the generator's formatter."""
    month = MONTHS[value.month - 1]
    short = {"May": "May", "June": "Jun.", "July": "Jul.", "September": "Sept."}.get(month, month[:3] + ".")
    long = f"{month} {value.day}, {value.year}"
    return {long, long.upper(), f"{short} {value.day}, {value.year}", f"{value.month}/{value.day}/{value.year}",
            f"{value.month:02d}/{value.day:02d}/{value.year}"}


def _page_texts(pdf: Path) -> list[str]:
    with pymupdf.open(pdf) as doc:
        return [page.get_text() for page in doc]


def test_cli_writes_every_file_of_the_manifest(corpus: tuple[Path, Manifest]) -> None:
    out, manifest = corpus
    assert (manifest.typed_count, manifest.scanned_count, manifest.seed) == (TYPED, SCANNED, SEED)
    assert not manifest.held_out
    names = [f.file_name for f in manifest.files]
    assert len(set(names)) == len(names) == TYPED + SCANNED
    assert sorted(p.name for p in out.glob("*.pdf")) == sorted(names)
    assert Counter(f.kind for f in manifest.files) == {"typed": TYPED, "scanned": SCANNED}


def test_page_counts_and_letter_ranges_match_the_files(corpus: tuple[Path, Manifest]) -> None:
    out, manifest = corpus
    for entry in manifest.files:
        with pymupdf.open(out / entry.file_name) as doc:
            assert doc.page_count == entry.page_count, entry.file_name
        first = 2 if entry.cover else 1
        for letter in entry.letters:  # letters tile the file after the cover, in order, without gaps
            assert letter.first_page == first and letter.last_page >= letter.first_page
            first = letter.last_page + 1
        assert first - 1 == entry.page_count


def test_typed_text_layer_prints_every_expected_value(corpus: tuple[Path, Manifest]) -> None:
    out, manifest = corpus
    typed = [f for f in manifest.files if f.kind == "typed"]
    assert len(typed) == TYPED
    for entry in typed:
        pages = _page_texts(out / entry.file_name)
        for letter in entry.letters:
            text = "\n".join(pages[letter.first_page - 1:letter.last_page])
            e = letter.expected
            where = f"{entry.file_name}: {e}"
            assert e.letter_type in text and str(e.tax_year) in text, where
            assert re.search(rf"(?<!\d){e.ssn_last4}\b", text), where
            assert _has_date(text, e.notice_date), where
            if e.response_due_date is not None:
                assert _has_date(text, e.response_due_date), where
            if e.aur_control_number is not None:
                assert e.aur_control_number in text, where
            if e.amount_due is not None:
                assert f"${float(e.amount_due):,.2f}" in text, where
            name_block = "\n".join(letter.name_lines)
            assert all(line in text for line in letter.name_lines), where
            for name in (e.taxpayer_first_name, e.taxpayer_last_name, e.spouse_first_name, e.spouse_last_name):
                assert name is None or name in name_block, where
            assert name_block.upper() == name_block


def test_typed_pages_print_no_text_over_other_text_or_off_the_page(corpus: tuple[Path, Manifest]) -> None:
    out, manifest = corpus
    for entry in (f for f in manifest.files if f.kind == "typed"):
        with pymupdf.open(out / entry.file_name) as doc:
            for page in doc:
                spans = [pymupdf.Rect(span["bbox"]) for block in page.get_text("dict")["blocks"]
                         for line in block.get("lines", []) for span in line["spans"] if span["text"].strip()]
                assert all(page.rect.contains(span + (1, 1, -1, -1)) for span in spans), entry.file_name
                for i, a in enumerate(spans):
                    for b in spans[i + 1:]:
                        overlap = a & b
                        assert overlap.is_empty or overlap.get_area() < 0.3 * min(a.get_area(), b.get_area()), (
                            f"{entry.file_name} p{page.number + 1}: {a} over {b}")


def _has_date(text: str, value: date) -> bool:
    # Bounded so that 1/4/2025 is not found inside 11/4/2025.
    return any(re.search(rf"(?<![\d/]){re.escape(d)}(?!\d)", text) for d in _printed_dates(value))


def test_scanned_files_have_no_text_layer_and_show_their_damage(corpus: tuple[Path, Manifest]) -> None:
    out, manifest = corpus
    scanned = [f for f in manifest.files if f.kind == "scanned"]
    seen: set[str] = set()
    for entry in scanned:
        seen.update(entry.damages)
        with pymupdf.open(out / entry.file_name) as doc:
            for number, page in enumerate(doc, start=1):
                assert page.get_text().strip() == "", f"{entry.file_name} p{number} has a text layer"
                images = page.get_images(full=True)
                assert len(images) == 1
                info = doc.extract_image(images[0][0])
                rotated = [d for d in entry.damage_details if d.page == number and d.kind == "rotated_90"]
                landscape = page.rect.width > page.rect.height
                assert landscape == bool(rotated), f"{entry.file_name} p{number}"
                if "fax_threshold" in entry.damages:
                    assert info["bpc"] == 1 and info["ext"] == "png"
                else:
                    assert info["ext"] == "jpeg"
                assert abs(info["width"] * 72 / entry.dpi - page.rect.width) < 1.5
    # Each scanned file is guaranteed one kind in turn: 12 files cover the first 12 kinds.
    assert set(DAMAGE_KINDS[:SCANNED]) <= seen


def test_same_seed_gives_the_same_manifest_and_the_same_files(corpus: tuple[Path, Manifest]) -> None:
    out, manifest = corpus
    again = plan_corpus(SEED, TYPED, SCANNED)
    assert again.manifest.model_dump_json() == manifest.model_dump_json()
    for plan, entry in zip(again.files, again.manifest.files):
        if entry.kind == "typed":
            with pymupdf.open(stream=build_pdf(plan), filetype="pdf") as doc:
                assert [p.get_text() for p in doc] == _page_texts(out / entry.file_name)
    first_scan = next(p for p in again.files if p.kind == "scanned")
    assert build_pdf(first_scan) == (out / first_scan.file_name).read_bytes()
    other = plan_corpus(SEED + 1, TYPED, SCANNED).manifest
    assert [f.letters[0].expected for f in other.files] != [f.letters[0].expected for f in manifest.files]


def test_default_size_plan_has_every_damage_kind_and_the_hard_cases() -> None:
    for seed in (SEED, HELD_OUT_SEED):
        manifest = plan_corpus(seed).manifest
        assert manifest.held_out == (seed == HELD_OUT_SEED)
        files = Counter(kind for f in manifest.files if f.kind == "scanned" for kind in f.damages)
        assert all(files[kind] >= 10 for kind in DAMAGE_KINDS), files
        assert all(not f.damages for f in manifest.files if f.kind == "typed")
        letters = manifest.letters()
        tags = Counter(tag for _, letter in letters for tag in letter.hard_cases)
        for tag in ("particle_surname", "hyphenated_surname", "apostrophe_surname", "mc_surname", "suffix",
                    "long_name_line", "names_joint_two_lines", "names_joint_amp", "care_of_line"):
            assert tags[tag] >= 5, (seed, tag, tags)
        assert Counter(letter.expected.letter_type for _, letter in letters).keys() == {
            "CP2000", "CP2501", "CP3219A", "CP504", "LT11"}
        for file, letter in letters:
            assert set(letter.expected.model_dump()) == set(FIELD_NAMES)
            assert all(len(line) <= 35 for line in letter.name_lines)
            if file.kind == "scanned":
                assert set(letter.damages) <= set(file.damages)


def _norm(name: str) -> str:
    return re.sub(r"[^A-Z]", "", name.upper())


def test_case_book_truth_is_unambiguous_and_has_the_traps() -> None:
    manifest = plan_corpus(SEED).manifest
    cases = {case.case_id: case for case in manifest.cases}
    assert len(cases) == len(manifest.cases)
    absent_compound = 0
    for _, letter in manifest.letters():
        e = letter.expected
        same_last4 = [c for c in manifest.cases if c.ssn_last4 == e.ssn_last4]
        if letter.expected_case_id is not None:
            case = cases[letter.expected_case_id]
            assert case.role == "client" and case.status == "active" and case.ssn_last4 == e.ssn_last4
            assert _norm(case.last_name) == _norm(e.taxpayer_last_name)
        # No other case with these last 4 carries this taxpayer's name: the truth has one answer.
        me = (_norm(e.taxpayer_first_name), _norm(e.taxpayer_last_name))
        others = [c for c in same_last4 if c.case_id != letter.expected_case_id]
        assert all((_norm(c.first_name), _norm(c.last_name)) != me for c in others), e
        compound = "-" in e.taxpayer_last_name or " " in e.taxpayer_last_name
        if letter.expected_case_id is None and compound:
            absent_compound += 1
            assert any(c.role == "part_of_compound" for c in same_last4), e
    assert absent_compound >= 10
    with_case = sum(letter.expected_case_id is not None for _, letter in manifest.letters())
    assert 0.75 < with_case / len(manifest.letters()) < 0.97
    roles = Counter(case.role for case in manifest.cases)
    assert min(roles[r] for r in ("part_of_compound", "near_spelling", "same_last4", "namesake")) >= 5
