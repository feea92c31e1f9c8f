"""InMemoryCaseDirectory answers every FindCase query as the Logiqs emulator does over HTTP (one search, two doors)."""

from __future__ import annotations

import pytest

from mailroom.crm import CaseCandidate
from mailroom.errors import NotFoundError
from mailroom.logiqs import LogiqsClient
from mailroom.resilience import ResiliencePolicy
from mailroom_sandbox.http.faults import RateLimitConfig
from mailroom_sandbox.logiqs.directory import InMemoryCaseDirectory
from mailroom_sandbox.logiqs.server import LogiqsEmulator
from mailroom_sandbox.logiqs.store import SeedCase

CASES = [SeedCase.model_validate(case) for case in (
    {"case_id": 11, "first_name": "John", "last_name": "Smith", "spouse_first_name": "Jane",
     "spouse_last_name": "Smith", "ssn": "100-20-1234", "spouse_ssn": "100-20-4321"},
    {"case_id": 12, "first_name": "Jon", "last_name": "Smith", "ssn": "300-40-1234", "status": "Closed",
     "active": False},
    {"case_id": 13, "first_name": "Ana", "last_name": "Garcia-Lopez", "ssn": "700-80-5555"},
    {"case_id": 14, "first_name": "Sean", "last_name": "O'Neil", "ssn": "800-90-5555"},
    {"case_id": 15, "first_name": "Liam", "last_name": "Reed", "spouse_first_name": "Ava", "spouse_last_name": "Moss",
     "ssn": "900-10-7777", "spouse_ssn": "900-10-8888"},
)]  # fmt: skip
QUERIES = [  # (last name, last 4, first name, active only)
    ("Smith", "1234", None, False), ("smith", "1234", None, True), ("SMITH", "4321", None, False),
    ("Smith", "1234", "jo", False), ("Smith", "1234", "Ja", False), ("Smith", "9999", None, False),
    ("Garcia", "5555", None, False), ("Lopez", "5555", None, False), ("Garcia Lopez", "5555", None, False),
    ("oneil", "5555", None, False), ("O'Neil", "5555", "SEAN", False), ("Moss", "8888", None, False),
    ("Moss", "7777", "Ava", False), ("Reed", "8888", "Liam", False), ("Garci", "5555", None, False),
]


@pytest.fixture(scope="module")
def client():
    with LogiqsEmulator(rate_limit=RateLimitConfig(requests_per_second=None)) as emulator:
        emulator.seed_cases(CASES)
        key, secret = emulator.create_api_key()
        policy = ResiliencePolicy("logiqs", max_retries=0, use_breaker=False, use_budget=False)
        yield LogiqsClient(emulator.api_url, key, secret, policy=policy, timeout=(1, 2))


def test_every_query_finds_the_same_cases_in_memory_as_over_http(client):
    directory = InMemoryCaseDirectory(CaseCandidate.model_validate(case, from_attributes=True) for case in CASES)
    found_any = set()
    for last, last4, first, active_only in QUERIES:
        over_http = [c.case_id for c in client.find_cases(last, last4, first_name=first, active_only=active_only)]
        in_memory = [c.case_id for c in directory.find_cases(last, last4, first_name=first, active_only=active_only)]
        assert in_memory == over_http, (last, last4, first, active_only)
        found_any.update(in_memory)
    assert found_any == {11, 12, 13, 14, 15}  # the queries reach every case, so a one-sided miss would show


def test_get_case_and_a_missing_case():
    directory = InMemoryCaseDirectory([CaseCandidate(case_id=7, last_name="Park", ssn_last4="1111")])
    assert directory.get_case(7).last_name == "Park"
    with pytest.raises(NotFoundError):
        directory.get_case(8)
