"""Fitting a notice under the Logiqs upload limit: the original when it fits, a recompressed copy (same bytes every
time) when its images are what makes it heavy, and a report-safe reason when nothing fits."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from mailroom.fitting import MB, fit_document
from mailroom_sandbox.corpus.heavy import colour_scan, with_attachment

TEXT = "Notice CP2000 for MARY SMITH\nSSN ***-**-6789\nRespond by 11/23/2025"


@pytest.fixture(scope="module")
def notice_pdf() -> bytes:
    with pymupdf.open() as document:
        document.new_page().insert_text((72, 72), TEXT, fontsize=12)
        return document.tobytes()


@pytest.fixture(scope="module")
def heavy(notice_pdf: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-page 200 dpi colour scan, about 1.4 MB: tests fit it under half its size."""
    path = tmp_path_factory.mktemp("heavy") / "scan.pdf"
    path.write_bytes(colour_scan(notice_pdf, seed=3, dpi=200, pages=1))
    return path


def test_a_document_within_the_limit_is_uploaded_as_it_is(tmp_path, notice_pdf):
    source = tmp_path / "n.pdf"
    source.write_bytes(notice_pdf)
    fitting = fit_document(source, tmp_path / "n.fitted.pdf", max_bytes=len(notice_pdf))
    assert (fitting.path, fitting.recompressed, fitting.final_bytes) == (source, False, len(notice_pdf))
    assert not (tmp_path / "n.fitted.pdf").exists()


def test_an_oversize_scan_is_recompressed_to_fit_keeping_pages_and_text(tmp_path, heavy):
    limit = heavy.stat().st_size // 2
    fitting = fit_document(heavy, tmp_path / "fitted.pdf", max_bytes=limit)

    assert fitting.fits and fitting.recompressed and fitting.path == tmp_path / "fitted.pdf"
    assert fitting.final_bytes == fitting.path.stat().st_size <= limit < fitting.original_bytes
    assert fitting.dpi == 150
    with pymupdf.open(fitting.path) as copy:
        assert copy.page_count == 1 and copy[0].get_text().strip() == TEXT
        assert copy[0].get_images()  # the page photo is still there, only lighter
    assert oct(fitting.path.stat().st_mode & 0o777) == "0o600"  # it holds a notice: owner only


def test_fitting_again_gives_the_same_bytes(tmp_path, heavy):
    """A retried upload (or a rerun after a crash, which fits again) must send what the first attempt sent."""
    limit = heavy.stat().st_size // 2
    first = fit_document(heavy, tmp_path / "a.pdf", max_bytes=limit)
    second = fit_document(heavy, tmp_path / "b.pdf", max_bytes=limit)
    assert first.sha256 == second.sha256 and (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


def test_a_document_whose_weight_is_not_in_its_images_gets_a_reason_not_an_exception(tmp_path, notice_pdf):
    source = tmp_path / "attached.pdf"
    source.write_bytes(with_attachment(notice_pdf, seed=1, size=2 * MB))
    fitting = fit_document(source, tmp_path / "attached.fitted.pdf", max_bytes=1 * MB)

    assert not fitting.fits and fitting.path is None and not (tmp_path / "attached.fitted.pdf").exists()
    assert fitting.failure.startswith("document is 2.0 MB, over the 1 MB Logiqs upload limit, and even with")
    assert "96 dpi" in fitting.failure and "SMITH" not in fitting.failure


def test_an_unreadable_oversize_file_gets_a_reason(tmp_path):
    source = tmp_path / "junk.pdf"
    source.write_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 200_000)
    fitting = fit_document(source, tmp_path / "junk.fitted.pdf", max_bytes=1 * MB)
    assert not fitting.fits and "could not be recompressed" in fitting.failure
