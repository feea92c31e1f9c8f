"""Importing the flow does not load PyMuPDF's layout add-on (ONNX Runtime), which mailroom never uses."""

from __future__ import annotations

import subprocess
import sys


def test_the_flow_process_does_not_load_the_layout_add_on_and_pdfs_still_open(tmp_path):
    probe = (
        "import sys, flows.daily, pymupdf\n"
        "doc = pymupdf.open(); page = doc.new_page(); page.insert_text((72, 72), 'Notice CP2000')\n"
        "assert 'Notice CP2000' in page.get_text()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('onnxruntime', 'pymupdf4llm', 'pymupdf.layout'))\n"
        "             and sys.modules[m] is not None))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
