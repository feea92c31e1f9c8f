"""Task runs nested in a task run: each finished step keeps its Completed state whatever its siblings do later.

Prefect runs every task attempt inside a transaction that is a child of the calling task run's transaction. When an
attempt fails (even one that a retry then fixes), its transaction rolls back and takes its parent down with it, and
the parent rolls back every child that had finished: the UI relabels those finished steps "RolledBack" (measured
on Prefect 3.9, PREFECT_NOTES.md). mailroom does not use Prefect transactions for anything (exactly-once is the
ledger's job, results are not persisted), so the label only misleads an operator.

Inside ``steps_commit_on_their_own()`` nested task runs commit as soon as they finish (``CommitMode.EAGER``); a
committed transaction ignores a later rollback, so a finished step stays Completed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prefect.transactions import CommitMode, transaction


@contextmanager
def steps_commit_on_their_own() -> Iterator[None]:
    """Run the nested task calls of a task body in here (nothing is written anywhere: no key, no result store)."""
    with transaction(commit_mode=CommitMode.EAGER, write_on_commit=False):
        yield
