"""A reading held packed while most-urgent-first reads the rest of the run (flows.urgent_first.Waiting)."""

from __future__ import annotations

import pickle
import sys
import zlib
from datetime import date

from flows.urgent_first import Waiting
from mailroom.crm import CaseCandidate
from mailroom.drive import DriveFile
from mailroom.intake import Extraction, Reading
from mailroom.ledger import NoticeKey
from mailroom.matching import match_notice
from mailroom.notices import extract_notice
from mailroom.urgency import urgency_key
from tasks.context import RetryCounter
from tests.unit.test_extraction import page_one, write_pdf
from tests.unit.test_matching import ListDirectory


def _deep_size(root: object) -> int:
    """Bytes of every object reachable from ``root`` (what holding it costs), shared constants included once."""
    seen: set[int] = set()
    stack, total = [root], 0
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, type):
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        else:
            stack.extend(getattr(item, "__dict__", {}).values())
            stack.extend(getattr(item, name) for name in getattr(type(item), "__slots__", ()) if hasattr(item, name))
            stack.extend(getattr(item, "__pydantic_private__", None) or {})
    return total


def _reading(tmp_path) -> Reading:
    pdf = write_pdf(tmp_path / "typed.pdf", [page_one(), ["Page 2 of 2", "Information reported to the IRS " * 3]])
    notice = extract_notice(pdf)
    cases = ListDirectory([CaseCandidate(case_id=n, first_name=first, last_name="Smith", ssn_last4="4321",
                                         active=True, status="Active")
                           for n, first in enumerate(["John", "Jon", "Johnny", "Mary"], start=1)])  # fmt: skip
    file = DriveFile(id="f1", name="Scan_0001.pdf", mime_type="application/pdf", md5="m" * 32, size=1234)
    return Reading(file=file, key=NoticeKey(file_id=file.id, md5=file.md5), claimed=True, path=pdf,
                   extraction=Extraction(notice=notice), match=match_notice(notice, cases))


def test_a_waiting_reading_comes_back_as_it_was_read_with_its_retry_counts(tmp_path):
    reading = _reading(tmp_path)
    counted = RetryCounter()
    counted.add(), counted.add(), counted.add_task_retry()
    order = urgency_key(reading.days_left(date(2025, 10, 20)), 7)

    waiting = Waiting.of(reading, counted, order)
    back, back_counted = waiting.unpacked()

    assert back == reading and back.extraction.notice.fields == reading.extraction.notice.fields
    assert back.match.candidates == reading.match.candidates and back.match.case_id == reading.match.case_id
    assert (back_counted.count, back_counted.task_retries) == (2, 1)
    back_counted.add()  # the filing pass keeps counting on the same counter: it has a working lock again
    assert back_counted.count == 3
    assert waiting.order == order == (0, 24, 7) and waiting.needs_ocr is False


def test_a_scan_waits_in_the_scan_lane(tmp_path):
    reading = _reading(tmp_path).model_copy(update={"extraction": None, "match": None})
    assert Waiting.of(reading, RetryCounter(), (1, 0, 0)).needs_ocr is True


def test_held_packed_a_reading_costs_a_fraction_of_the_objects(tmp_path):
    # The point of Waiting (10,000 readings held at once): here ~23 KB as objects (4 candidates), ~1.4 KB packed.
    reading, counted = _reading(tmp_path), RetryCounter()
    waiting = Waiting.of(reading, counted, (0, 1, 1))
    as_objects = _deep_size((reading, counted))
    assert _deep_size(waiting) * 3 < as_objects, (_deep_size(waiting), as_objects)
    assert pickle.loads(zlib.decompress(waiting.packed))[0] == reading
