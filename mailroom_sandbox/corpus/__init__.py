"""The synthetic corpus: IRS notice PDFs (``pdf``, ``scan``), unreadable files (``badfiles``), the Logiqs case book
(``cases``) and the manifest with every file's expected outcome (``models``), made by ``generator``."""

from mailroom_sandbox.corpus.generator import DEFAULT_CACHE_DIR, cached_corpus, generate_corpus

__all__ = ["DEFAULT_CACHE_DIR", "cached_corpus", "generate_corpus"]
