"""Plan and write a seeded papers corpus: PDFs, Drive-style file names, the case book and ``manifest.json``.

HELD-OUT: seed 90210 (``HELD_OUT_SEED``) is the held-out part of this corpus. Nobody tunes a reader or a matcher on
it, looks at its failures to fix them, or reports it mixed with other seeds; run it once after a change is done and
report it on its own. Its manifest says ``"held_out": true``.

Planning draws everything from seeded ``random.Random`` instances and renders nothing, so ``plan_corpus`` is cheap
and the manifest (ground truth, damages, cases) can be checked without a single PDF. File ``kind``/``index`` gets
its own RNG, so file 17 is the same file whatever the corpus size. Every scanned file is guaranteed one damage
kind in turn (index modulo the kinds), so every kind is present once there are as many scanned files as kinds.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from mailroom_sandbox.papers.batch import PRODUCERS, FilePlan, build_pdf, plan_cover
from mailroom_sandbox.papers.casebook import CaseBook, Household, drop_punctuation, title_case
from mailroom_sandbox.papers.damage import DAMAGE_KINDS, FILE_DAMAGE_KINDS, choose_kinds, plan_scan
from mailroom_sandbox.papers.letters import LetterPlan, expected_fields, hard_case_tags, make_letter_plan
from mailroom_sandbox.papers.manifest import (
    CoverInfo,
    DamageRecord,
    ExpectedFields,
    FileEntry,
    FileNameHint,
    LetterEntry,
    Manifest,
    write_manifest,
)

HELD_OUT_SEED = 90210
DEFAULT_TYPED = 200
DEFAULT_SCANNED = 200


@dataclass
class CorpusPlan:
    seed: int
    files: list[FilePlan]
    manifest: Manifest


@dataclass
class GenerationStats:
    seconds: dict[str, list[float]] = field(default_factory=lambda: {"typed": [], "scanned": []})
    # CPU seconds of the rendering process: on a shared machine wall time mostly measures the neighbours.
    cpu_seconds: dict[str, list[float]] = field(default_factory=lambda: {"typed": [], "scanned": []})
    sizes: dict[str, list[int]] = field(default_factory=lambda: {"typed": [], "scanned": []})


def _file_rng(seed: int, kind: str, index: int) -> random.Random:
    return random.Random(f"papers:{seed}:{kind}:{index}")  # str seeds hash with SHA-512: stable across runs


def _second_letter(rng: random.Random, first: LetterPlan) -> LetterPlan:
    if rng.random() < 0.6:  # the same household's letter for another year, scanned in one go
        return make_letter_plan(rng, taxpayer=first.taxpayer, spouse=first.crm_spouse, name_style=first.name_style,
                                ssn=first.ssn, address=first.address, tax_year=first.tax_year - 1)
    return make_letter_plan(rng)


def _drive_name(rng: random.Random, kind: str, index: int, letter: LetterPlan) -> tuple[str, FileNameHint]:
    when = datetime.combine(letter.notice_date + timedelta(days=rng.randrange(3, 15)), datetime.min.time())
    when += timedelta(seconds=rng.randrange(8 * 3600, 18 * 3600))
    person, t, y = letter.taxpayer, letter.letter_type, letter.tax_year
    hinted = rng.random() < (0.6 if kind == "typed" else 0.45)
    if not hinted:
        generic = (f"scan_{index + 1:04d}.pdf", f"Scan {when:%Y-%m-%d %H.%M.%S}.pdf", f"img{when:%Y%m%d_%H%M%S}.pdf",
                   f"IRS letter {when:%m-%d-%Y}.pdf", f"Doc{rng.randrange(1, 999)}.pdf", f"{t}_{y}.pdf")
        return rng.choice(generic), FileNameHint(last_name=None, first_name=None, style="none")
    style = rng.choice(("last_type_year", "last_comma_first", "title_first_last", "underscored", "no_punctuation"))
    last, first = person.last, person.first
    if style == "last_type_year":
        name = f"{last} {t} {y}.pdf"
        hint = FileNameHint(last_name=last, first_name=None, style=style)
    elif style == "last_comma_first":
        name = f"{last}, {first} - IRS.pdf"
        hint = FileNameHint(last_name=last, first_name=first, style=style)
    elif style == "title_first_last":
        name = f"{title_case(first)} {title_case(last)} notice.pdf"
        hint = FileNameHint(last_name=title_case(last), first_name=title_case(first), style=style)
    elif style == "underscored":
        written = last.replace(" ", "_").replace(".", "")
        name = f"{written}_{first}_{t}.pdf"
        hint = FileNameHint(last_name=written, first_name=first, style=style)
    else:
        written = drop_punctuation(last)
        name = f"{written} {t}.pdf"
        hint = FileNameHint(last_name=written, first_name=None, style=style)
    return name, hint


def plan_file(seed: int, kind: str, index: int) -> tuple[FilePlan, FileNameHint]:
    rng = _file_rng(seed, kind, index)
    kinds: tuple[str, ...] = ()
    if kind == "scanned":
        kinds = choose_kinds(rng, DAMAGE_KINDS[index % len(DAMAGE_KINDS)])
    first = make_letter_plan(rng)
    letters = (first, _second_letter(rng, first)) if "two_letters" in kinds else (first,)
    letter_pages_total = sum(letter.page_count for letter in letters)
    cover = plan_cover(rng, letters, letter_pages_total + 1) if "cover_page" in kinds else None
    scan = None
    if kind == "scanned":
        offset = 1 if cover else 0
        stamp_date = first.notice_date + timedelta(days=rng.randrange(4, 20))
        scan = plan_scan(rng, kinds, letter_pages_total + offset,
                         list(range(offset + 1, offset + letter_pages_total + 1)), stamp_date)
    file_name, hint = _drive_name(rng, kind, index, first)
    plan = FilePlan(file_id=f"{kind}-{index:04d}", kind=kind, file_name=file_name, letters=letters, cover=cover,
                    scan=scan, producer=rng.choice(PRODUCERS))
    return plan, hint


def _unique(name: str, taken: set[str]) -> str:
    stem, suffix, n = name[:-4], name[-4:], 1
    candidate = name
    while candidate in taken:  # Drive allows duplicates; a download folder says "(1)"
        candidate = f"{stem} ({n}){suffix}"
        n += 1
    taken.add(candidate)
    return candidate


def _damage_records(plan: FilePlan) -> list[DamageRecord]:
    records = []
    if plan.scan is not None:
        records = [DamageRecord(kind=s.kind, page=s.page, params=dict(s.params)) for s in plan.scan.steps]
        if plan.cover:
            records.append(DamageRecord(kind="cover_page", page=1, params={"cover": plan.cover.kind}))
        if len(plan.letters) > 1:
            records.append(DamageRecord(kind="two_letters", page=None,
                                        params={"page_ranges": plan.page_ranges()}))
    return records


def _file_entry(plan: FilePlan, hint: FileNameHint, cases: dict[str, str | None]) -> FileEntry:
    records = _damage_records(plan)
    letters = []
    for index, (letter, (first_page, last_page)) in enumerate(zip(plan.letters, plan.page_ranges())):
        kinds = {r.kind for r in records
                 if r.page is None or first_page <= r.page <= last_page or r.kind in FILE_DAMAGE_KINDS}
        letters.append(LetterEntry(
            index=index, first_page=first_page, last_page=last_page,
            expected=ExpectedFields.model_validate(expected_fields(letter)),
            expected_case_id=cases[letter.ssn], name_lines=letter.name_lines(),
            hard_cases=hard_case_tags(letter), damages=[k for k in DAMAGE_KINDS if k in kinds],
            layout=letter.layout.describe()))
    return FileEntry(
        file_name=plan.file_name, kind=plan.kind, page_count=plan.page_count,
        dpi=plan.scan.dpi if plan.scan else None, damages=list(plan.scan.kinds) if plan.scan else [],
        damage_details=records,
        cover=CoverInfo(kind=plan.cover.kind, mentions_client=plan.cover.re_name is not None) if plan.cover else None,
        file_name_hint=hint, letters=letters)


def plan_corpus(seed: int, typed: int = DEFAULT_TYPED, scanned: int = DEFAULT_SCANNED) -> CorpusPlan:
    taken: set[str] = set()
    planned: list[tuple[FilePlan, FileNameHint]] = []
    for kind, count in (("typed", typed), ("scanned", scanned)):
        for index in range(count):
            plan, hint = plan_file(seed, kind, index)
            plan = replace(plan, file_name=_unique(plan.file_name, taken))
            planned.append((plan, hint))
    households: dict[str, Household] = {}
    for plan, _ in planned:
        for letter in plan.letters:
            households.setdefault(letter.ssn, Household(ssn_last4=letter.ssn_last4, key=letter.ssn,
                                                        taxpayer=letter.taxpayer, spouse=letter.crm_spouse))
    book = CaseBook(random.Random(f"papers:{seed}:cases"))
    book.register(list(households.values()))
    for household in households.values():
        book.add_household(household)
    book.add_background(max(5, len(households) // 3))
    files = [_file_entry(plan, hint, book.client_case) for plan, hint in planned]
    manifest = Manifest(seed=seed, held_out=seed == HELD_OUT_SEED, typed_count=typed, scanned_count=scanned,
                        files=files, cases=book.finish())
    return CorpusPlan(seed=seed, files=[plan for plan, _ in planned], manifest=manifest)


def _build_timed(plan: FilePlan) -> tuple[bytes, float, float]:
    started, cpu_started = time.perf_counter(), time.process_time()
    data = build_pdf(plan)
    return data, time.perf_counter() - started, time.process_time() - cpu_started


def generate_corpus(out_dir: str | Path, seed: int, typed: int = DEFAULT_TYPED, scanned: int = DEFAULT_SCANNED,
                    workers: int = 1) -> tuple[Manifest, GenerationStats]:
    """Writes every PDF of the corpus and ``manifest.json`` into ``out_dir``; returns the manifest and timings."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    corpus = plan_corpus(seed, typed, scanned)
    stats = GenerationStats()
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_build_timed, corpus.files, chunksize=4))
    else:
        results = [_build_timed(plan) for plan in corpus.files]
    for plan, (data, seconds, cpu_seconds) in zip(corpus.files, results):
        (out / plan.file_name).write_bytes(data)
        stats.seconds[plan.kind].append(seconds)
        stats.cpu_seconds[plan.kind].append(cpu_seconds)
        stats.sizes[plan.kind].append(len(data))
    write_manifest(corpus.manifest, out / "manifest.json")
    return corpus.manifest, stats
