"""Seeded synthetic IRS notice corpus: a Drive folder tree, notice PDFs (typed and scanned), bad files, the Logiqs
case book, and a ground-truth manifest (``out_dir/manifest.json``) of every field and the expected outcome.

    corpus = generate_corpus(Path("/tmp/corpus"), notices=300, seed=7)
    for f in corpus.of_kind(FileKind.TYPED):
        notice = extract_notice(corpus.path(f), file_name=f.drive_name)
        assert notice.ssn_last4 == f.notice.ssn_last4

The same seed and arguments give the same manifest and byte-identical files (except the encrypted bad file,
whose AES salt pypdf draws from the OS). All people, SSNs and addresses are synthetic (Faker + ITIN-shaped numbers).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from faker import Faker

from mailroom_sandbox.corpus.badfiles import BAD_FILE_NAMES, OVERSIZE_PAGES, write_bad_file
from mailroom_sandbox.corpus.cases import CaseBookBuilder, Subject
from mailroom_sandbox.corpus.hostile import HOSTILE_BAD_NAMES, HOSTILE_NOTICE_NAMES, RESCAN_NAME, oversize
from mailroom_sandbox.corpus.models import (
    AUR_LETTERS,
    MANIFEST_NAME,
    RESPONSE_WINDOW_DAYS,
    BadFileReason,
    Corpus,
    CorpusFile,
    ExpectedNotice,
    FileKind,
    Folder,
    Outcome,
    Reason,
)
from mailroom_sandbox.corpus.pdf import IRS_CENTERS, PHONES, NoticeLayout, render_notice
from mailroom_sandbox.corpus.scan import scan_params, scan_pdf

__all__ = ["generate_corpus", "cached_corpus", "Corpus", "CorpusFile", "FileKind", "Outcome"]

DEFAULT_CACHE_DIR = Path(os.environ.get("MAILROOM_CORPUS_CACHE") or Path(tempfile.gettempdir()) / "mailroom-corpora")

LETTER_MIX = {"CP2000": 0.6, "CP2501": 0.1, "CP3219A": 0.1, "CP504": 0.1, "LT11": 0.1}
INPUT_ROOT_NAME = "IRS Notices"
# (key, name, parent key, share of notices); root and "2025" hold no notices directly
FOLDER_TREE: tuple[tuple[str, str, str | None, float], ...] = (
    ("root", INPUT_ROOT_NAME, None, 0.0),
    ("y2025", "2025", "root", 0.0),
    ("batch3", "CP2000 Batch 3", "y2025", 0.35),
    ("october", "CP 2000 - October", "y2025", 0.2),
    ("cp2000", "CP2000", "root", 0.2),
    ("rescans", "CP2000 Rescans", "cp2000", 0.13),
    ("misc", "Misc scans", "root", 0.06),
    ("y2024", "2024", "root", 0.0),
    ("other", "Other letters", "y2024", 0.06),
)
NASTY_NAMES = (
    '{last} "urgent" {lt}.pdf',
    "{lt} DTD {mdy}_{last}'s letter.pdf",
    "{lt} \u2013 \u00dcn\u00efc\u00f8d\u00e9 \u6771\u4eac {last} \u2713.pdf",
    "../../{lt}_{last}.pdf",
    "..\\{lt}\\{last}.pdf",
)
REAL_WORLD_NAMES = (
    "{lt} DTD {mdy}_{last} - {seq:04d}.pdf",
    "{last}, {first} - {lt} {year}.pdf",
    "scan_{ymd}_{seq:04d}.pdf",
    "Scan {iso} {hour:02d}.{minute:02d}.{second:02d}.pdf",
    "IRS {lt} {Last}.pdf",
    "{lt}_{last}_{year}.PDF",
    "doc{seq:05d}.pdf",
    "scan.pdf",  # scanners reuse names: Drive happily holds several files called scan.pdf in one folder
)


def _folders() -> list[Folder]:
    folders: list[Folder] = []
    paths: dict[str, str] = {}
    for key, name, parent, _ in FOLDER_TREE:
        path = "" if parent is None else "/".join(p for p in (paths[parent], name) if p)
        paths[key] = path
        folders.append(Folder(key=key, name=name, parent_key=parent, path=path))
    return folders


RECENT_DAYS = 40  # with ``as_of``: notices are dated up to this many days before it (mail takes its time)


def _date_fields(rng: random.Random, letter_type: str, as_of: date | None = None) -> tuple[int, date, date, bool]:
    drawn = rng.randrange(0, 340)  # drawn either way, so ``as_of`` changes dates only, never the rest of the corpus
    notice_date = date(2025, 1, 6) + timedelta(days=drawn) if as_of is None else as_of - timedelta(
        days=drawn % RECENT_DAYS)
    if notice_date.weekday() >= 5:  # the IRS dates notices on business days
        notice_date -= timedelta(days=notice_date.weekday() - 4)
    tax_year = notice_date.year - rng.choice((1, 2, 2, 3))
    derived = rng.random() < 0.06
    window = RESPONSE_WINDOW_DAYS[letter_type]
    due = notice_date + timedelta(days=window + (0 if derived else rng.choice((0, 0, 1, 2, 3, 5))))
    return tax_year, notice_date, due, derived


def _name_line(rng: random.Random, subject: Subject) -> str:
    """How the IRS (or an agent re-keying it) printed the names: ALL CAPS, LAST, FIRST, or joint."""
    tp, sp = subject.taxpayer, subject.spouse
    first = f"{tp.first} {tp.middle_initial}" if tp.middle_initial else tp.first
    single = f"{first} {tp.last}" + (f" {tp.suffix}" if tp.suffix else "")
    if sp is None:
        form = "last_first" if (rng.random() < 0.25 and not tp.suffix) else "caps"
        line = f"{tp.last}, {first}" if form == "last_first" else single
    elif sp.last == tp.last and not tp.suffix:
        line = f"{tp.last}, {tp.first} & {sp.first}" if rng.random() < 0.25 else f"{tp.first} & {sp.first} {tp.last}"
    else:
        line = f"{single} & {sp.first} {sp.last}"
    if rng.random() < 0.08:  # a re-keyed letter in mixed case
        return line
    return line.upper()


def _address(fake: Faker, rng: random.Random) -> list[str]:
    street = fake.street_address().upper().replace(".", "")
    city = f"{fake.city().upper()} {fake.state_abbr()} {fake.zipcode()}-{rng.randrange(10_000):04d}"
    return [street, city]


def _expected(rng: random.Random, subject: Subject, as_of: date | None = None) -> tuple[ExpectedNotice, str | None]:
    letter_type = rng.choices(list(LETTER_MIX), list(LETTER_MIX.values()))[0]
    tax_year, notice_date, due, derived = _date_fields(rng, letter_type, as_of)
    tp, sp = subject.taxpayer, subject.spouse
    display = "absent" if not subject.prints_ssn else ("full" if rng.random() < 0.3 else "masked")
    tin_shown = {"absent": None, "full": tp.ssn, "masked": f"XXX-XX-{tp.last4}"}[display]
    aur = f"{rng.randrange(10_000, 100_000)}-{rng.randrange(10_000):04d}" if letter_type in AUR_LETTERS else None
    amount = None if letter_type == "CP2501" else Decimal(rng.randrange(5_000, 4_500_000)) / 100
    expected = ExpectedNotice(
        letter_type=letter_type, tax_year=tax_year, notice_date=notice_date, response_due_date=due,
        response_due_derived=derived, taxpayer_first_name=tp.first, taxpayer_last_name=tp.last,
        spouse_first_name=sp.first if sp else None, spouse_last_name=sp.last if sp else None,
        ssn_last4=tp.last4 if subject.prints_ssn else None, aur_control_number=aur, amount_due=amount,
        page_count=rng.randint(2, 6), date_style=rng.choice(("long", "long", "abbrev", "numeric")),
        ssn_display=display, name_line=_name_line(rng, subject), taxpayer_suffix=tp.suffix,
    )  # fmt: skip
    return expected, tin_shown


def _name_values(notice: ExpectedNotice, seq: int) -> dict[str, object]:
    d = notice.notice_date
    return {"lt": notice.letter_type, "last": notice.taxpayer_last_name.upper(), "Last": notice.taxpayer_last_name,
            "first": notice.taxpayer_first_name.upper(), "year": notice.tax_year, "mdy": f"{d:%m.%d.%Y}",
            "ymd": f"{d:%Y%m%d}", "iso": d.isoformat(), "seq": seq, "hour": 8 + seq % 10, "minute": seq % 60,
            "second": seq * 7 % 60}  # fmt: skip


def _layout(fake: Faker, rng: random.Random, expected: ExpectedNotice, tin_shown: str | None) -> NoticeLayout:
    return NoticeLayout(expected=expected, tin_shown=tin_shown, address_lines=_address(fake, rng),
                        caller_id=rng.randrange(100_000, 999_999), phone=rng.choice(PHONES),
                        center=rng.choice(IRS_CENTERS), rng=random.Random(rng.random()))  # fmt: skip


def _file_entry(corpus_root: Path, local: str, **fields: object) -> CorpusFile:
    data = (corpus_root / local).read_bytes()
    return CorpusFile(local_path=local, size=len(data), md5=hashlib.md5(data).hexdigest(), **fields)


def generate_corpus(
    out_dir: Path,
    *,
    notices: int = 50,
    seed: int = 7,
    scanned_fraction: float = 0.2,
    include_bad_files: bool = True,
    ambiguous_rate: float | None = None,
    scenario_rates: dict[str, float] | None = None,
    filler_cases: int | None = None,
    as_of: date | None = None,
    include_hostile_files: bool = False,
) -> Corpus:
    """Generate ``notices`` notice files (+ the bad files), the case book and ``out_dir/manifest.json``.

    ``ambiguous_rate``: share of notices whose taxpayer has two open cases with the same last name and last 4
    (None keeps the default mix, about 4 %). ``scenario_rates`` fixes the share of any case-book scenario
    (cases.SCENARIOS, e.g. ``{"spouse_primary": 0.03, "no_case": 0.2}``). ``filler_cases``: extra cases
    no notice is about (default ``notices // 2``). Nasty Drive names (quotes, unicode, ``../``) come with
    ``include_bad_files``. ``include_hostile_files`` adds the files of ``corpus.hostile`` (formula and control
    character names, unreadable contents under them, a duplicate upload and a rescanned letter) after all others,
    so the rest of the corpus is the same with or without them. ``as_of``: date notices as a mailroom sees them on
    that day (dated up to ``RECENT_DAYS`` before it, so some are overdue and CP504s are days from their date);
    default: spread over 2025. Write into an empty directory: files of an earlier corpus are not removed.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    (out_dir / "files").mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rates = dict(scenario_rates or {})
    if ambiguous_rate is not None:
        rates["ambiguous"] = ambiguous_rate
    book = CaseBookBuilder(rng, fake, rates=rates)
    folders = _folders()
    notice_folders = [(key, share) for key, _, _, share in FOLDER_TREE if share > 0]
    in_scope_keys = [f.key for f in folders if f.matches() and dict(notice_folders).get(f.key)]
    nasty = set(rng.sample(range(notices), min(len(NASTY_NAMES), notices))) if include_bad_files else set()
    files: list[CorpusFile] = []
    scan_seconds = 0.0
    for i in range(notices):
        subject = book.subject()
        expected, tin_shown = _expected(rng, subject, as_of)
        local = f"files/n{i:04d}.pdf"
        render_notice(out_dir / local, _layout(fake, rng, expected, tin_shown))
        scanned = rng.random() < scanned_fraction
        params = scan_params(rng) if scanned else None
        if params is not None:
            scan_started = time.perf_counter()
            typed_copy = out_dir / f"files/n{i:04d}.typed.tmp"
            (out_dir / local).replace(typed_copy)
            scan_pdf(typed_copy, out_dir / local, params, seed=rng.randrange(2**32))
            typed_copy.unlink()
            scan_seconds += time.perf_counter() - scan_started
        values = _name_values(expected, rng.randrange(1, 9999))
        trouble = subject.scenario if subject.scenario != "plain" else None
        if i in nasty:
            drive_name = NASTY_NAMES[sorted(nasty).index(i)].format(**values)
            trouble = "nasty_name" if trouble is None else f"{trouble},nasty_name"
        else:
            drive_name = rng.choice(REAL_WORLD_NAMES).format(**values)
        if expected.spouse_first_name:
            trouble = "joint" if trouble is None else f"{trouble},joint"
        folder_key = rng.choices([k for k, _ in notice_folders], [s for _, s in notice_folders])[0]
        files.append(_file_entry(
            out_dir, local, key=f"n{i:04d}", folder_key=folder_key, drive_name=drive_name,
            kind=FileKind.SCANNED if scanned else FileKind.TYPED, notice=expected,
            expected_outcome=subject.outcome, expected_case_id=subject.case_id,
            expected_reason=subject.reason.value, trouble=trouble, scan=params,
        ))  # fmt: skip
    if include_bad_files:
        files += _bad_files(out_dir, book, fake, rng, in_scope_keys)
    if include_hostile_files:
        files += _hostile_files(out_dir, book, fake, random.Random(f"hostile-{seed}"), in_scope_keys)
    book.add_filler(notices // 2 if filler_cases is None else filler_cases)
    corpus = Corpus(seed=seed, input_root_key="root", folders=folders, files=files, cases=book.cases)
    corpus.root = out_dir
    corpus.generation_seconds = {"total": round(time.perf_counter() - started, 3), "scans": round(scan_seconds, 3)}
    corpus.write()
    return corpus


def _bad_files(out_dir: Path, book: CaseBookBuilder, fake: Faker, rng: random.Random, folder_keys: list[str]
               ) -> list[CorpusFile]:  # fmt: skip
    """One file per bad-file reason; their content starts as a real notice, so names and sizes look ordinary."""
    entries = []
    for index, (reason, name_template) in enumerate(BAD_FILE_NAMES):
        subject = book.subject()
        expected, tin_shown = _expected(rng, subject)
        layout = _layout(fake, rng, expected, tin_shown)
        local = f"files/bad{index:02d}.pdf"
        target = out_dir / local
        if reason.value == "too_many_pages":
            layout.extra_blank_pages = OVERSIZE_PAGES - expected.page_count
        render_notice(target, layout)
        write_bad_file(reason, target, valid_pdf=target.read_bytes(), rng=rng)
        entries.append(_file_entry(
            out_dir, local, key=f"bad{index:02d}", folder_key=rng.choice(folder_keys),
            drive_name=name_template.format(**_name_values(expected, rng.randrange(1, 9999))), kind=FileKind.BAD,
            notice=None, expected_outcome=Outcome.UNMATCHED, expected_case_id=None,
            expected_reason=f"bad_file:{reason.value}", trouble=f"bad_file:{reason.value}",
        ))  # fmt: skip
    return entries


def _plain_letter(book: CaseBookBuilder, fake: Faker, rng: random.Random
                  ) -> tuple[Subject, ExpectedNotice, NoticeLayout]:  # fmt: skip
    """A notice mailroom files: a plain case, an AUR letter with the SSN last 4 printed (a full letter identity)."""
    subject = book.subject()
    while subject.scenario != "plain":
        subject = book.subject()
    expected, tin_shown = _expected(rng, subject)
    while expected.letter_type not in AUR_LETTERS:
        expected, tin_shown = _expected(rng, subject)
    return subject, expected, _layout(fake, rng, expected, tin_shown)


def _hostile_files(out_dir: Path, book: CaseBookBuilder, fake: Faker, rng: random.Random, folder_keys: list[str]
                   ) -> list[CorpusFile]:  # fmt: skip
    """corpus.hostile's files, in upload order: hostile names, hostile bad files, then the two duplicates."""
    entries: list[CorpusFile] = []

    def add(key: str, local: str, name: str, **fields: object) -> CorpusFile:
        entries.append(_file_entry(out_dir, local, key=key, folder_key=rng.choice(folder_keys), drive_name=name,
                                   **fields))
        return entries[-1]

    for index, template in enumerate(HOSTILE_NOTICE_NAMES):
        subject, expected, layout = _plain_letter(book, fake, rng)
        local = f"files/hostile{index:02d}.pdf"
        render_notice(out_dir / local, layout)
        add(f"hostile{index:02d}", local, template.format(**_name_values(expected, rng.randrange(1, 9999))),
            kind=FileKind.TYPED, notice=expected, expected_outcome=subject.outcome, expected_case_id=subject.case_id,
            expected_reason=subject.reason.value, trouble="hostile_name")
    for index, (reason, template) in enumerate(HOSTILE_BAD_NAMES):
        subject = book.subject()
        expected, tin_shown = _expected(rng, subject)
        local = f"files/hostilebad{index:02d}.pdf"
        if reason is BadFileReason.TOO_LARGE:
            (out_dir / local).write_bytes(oversize(rng))
        else:
            render_notice(out_dir / local, _layout(fake, rng, expected, tin_shown))
            write_bad_file(reason, out_dir / local, valid_pdf=(out_dir / local).read_bytes(), rng=rng)
        add(f"hostilebad{index:02d}", local, template.format(**_name_values(expected, rng.randrange(1, 9999))),
            kind=FileKind.BAD, notice=None, expected_outcome=Outcome.UNMATCHED, expected_case_id=None,
            expected_reason=f"bad_file:{reason.value}", trouble=f"hostile_name,bad_file:{reason.value}")
    original = entries[len(HOSTILE_NOTICE_NAMES) - 1]  # the right-to-left override one, filed as usual
    copy_of = dict(kind=FileKind.TYPED, notice=original.notice, expected_outcome=Outcome.UNMATCHED,
                   expected_case_id=None, expected_reason=Reason.DUPLICATE.value, duplicate_of=original.key)
    shutil.copyfile(out_dir / original.local_path, out_dir / "files/duplicate00.pdf")
    add("duplicate00", "files/duplicate00.pdf", original.drive_name, trouble="duplicate_upload", **copy_of)
    subject, expected, layout = _plain_letter(book, fake, rng)
    render_notice(out_dir / "files/letter00.pdf", layout)
    add("letter00", "files/letter00.pdf", RESCAN_NAME.format(last=expected.taxpayer_last_name.upper()),
        kind=FileKind.TYPED, notice=expected, expected_outcome=subject.outcome, expected_case_id=subject.case_id,
        expected_reason=subject.reason.value, trouble="rescanned_later")
    first, rescan = (out_dir / "files/letter00.pdf").read_bytes(), out_dir / "files/rescan00.pdf"
    while not rescan.exists() or rescan.read_bytes() == first:
        layout.rng = random.Random(rng.random())  # same letter, other bytes: the boilerplate changes, not the fields
        render_notice(rescan, layout)
    add("rescan00", "files/rescan00.pdf", RESCAN_NAME.format(last=expected.taxpayer_last_name.upper()),
        trouble="rescanned", **{**copy_of, "notice": expected, "duplicate_of": "letter00"})
    return entries


def _generator_fingerprint() -> str:
    """Changes whenever any module of this package changes, so a cached corpus never outlives the code that made it."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def cached_corpus(cache_dir: Path | None = None, **options: object) -> Corpus:
    """``generate_corpus(**options)`` once per (options, generator code) under ``cache_dir``, then reuse it.

    Scans make generation slow (tenths of a second per page); a sandbox that starts again with the same options
    loads the manifest instead. A corpus is generated in a private directory and renamed into place, so two
    processes starting at once never see a half-written one. Cached files are read-only inputs: never edit them.
    """
    cache_dir = Path(cache_dir or DEFAULT_CACHE_DIR)
    cache_dir.mkdir(parents=True, exist_ok=True)
    key_source = json.dumps({"options": options, "code": _generator_fingerprint()}, sort_keys=True, default=str)
    target = cache_dir / hashlib.sha256(key_source.encode()).hexdigest()[:20]
    if (target / MANIFEST_NAME).is_file():
        return Corpus.load(target)
    partial = Path(tempfile.mkdtemp(dir=cache_dir, prefix=".partial-"))
    try:
        generate_corpus(partial, **options)  # type: ignore[arg-type]
        partial.rename(target)
    except OSError:
        if not (target / MANIFEST_NAME).is_file():  # not "another process finished first": a real failure
            raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return Corpus.load(target)
