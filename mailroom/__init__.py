"""mailroom: IRS notices from Drive to the client's Logiqs case (see README.md and docs/architecture.md)."""

import sys

# PyMuPDF 2 imports its optional add-ons pymupdf4llm and pymupdf.layout (ONNX Runtime) whenever it is imported, and
# goes on without them when their import fails. mailroom reads text and renders pages, never Markdown or layout
# analysis; the add-ons cost every flow, worker and test process 60 MB of RSS (231 -> 171 MB after importing the
# flow, measured side by side). A ``None`` in ``sys.modules`` is Python's own way to make an import fail. Set
# only when PyMuPDF is not loaded yet, never over modules already imported.
if "pymupdf" not in sys.modules:
    for optional_add_on in ("pymupdf4llm", "pymupdf.layout"):
        sys.modules.setdefault(optional_add_on, None)  # type: ignore[arg-type]
