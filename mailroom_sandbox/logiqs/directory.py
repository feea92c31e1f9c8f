"""``InMemoryCaseDirectory``: the Logiqs emulator's FindCase search over a plain list of cases, without HTTP."""

from __future__ import annotations

from collections.abc import Iterable

from mailroom.crm import CaseCandidate
from mailroom.errors import NotFoundError
from mailroom_sandbox.logiqs.store import find_matching_cases


class InMemoryCaseDirectory:
    """A ``mailroom.crm.CaseDirectory`` over a list of cases, searched exactly as the emulator's FindCase searches
    (``store.find_matching_cases``; see docs/logiqs-api.md). For offline runs, benchmarks and tests."""

    def __init__(self, cases: Iterable[CaseCandidate]) -> None:
        self._cases = {case.case_id: case for case in cases}

    def find_cases(
        self, last_name: str, ssn_last4: str, *, first_name: str | None = None, active_only: bool = False
    ) -> list[CaseCandidate]:
        return find_matching_cases(self._cases.values(), last_name, ssn_last4, first_name, active_only)

    def get_case(self, case_id: int) -> CaseCandidate:
        if case_id not in self._cases:
            raise NotFoundError(f"case {case_id} not found", service="crm", operation="get_case", status=404)
        return self._cases[case_id]
