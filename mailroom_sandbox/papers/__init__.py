"""A second, independent corpus of IRS-notice PDFs (typed and scanned) with ground truth and a CRM case book.

Built apart from the first corpus (mailroom.sandbox.corpus*) and from the notice reader, so that numbers measured on
it say whether the reader generalises. Seed 90210 is HELD OUT (see generate.HELD_OUT_SEED). See docs/corpus-papers.md.

    python -m mailroom_sandbox.papers generate --out DIR --seed N --typed 200 --scanned 200
"""

from mailroom_sandbox.papers.generate import HELD_OUT_SEED, generate_corpus, plan_corpus
from mailroom_sandbox.papers.manifest import Case, ExpectedFields, FileEntry, LetterEntry, Manifest, load_manifest

__all__ = ["HELD_OUT_SEED", "Case", "ExpectedFields", "FileEntry", "LetterEntry", "Manifest", "generate_corpus",
           "load_manifest", "plan_corpus"]
