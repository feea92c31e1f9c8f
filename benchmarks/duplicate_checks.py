"""What the duplicate checks cost: the same corpus filed twice, side by side, with and without them.

    python benchmarks/duplicate_checks.py --notices 60

Each round files a fresh sandbox (same seed, hostile files included: a duplicate upload and a rescanned letter)
through ``mailroom.intake`` with plain, Prefect-free steps over the real clients (the per-notice path of
flows/notice.py), once with ``check_case_documents`` on (one Logiqs read of the case's activity feed per filed
notice) and once off; rounds alternate, so machine load falls on both alike. The identity claims (two ledger
transactions per notice, on in both) are timed apart against the ledger's own ``claim`` on one SQLite file. Figures
are measured on our own generator and emulators: tuned, not held-out.

Last line: ``logiqs_requests_ratio=X wall_ratio=Y identity_claim_vs_claim=Z duplicates_caught=N documents=A/B``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass
class PlainSteps:
    """``mailroom.intake.Steps`` over real clients, without Prefect (what each task of flows/notice.py does)."""

    drive: object
    logiqs: object
    ledger: object
    owner: str
    workdir: Path

    def download(self, file):  # noqa: ANN001, ANN201
        self.drive.download(file.id, self._path(file.id))
        return self._path(file.id)

    def _path(self, file_id: str) -> Path:
        return self.workdir / f"{file_id}.pdf"

    def discard(self, file) -> None:  # noqa: ANN001
        self._path(file.id).unlink(missing_ok=True)

    def extract(self, path, file_name):  # noqa: ANN001, ANN201
        from mailroom.intake import Extraction
        from mailroom.notices import ExtractionError, extract_notice

        try:
            return Extraction(notice=extract_notice(path, file_name=file_name))
        except ExtractionError as exc:
            return Extraction(failure=exc.failure.value, message=str(exc))

    def match(self, notice):  # noqa: ANN001, ANN201
        from mailroom.matching import match_notice

        return match_notice(notice, self.logiqs)

    def upload(self, key, case_id, path, document_name):  # noqa: ANN001, ANN201
        from mailroom.effects import ensure_document

        return ensure_document(self.ledger, self.logiqs, key, owner=self.owner, case_id=case_id, path=path,
                               file_name=document_name, comment="IRS notice").id

    def create_task(self, key, case_id, letter_type, notice_date, due_date: date):  # noqa: ANN001, ANN201
        from mailroom.crm import TaskRequest
        from mailroom.effects import ensure_task

        due = datetime.combine(due_date, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=17)
        request = TaskRequest(case_id=case_id, subject=f"Review {letter_type} Notice", due_date=due,
                              reminder=due - timedelta(days=7))
        return ensure_task(self.ledger, self.logiqs, key, request, owner=self.owner).id

    def move(self, key, outcome, to_folder_id, reason) -> None:  # noqa: ANN001
        from mailroom.effects import ensure_moved

        ensure_moved(self.ledger, self.drive, key, owner=self.owner, outcome=outcome, to_folder_id=to_folder_id,
                     reason=reason)

    def filed_copy(self, key, case_id, document_name):  # noqa: ANN001, ANN201
        from mailroom.duplicates import filed_copy

        return filed_copy(self.logiqs.activities(case_id), key.marker, document_name)


def one_round(notices: int, seed: int, checks: bool) -> dict[str, float]:
    from mailroom.drive import DriveClient, build_drive_service
    from mailroom.intake import Intake
    from mailroom.ledger import Ledger
    from mailroom.logiqs import LogiqsClient
    from mailroom.resilience import reset_registry
    from mailroom_sandbox.stack import Sandbox

    reset_registry()
    with Sandbox(notices=notices, seed=seed, scanned_fraction=0.0, include_hostile_files=True) as sandbox, \
            tempfile.TemporaryDirectory() as tmp:
        drive = DriveClient(build_drive_service(sandbox.service_account_info, api_endpoint=sandbox.drive_url))
        logiqs = LogiqsClient(sandbox.logiqs_url, sandbox.logiqs_api_key, sandbox.logiqs_secret)
        ledger = Ledger(Path(tmp) / "ledger.sqlite")
        folders = sandbox.folders
        intake = Intake(ledger, "bench", folders.matched, folders.unmatched, check_case_documents=checks)
        steps = PlainSteps(drive, logiqs, ledger, "bench", Path(tmp))
        ids = dict(sandbox.file_ids)
        files = [drive.get(ids[f.key]) for f in sandbox.corpus.in_scope()]
        before = sandbox.stats()["logiqs"]["requests"]
        started = time.perf_counter()
        rows = [intake.process(file, steps) for file in files]
        wall = time.perf_counter() - started
        return dict(wall=wall, logiqs=sandbox.stats()["logiqs"]["requests"] - before, notices=len(files),
                    documents=sandbox.logiqs.stats()["documents_total"],
                    duplicates=sum(getattr(r, "duplicate_of", None) is not None for r in rows))


def claim_timings(count: int) -> tuple[float, float]:
    """Median seconds of ``claim`` and of ``claim_identity`` per notice, interleaved, on one SQLite ledger."""
    from mailroom.ledger import Ledger, NoticeKey

    claims, identities = [], []
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(Path(tmp) / "ledger.sqlite")
        for n in range(count):
            key = NoticeKey(file_id=f"f{n}", md5=f"{n:032x}")
            started = time.perf_counter()
            ledger.claim(key, "bench", 60.0)
            claims.append(time.perf_counter() - started)
            started = time.perf_counter()
            ledger.claim_identity(key, "letter", f"h{n}")
            identities.append(time.perf_counter() - started)
    return statistics.median(claims), statistics.median(identities)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    results: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    for n in range(args.rounds):
        for checks in ((True, False) if n % 2 == 0 else (False, True)):
            result = one_round(args.notices, args.seed, checks)
            results[checks].append(result)
            print(f"  round {n + 1} checks={'on ' if checks else 'off'}: {result}")
    on, off = ({k: statistics.median(r[k] for r in results[c]) for k in results[c][0]} for c in (True, False))
    claim, identity = claim_timings(400)
    print(f"check_case_documents on: {on}\n                     off: {off}")
    print(f"ledger claim {claim * 1000:.2f} ms, claim_identity {identity * 1000:.2f} ms (median of 400, SQLite)")
    print(f"logiqs_requests_ratio={on['logiqs'] / off['logiqs']:.2f} wall_ratio={on['wall'] / off['wall']:.2f} "
          f"identity_claim_vs_claim={identity / claim:.2f} duplicates_caught={int(on['duplicates'])} "
          f"documents={int(on['documents'])}/{int(off['documents'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
