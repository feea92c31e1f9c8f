"""A process killed in the middle of an OCR leaves nothing behind: no page image, no OCR text, no full SSN on disk.

The old reader ran Tesseract through pytesseract, which writes the page image and Tesseract's output to files in the
system temp dir; a kill at the wrong moment left the OCR text there with the full SSN in it. The reader now hands
pixels to libtesseract in memory. Here a child process extracts a scanned notice with a hook that tells us when the
page is in Tesseract ("pixels") or its words exist ("text") and then waits; we SIGKILL its whole process group at
that point (forced by the hook, not by timing) and search every file the child could have written for the SSN.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.unit.test_extraction import page_one, scanned_copy, write_pdf

DRIVER = """
import sys
from pathlib import Path
from mailroom.notices import extract_notice, tesseract

def hold(stage):
    if stage == sys.argv[2]:
        print("ocr " + stage, flush=True)
        sys.stdin.readline()  # wait here until the test kills us

tesseract.add_ocr_hook(hold)
extract_notice(Path(sys.argv[1]))
print("finished", flush=True)
"""


def _unique_itin() -> str:
    # A fresh valid ITIN per run, so no other test on this shared machine can leave the same digits in /tmp.
    rng = random.Random(time.time_ns())
    return f"9{rng.randrange(10, 99)}-{rng.choice([70, 78, 80, 88])}-{rng.randrange(1000, 9999)}"


def _files_under(root: Path, since: float) -> list[Path]:
    found = []
    for dirpath, _, names in os.walk(root, onerror=lambda error: None):
        for name in names:
            path = Path(dirpath) / name
            try:
                if path.is_file() and not path.is_symlink() and path.stat().st_mtime >= since:
                    found.append(path)
            except OSError:
                continue
    return found


def _holding(path: Path, forms: tuple[str, ...]) -> bool:
    try:
        data = path.read_bytes()[:20_000_000]
    except OSError:
        return False
    return any(form.encode() in data for form in forms)


@pytest.mark.parametrize("stage", ["pixels", "text"])
def test_kill_during_ocr_leaves_no_full_ssn_on_disk(tmp_path, stage):
    ssn = _unique_itin()
    forms = (ssn, ssn.replace("-", ""), ssn.replace("-", " "))
    typed = write_pdf(tmp_path / "typed.pdf", [page_one(ssn=ssn)])
    scan = scanned_copy(typed, tmp_path / "scan.pdf")
    typed.unlink()
    private_tmp = tmp_path / "tmpdir"
    private_tmp.mkdir(mode=0o700)
    started = time.time() - 1
    env = {**os.environ, "TMPDIR": str(private_tmp), "PYTHONPATH": os.getcwd()}
    child = subprocess.Popen([sys.executable, "-c", DRIVER, str(scan), stage], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                             start_new_session=True)  # fmt: skip
    try:
        assert child.stdout.readline().strip() == f"ocr {stage}"  # the child is inside the OCR now
        os.killpg(child.pid, signal.SIGKILL)  # the child and anything it started
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    # PyMuPDF writes a 51-byte session id (".ses") into TMPDIR when imported; a page image or an OCR text would be
    # far larger than 1 KB, so anything bigger is an OCR leftover even if its digits are pixels.
    leftovers = [p for p in _files_under(private_tmp, 0) if p.stat().st_size > 1024 or _holding(p, forms)]
    assert leftovers == [], f"the OCR left files in its temp dir: {[p.name for p in leftovers]}"
    shared = Path(tempfile.gettempdir())
    holding = [p for p in _files_under(shared, started) if tmp_path not in p.parents and _holding(p, forms)]
    assert holding == [], f"a full SSN was left in {holding}"
    # and the scan itself is the only file of ours that ever held it (as pixels, not digits)
    assert not _holding(scan, forms)
