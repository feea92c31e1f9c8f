"""Extraction accuracy and speed, matching quality and bad-file handling on both synthetic corpora.

    python benchmarks/extraction.py                       # first corpus: >= 300 typed + >= 100 scanned, seed 7
    python benchmarks/extraction.py --notices 60 --scanned-fraction 0.3 --compare-text-layers 40 --compare-ocr 10
    python benchmarks/extraction.py --skip-first --papers DIR [--papers DIR2 ...] [--old-reader /tmp/old-reader]

``--papers DIR``: a papers corpus (``python -m mailroom_sandbox.papers generate --out DIR --seed N``); a held-out
seed is labelled as such and reported on its own (benchmarks/papers_bench.py). ``--old-reader`` runs a checkout of
the previous reader on the same scanned files, side by side, for the speed ratio.

Prints markdown tables (pasted into docs/extraction.md) and a final line of ratios. The corpus is generated into
--workdir and reused when seed and size match (``--regenerate`` after changing other options). Default run on the
shared 2-core machine: generation 2-4 min (once), extraction + matching 3-4 min; the comparisons add ~10 min.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailroom.matching import MatchOutcome, match_notice  # noqa: E402
from mailroom.notices import ExtractionError, ExtractionLimits, Notice, extract_notice  # noqa: E402
from mailroom.notices.accuracy import FIELDS, FieldTally  # noqa: E402
from mailroom.notices.page_fields import _parse_fields  # noqa: E402
from benchmarks.papers_bench import measure as measure_papers  # noqa: E402
from mailroom.notices.parse import normalize_text  # noqa: E402
from mailroom_sandbox.corpus import generate_corpus  # noqa: E402
from mailroom_sandbox.corpus.models import Corpus, CorpusFile, FileKind  # noqa: E402
from mailroom_sandbox.logiqs.directory import InMemoryCaseDirectory  # noqa: E402

# manifest reason -> the matching outcome that is correct for it
EXPECTED_MATCH_OUTCOME = {
    "matched": MatchOutcome.MATCHED,
    "ambiguous": MatchOutcome.AMBIGUOUS,
    "no_case": MatchOutcome.NO_MATCH,
    "inactive_only": MatchOutcome.NO_MATCH,
    "insufficient_data": MatchOutcome.INSUFFICIENT_DATA,
}
# Fields a page-1 parse can be checked on when comparing text-layer libraries and OCR settings.
PAGE_ONE_FIELDS = ("letter_type", "tax_year", "notice_date", "taxpayer_first_name", "taxpayer_last_name",
                   "ssn_last4", "aur_control_number", "amount_due")  # fmt: skip


def load_or_generate(workdir: Path, notices: int, seed: int, scanned_fraction: float, spouse_primary: float) -> Corpus:
    """Reuse a corpus generated with the same seed and size (``--regenerate`` forces a fresh one)."""
    manifest = workdir / "manifest.json"
    if manifest.exists():
        corpus = Corpus.load(workdir)
        if corpus.seed == seed and sum(f.kind is not FileKind.BAD for f in corpus.files) == notices:
            return corpus
    return generate_corpus(workdir, notices=notices, seed=seed, scanned_fraction=scanned_fraction,
                           scenario_rates={"spouse_primary": spouse_primary})  # fmt: skip


def case_directory(corpus: Corpus) -> InMemoryCaseDirectory:
    return InMemoryCaseDirectory([c.as_candidate() for c in corpus.cases])


def measure_extraction(corpus: Corpus, kind: FileKind, limits: ExtractionLimits) -> dict[str, object]:
    tally, pages, ocr_pages, started = FieldTally(), 0, 0, time.perf_counter()
    notices: dict[str, Notice] = {}
    for file in corpus.of_kind(kind):
        notice = extract_notice(corpus.path(file), file_name=file.drive_name, limits=limits)
        notices[file.key] = notice
        pages += notice.page_count
        ocr_pages += notice.ocr_pages
        tally.add(file.key, notice, file.notice)
    seconds = time.perf_counter() - started
    return {"tally": tally, "files": len(notices), "pages": pages, "ocr_pages": ocr_pages, "seconds": seconds,
            "notices": notices}  # fmt: skip


def print_accuracy(results: dict[FileKind, dict[str, object]]) -> None:
    kinds = list(results)
    print("\n| field | " + " | ".join(f"{k.value} (n={results[k]['files']})" for k in kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    for name in FIELDS:
        cells = []
        for kind in kinds:
            tally: FieldTally = results[kind]["tally"]  # type: ignore[assignment]
            cells.append(f"{100 * tally.accuracy(name):.2f} % ({tally.correct[name]}/{tally.total[name]})")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\n| kind | files | pages | OCR pages | s/page | s/file | s/OCR page |")
    print("|---|---|---|---|---|---|---|")
    for kind in kinds:
        r = results[kind]
        per_ocr = f"{r['seconds'] / r['ocr_pages']:.2f}" if r["ocr_pages"] else "-"
        print(f"| {kind.value} | {r['files']} | {r['pages']} | {r['ocr_pages']} | {r['seconds'] / r['pages']:.4f} | "
              f"{r['seconds'] / r['files']:.3f} | {per_ocr} |")  # fmt: skip
    for kind in kinds:
        tally = results[kind]["tally"]
        for name, keys in sorted(tally.wrong.items()):  # type: ignore[union-attr]
            print(f"  wrong {kind.value}.{name}: {', '.join(keys[:12])}{' ...' if len(keys) > 12 else ''}")


def measure_matching(corpus: Corpus, notices: dict[str, Notice]) -> dict[str, int]:
    directory = case_directory(corpus)
    counts: Counter[str] = Counter()
    for file in corpus.files:
        if file.key not in notices:
            continue
        result = match_notice(notices[file.key], directory)
        expected = EXPECTED_MATCH_OUTCOME[file.expected_reason]
        counts[f"{file.expected_reason}->{result.outcome.value}"] += 1
        if result.outcome is MatchOutcome.MATCHED and result.case_id != file.expected_case_id:
            counts["wrong_case_matched"] += 1
            print(f"  WRONG MATCH {file.key}: expected {file.expected_case_id} got {result.case_id} ({result.reason})")
        if expected is MatchOutcome.MATCHED:
            counts["true_matches"] += 1
            counts["recalled"] += result.outcome is MatchOutcome.MATCHED and result.case_id == file.expected_case_id
        if file.expected_reason == "ambiguous":
            counts["ambiguous_pairs"] += 1
            counts["ambiguous_flagged"] += result.outcome is MatchOutcome.AMBIGUOUS
        if result.outcome is not expected:
            print(f"  outcome {file.key} ({file.trouble}): expected {expected.value}, got {result.outcome.value}: "
                  f"{result.reason}")  # fmt: skip
    print("\n| matching | count |\n|---|---|")
    for key in sorted(counts):
        print(f"| {key} | {counts[key]} |")
    return dict(counts)


def measure_bad_files(corpus: Corpus, limits: ExtractionLimits) -> tuple[int, int, float]:
    print("\n| bad file | expected | got | seconds |\n|---|---|---|---|")
    right, worst = 0, 0.0
    bad = corpus.of_kind(FileKind.BAD)
    for file in bad:
        started = time.perf_counter()
        try:
            extract_notice(corpus.path(file), file_name=file.drive_name, limits=limits)
            got = "no error"
        except ExtractionError as exc:
            got = exc.failure.value
        seconds = time.perf_counter() - started
        worst = max(worst, seconds)
        want = file.expected_reason.removeprefix("bad_file:").upper()
        right += got == want
        print(f"| {file.key} | {want} | {got} | {seconds:.3f} |")
    return right, len(bad), worst


def _page_one_accuracy(corpus: Corpus, files: list[CorpusFile], texts: list[str]) -> float:
    ok = total = 0
    for file, text in zip(files, texts):
        found = _parse_fields(normalize_text(text))
        for name in PAGE_ONE_FIELDS:
            want, got = getattr(file.notice, name), found.get(name)
            value = getattr(got.value, "value", got.value) if got else None
            if isinstance(value, str) and isinstance(want, str):
                value, want = value.casefold(), want.casefold()
            ok, total = ok + (value == want), total + 1
    return ok / total if total else 0.0


def compare_text_layers(corpus: Corpus, count: int) -> None:
    """Same parser on each library's text of the typed notices (all pages): field accuracy and s/page."""
    import pymupdf
    from pypdf import PdfReader

    try:
        import pdfplumber  # not a project dependency: compared only where it is installed
    except ImportError:
        pdfplumber = None

    def with_pymupdf(path: Path) -> list[str]:
        with pymupdf.open(path) as doc:
            return [page.get_text("text", sort=True) for page in doc]

    def with_pymupdf_stream_order(path: Path) -> list[str]:
        with pymupdf.open(path) as doc:
            return [page.get_text("text") for page in doc]

    def with_pypdf(path: Path) -> list[str]:
        return [page.extract_text() or "" for page in PdfReader(path).pages]

    def with_pdfplumber(path: Path) -> list[str]:
        with pdfplumber.open(path) as pdf:
            return [page.extract_text() or "" for page in pdf.pages]

    files = corpus.of_kind(FileKind.TYPED)[:count]
    print(f"\n| text layer (n={len(files)} typed) | page-1 field accuracy | s/page |\n|---|---|---|")
    readers = (("PyMuPDF (sort=True, used)", with_pymupdf), ("PyMuPDF (content-stream order)", with_pymupdf_stream_order),
               ("pypdf", with_pypdf)) + ((("pdfplumber", with_pdfplumber),) if pdfplumber else ())
    for name, reader in readers:
        started, pages, texts = time.perf_counter(), 0, []
        for file in files:
            page_texts = reader(corpus.path(file))
            pages += len(page_texts)
            texts.append("\n".join(page_texts))
        seconds = time.perf_counter() - started
        print(f"| {name} | {100 * _page_one_accuracy(corpus, files, texts):.2f} % | {seconds / pages:.4f} |")


def compare_ocr(corpus: Corpus, count: int) -> None:
    """Page 1 of scanned notices through each OCR setting (and RapidOCR when importable): accuracy and s/page."""
    import pymupdf
    import pytesseract
    from PIL import Image

    files = corpus.of_kind(FileKind.SCANNED)[:count]

    def render(file: CorpusFile, dpi: int) -> Image.Image:
        with pymupdf.open(corpus.path(file)) as doc:
            pixmap = doc[0].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
            return Image.frombytes("L", (pixmap.width, pixmap.height), pixmap.samples)

    engines: list[tuple[str, int, object]] = []
    for dpi in (200, 300):
        for psm in (3, 4, 6):
            engines.append((f"tesseract psm {psm}", dpi,
                            lambda image, psm=psm: pytesseract.image_to_string(image, config=f"--oem 1 --psm {psm}")))
    try:
        from rapidocr_onnxruntime import RapidOCR

        rapid = RapidOCR()

        def rapid_text(image: Image.Image) -> str:
            buffer = io.BytesIO()
            image.save(buffer, "PNG")
            result, _ = rapid(buffer.getvalue())
            return "\n".join(line[1] for line in result or [])

        engines.append(("rapidocr-onnxruntime", 200, rapid_text))
    except ImportError:
        print("  (rapidocr_onnxruntime not importable: skipped)")
    print(f"\n| OCR engine (page 1, n={len(files)} scanned) | dpi | page-1 field accuracy | s/page |\n|---|---|---|---|")
    for name, dpi, engine in engines:
        started, texts = time.perf_counter(), []
        for file in files:
            texts.append(engine(render(file, dpi)))  # type: ignore[operator]
        seconds = time.perf_counter() - started
        print(f"| {name} | {dpi} | {100 * _page_one_accuracy(corpus, files, texts):.2f} % | {seconds / len(files):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notices", type=int, default=430)
    parser.add_argument("--scanned-fraction", type=float, default=0.26)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mailroom-extraction-bench"))
    parser.add_argument("--compare-text-layers", type=int, default=0, metavar="N", help="typed files to compare on")
    parser.add_argument("--compare-ocr", type=int, default=0, metavar="N", help="scanned first pages to compare on")
    parser.add_argument("--skip-scanned", action="store_true")
    parser.add_argument("--spouse-primary", type=float, default=0.03,
                        help="share of joint notices whose case is filed under the spouse as primary")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--papers", type=Path, action="append", default=[], help="a papers corpus directory")
    parser.add_argument("--papers-typed", type=int, default=200)
    parser.add_argument("--papers-scanned", type=int, default=200)
    parser.add_argument("--old-reader", type=Path, help="checkout of the reader to compare speed with")
    parser.add_argument("--skip-first", action="store_true", help="only the papers corpora")
    parser.add_argument("--time-budget", type=float, default=600.0, help="per-file seconds for accuracy runs")
    parser.add_argument("--held-out", action="store_true",
                        help="the papers corpora were generated for this run and never looked at: label them held out "
                        "(the generator itself marks only seed 90210)")  # fmt: skip
    args = parser.parse_args()
    started = time.perf_counter()
    for corpus in args.papers:
        measure_papers(corpus, corpus.name, typed=args.papers_typed, scanned=args.papers_scanned,
                       old_reader=args.old_reader, time_budget=args.time_budget, held_out=args.held_out)
    if args.skip_first:
        return
    if args.regenerate and (args.workdir / "manifest.json").exists():
        (args.workdir / "manifest.json").unlink()
    corpus = load_or_generate(args.workdir, args.notices, args.seed, args.scanned_fraction, args.spouse_primary)
    print(f"corpus: {len(corpus.of_kind(FileKind.TYPED))} typed, {len(corpus.of_kind(FileKind.SCANNED))} scanned, "
          f"{len(corpus.of_kind(FileKind.BAD))} bad, {len(corpus.cases)} cases (seed {corpus.seed}) "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    limits = ExtractionLimits(time_budget_seconds=args.time_budget)  # wide: a loaded machine is not a slow reader
    kinds = [FileKind.TYPED] + ([] if args.skip_scanned else [FileKind.SCANNED])
    results = {kind: measure_extraction(corpus, kind, limits) for kind in kinds}
    print_accuracy(results)
    notices = {key: n for r in results.values() for key, n in r["notices"].items()}  # type: ignore[union-attr]
    counts = measure_matching(corpus, notices)
    right, bad_total, worst_bad = measure_bad_files(corpus, limits)
    if args.compare_text_layers:
        compare_text_layers(corpus, args.compare_text_layers)
    if args.compare_ocr:
        compare_ocr(corpus, args.compare_ocr)
    worst = {kind.value: results[kind]["tally"].worst() for kind in kinds}  # type: ignore[union-attr]
    recall = counts.get("recalled", 0) / max(1, counts.get("true_matches", 0))
    print(
        f"\nworst_field_typed={100 * worst['typed']:.2f}% "
        + (f"worst_field_scanned={100 * worst['scanned']:.2f}% " if "scanned" in worst else "")
        + f"wrong_case_matched={counts.get('wrong_case_matched', 0)} match_recall={100 * recall:.2f}% "
        f"ambiguous_flagged={counts.get('ambiguous_flagged', 0)}/{counts.get('ambiguous_pairs', 0)} "
        f"bad_files_right={right}/{bad_total} worst_bad_file_seconds={worst_bad:.2f} "
        f"total_seconds={time.perf_counter() - started:.0f}"
    )


if __name__ == "__main__":
    main()
