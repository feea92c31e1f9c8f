"""letter: one letter of a file as it is being read: its pages, what they show, where each value came from, and why
any of its pages may belong to another letter."""

from __future__ import annotations

from typing import Any

from mailroom.notices.address import BlockNames
from mailroom.notices.model import FieldSource
from mailroom.notices.page_fields import merge
from mailroom.notices.parse import Found


class Letter:
    def __init__(self, first: int) -> None:
        self.first, self.last = first, first
        self.found: dict[str, Found[Any]] = {}
        self.block: BlockNames | None = None
        self.sources: dict[str, FieldSource] = {}
        # Why a page filed with this letter may belong to another letter (page numbers only), or None when every
        # page is known to be the letter's: a missed letter start must never put another taxpayer's page on a case.
        self.doubt: str | None = None
        # Pages were joined after the end the letter's label gave ("1 of 1", then a page that starts nothing): another
        # letter may start among them, the same taxpayer's too, so the letter gets no page marks to vouch with
        # (page_marks.py)
        self.past_its_end = False
        # Unlabelled inner pages that repeated none of the letter's marks known when they were read (page index, what
        # the page shows): judged again once the letter's other pages have given what they show
        # (``extract._judge_unvouched``).
        self.unvouched: list[tuple[int, dict[str, Found[Any]]]] = []
        # Name-like lines of the first page when it showed no address block and no surname (loose_names.py)
        self.loose_name_lines: list[str] = []
        # Those of its first page read with a stamp lifted, for a letter with no address block and no surname
        # (closer_looks._lift_stamp): more of the same evidence, after the plain read's
        self.lifted_name_lines: list[str] = []

    def doubt_about(self, reason: str) -> None:
        self.doubt = self.doubt or reason

    def put(self, name: str, result: Found[Any], source: FieldSource) -> None:
        """One value set as it is, whatever was there (the guesses at a last 4, which only grow)."""
        self.found[name], self.sources[name] = result, source

    def add(self, found: dict[str, Found[Any]], block: BlockNames | None, source: FieldSource) -> None:
        """Parser confidences as they are (completeness is judged on them); the OCR factor applies in the Notice."""
        before = dict(self.found)
        merge(self.found, found)
        for name, value in self.found.items():
            if before.get(name) is not value:
                self.sources[name] = source
        if self.block is None or (block is not None and block.names is not None and self.block.names is None):
            self.block = block
