"""Shared fixtures: running sandboxes (Drive + Logiqs emulators seeded from a synthetic corpus).

    def test_something(sandbox):                      # small default sandbox, fresh emulator state per test
        ...
    def test_chaos(sandbox_factory):                  # any size / fault rate; stopped when the test ends
        sb = sandbox_factory(notices=40, fault_rate=0.2)
    def test_many(session_sandbox_factory): ...       # same, but lives until the session ends (share it read-only)
    def test_ledger(ledger_target): ...               # runs twice: SQLite file, then a fresh PostgreSQL database

Corpora are generated once per session per (notices, seed, corpus options) and shared read-only between
sandboxes: generation (scans especially) is the slow part; starting and seeding emulators takes well under a second.
The suite runs on two pytest-xdist workers (pyproject addopts): "session" is one worker's, so each worker has its own
corpora, servers, PostgreSQL cluster and temp dirs under its own basetemp. Shared between workers: only the corpus
cache of ``Sandbox(...)`` started directly (``cached_corpus``: renamed into place whole, read-only after) and
Hypothesis's example database.
Every sandbox a factory started is stopped, whatever the test did.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings

from mailroom.resilience import reset_registry
from mailroom_sandbox.corpus import generate_corpus
from mailroom_sandbox.corpus.models import Corpus
from mailroom_sandbox.stack import Sandbox

SandboxFactory = Callable[..., Sandbox]
DEFAULT_NOTICES = 12

# Hypothesis fails an example that takes over 200 ms by default: a verdict on speed, which a loaded 2-core machine
# (the suite runs on two workers, beside other work) must not decide. What each property test proves is unchanged.
settings.register_profile("mailroom", deadline=None)
settings.load_profile("mailroom")


@pytest.fixture(autouse=True)
def fresh_resilience_state() -> Iterator[None]:
    """Each test starts and ends with no resilience state: breakers, budgets, limiters and metrics are per service
    and process-wide, so a circuit one test left open, or a budget it spent, must not decide another test. Hooks
    stay (see ``reset_registry``); a test that installs a fake clock calls ``reset_registry(clock=...)`` itself."""
    reset_registry()
    yield
    reset_registry()


@pytest.fixture(scope="session")
def corpus_cache(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Corpus]:
    """``corpus_cache(notices=..., seed=..., **generate_corpus options)`` -> a session-wide shared Corpus."""
    cache: dict[tuple[Any, ...], Corpus] = {}

    def get(notices: int = DEFAULT_NOTICES, seed: int = 7, **options: Any) -> Corpus:
        key = (notices, seed, json.dumps(options, sort_keys=True, default=str))
        if key not in cache:
            out_dir = tmp_path_factory.mktemp(f"corpus-{notices}-{seed}")
            cache[key] = generate_corpus(out_dir, notices=notices, seed=seed, **options)
        return cache[key]

    return get


def _factory(corpus_cache: Callable[..., Corpus], started: list[Sandbox]) -> SandboxFactory:
    corpus_keys = ("scanned_fraction", "include_bad_files", "scenario_rates", "filler_cases", "as_of",
                   "include_hostile_files")

    def make(notices: int = DEFAULT_NOTICES, fault_rate: float = 0.0, seed: int = 7, **kwargs: Any) -> Sandbox:
        options = {k: kwargs.pop(k) for k in corpus_keys if k in kwargs}
        corpus = kwargs.pop("corpus", None) or corpus_cache(notices, seed, **options)
        sandbox = Sandbox(notices, fault_rate, seed, corpus=corpus, **kwargs)
        started.append(sandbox)  # before start(): a half-started sandbox is stopped too
        return sandbox.start()

    return make


def _stop_all(started: list[Sandbox]) -> None:
    for sandbox in reversed(started):
        sandbox.stop()


@pytest.fixture
def sandbox_factory(corpus_cache: Callable[..., Corpus]) -> Iterator[SandboxFactory]:
    """Start sandboxes inside one test; all of them stop when the test ends."""
    started: list[Sandbox] = []
    try:
        yield _factory(corpus_cache, started)
    finally:
        _stop_all(started)


@pytest.fixture(scope="session")
def session_sandbox_factory(corpus_cache: Callable[..., Corpus]) -> Iterator[SandboxFactory]:
    """Like ``sandbox_factory`` but the sandboxes live for the whole session (for read-only use across tests)."""
    started: list[Sandbox] = []
    try:
        yield _factory(corpus_cache, started)
    finally:
        _stop_all(started)


@pytest.fixture
def sandbox(sandbox_factory: SandboxFactory) -> Sandbox:
    """A small sandbox without faults: 12 notices + the bad files, fresh emulator state for this test."""
    return sandbox_factory()


# -- PostgreSQL (the shared ledger backend) ----------------------------------------------------------------------

if TYPE_CHECKING:
    from tests.pg import ThrowawayPostgres

SKIP_POSTGRES_ENV = "MAILROOM_SKIP_POSTGRES"
LEDGER_BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayPostgres]:
    """A throwaway PostgreSQL cluster for the session (started on first use, stopped and deleted at the end).

    Missing server binaries FAIL the tests that need it (CI installs them); MAILROOM_SKIP_POSTGRES=1 skips them.
    """
    from tests.pg import PostgresUnavailable, ThrowawayPostgres

    if os.environ.get(SKIP_POSTGRES_ENV) == "1":
        pytest.skip(f"{SKIP_POSTGRES_ENV}=1: PostgreSQL ledger tests skipped")
    problem = ""
    try:
        cluster = ThrowawayPostgres.create()
    except PostgresUnavailable as exc:
        problem = str(exc)
    if problem:  # outside the except: the message alone, no chained traceback
        pytest.fail(problem, pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


_database_numbers = itertools.count(1)


@pytest.fixture
def postgres_url(postgres: ThrowawayPostgres, request: pytest.FixtureRequest) -> str:
    """A new, empty database in the session cluster, for this test only; its SQLAlchemy URL."""
    name = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40]
    return postgres.create_database(f"t{next(_database_numbers)}_{name}")


@dataclass
class LedgerTarget:
    """Where a test's ledger lives; the same test runs once per backend (``ledger_target`` fixture)."""

    backend: str
    url: str  # sqlite:////abs/path or postgresql+psycopg://...; picklable, for child processes
    state_dir: Path
    options: dict[str, Any] = field(default_factory=dict)

    def open(self, **options: Any) -> Any:
        from mailroom.ledger import Ledger

        return Ledger.from_url(self.url, **{**self.options, **options})

    def settings(self) -> dict[str, Any]:
        """Settings-block values that point a flow at this ledger (SQLite: the default file under state_dir)."""
        return {"ledger_url": self.url} if self.backend == "postgresql" else {}


@pytest.fixture(params=LEDGER_BACKENDS)
def ledger_target(request: pytest.FixtureRequest, tmp_path: Path) -> LedgerTarget:
    from mailroom.ledger import default_ledger_path

    state_dir = tmp_path / "state"
    if request.param == "postgresql":
        return LedgerTarget("postgresql", request.getfixturevalue("postgres_url"), state_dir)
    return LedgerTarget("sqlite", f"sqlite:///{default_ledger_path(state_dir)}", state_dir)
