"""Is the papers corpus fair? Plain Tesseract, told the truth about rotation, on every scanned letter.

    python benchmarks/papers_legibility.py --corpus DIR [--limit N]

Not a reader benchmark: it uses no project code, only pytesseract (default and sparse-text page modes), and it
turns rotated pages upright from the manifest (a reader must find that out itself). It counts, per field, how many
scanned letters print the expected value where plain OCR finds it somewhere in the letter's pages. It is a lower
bound on legibility: plain OCR misses values a person reads at once (a bold value at the right of a box); a value
it misses is worth a look, not proof of unfair damage.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import time
from collections import Counter
from pathlib import Path

import pymupdf
import pytesseract
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailroom_sandbox.papers.manifest import FileEntry, LetterEntry, load_manifest  # noqa: E402

CHECKED = ("taxpayer_last_name", "taxpayer_first_name", "spouse_last_name", "ssn_last4", "tax_year",
           "aur_control_number", "letter_type")


def _upright(doc: pymupdf.Document, entry: FileEntry, page_number: int) -> Image.Image:
    page = doc[page_number - 1]
    xref = page.get_images(full=True)[0][0]
    image = Image.open(io.BytesIO(doc.extract_image(xref)["image"]))
    for damage in entry.damage_details:
        if damage.page == page_number and damage.kind in ("rotated_90", "rotated_180"):
            image = image.rotate(-int(damage.params["angle"]), expand=True)
    return image


def _squash(text: str) -> str:
    # Letters and digits only: a curly apostrophe or a lost hyphen is the reader's job, not illegible print.
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def _legible(letter: LetterEntry, text: str) -> dict[str, bool | None]:
    found: dict[str, bool | None] = {}
    expected = letter.expected.model_dump()
    for field in CHECKED:
        value = expected[field]
        found[field] = None if value is None else _squash(str(value)) in text
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--limit", type=int, default=0, help="first N scanned files only")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    manifest = load_manifest(corpus)
    scanned = [f for f in manifest.files if f.kind == "scanned"]
    if args.limit:
        scanned = scanned[: args.limit]
    tally: dict[str, Counter[str]] = {field: Counter() for field in CHECKED}
    missing_names: list[str] = []
    started = time.perf_counter()
    for entry in scanned:
        with pymupdf.open(corpus / entry.file_name) as doc:
            for letter in entry.letters:
                pages = [_upright(doc, entry, n) for n in range(letter.first_page, letter.last_page + 1)]
                # Default segmentation drops right-hand box columns now and then; sparse mode finds them.
                text = "".join(_squash(pytesseract.image_to_string(page, config=f"--psm {psm}"))
                               for page in pages for psm in (3, 11))
                for field, ok in _legible(letter, text).items():
                    tally[field]["n/a" if ok is None else ("legible" if ok else "illegible")] += 1
                for field in ("taxpayer_last_name", "aur_control_number"):
                    if _legible(letter, text)[field] is False:
                        value = getattr(letter.expected, field)
                        missing_names.append(f"{field} {value} in {entry.file_name} p{letter.first_page}-"
                                             f"{letter.last_page} dpi {entry.dpi} box {letter.layout['box_style']}"
                                             f" {letter.damages}")
    print(f"{len(scanned)} scanned files, seed {manifest.seed}{' (HELD OUT)' if manifest.held_out else ''}, "
          f"{time.perf_counter() - started:.0f}s")
    print("| field | legible | illegible | not printed |\n|---|---|---|---|")
    for field, counts in tally.items():
        print(f"| {field} | {counts['legible']} | {counts['illegible']} | {counts['n/a']} |")
    for line in missing_names:
        print("not found by plain OCR:", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
