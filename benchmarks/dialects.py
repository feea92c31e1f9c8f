"""Matching on each Logiqs case-search dialect, side by side over the same corpus and case book.

For every notice of a synthetic corpus, the manifest's own fields (not extraction: this measures the search, not
the reader) go through ``mailroom.matching.match_notice`` with a ``LogiqsClient`` over HTTP to the emulator, once
serving V4 FindCase (a list) and once V3 FindCase (one case per answer). Printed per dialect: outcomes that agree
with the manifest, notices filed to another case than expected (the V3 blind spot: a second case of the same
taxpayer), FindCase calls per notice.

    python benchmarks/dialects.py [--notices 300] [--seed 7]

All figures are TUNED: the corpus generator and the emulator are ours (docs/logiqs-api.md says what is assumed).
Last line: ratios V3 / V4.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any
from collections import Counter

from mailroom.logiqs import LogiqsClient
from mailroom.logiqs_dialects import SEARCH_DIALECTS, LogiqsDialect
from mailroom.matching import MatchOutcome, match_notice
from mailroom.notices.model import Notice
from mailroom.resilience import ResiliencePolicy
from mailroom_sandbox.corpus.models import Outcome
from mailroom_sandbox.stack import Sandbox


def measure(notices: int, seed: int, dialect: str) -> dict[str, Any]:
    with Sandbox(notices=notices, seed=seed, logiqs_dialect=dialect, logiqs_rate_limit=None,
                 scanned_fraction=0.0) as sandbox:  # no scans: the notices are never read here
        client = LogiqsClient(sandbox.logiqs_url, sandbox.logiqs_api_key, sandbox.logiqs_secret,
                              policy=ResiliencePolicy("logiqs", use_breaker=False, use_budget=False),
                              dialect=LogiqsDialect(search=dialect))
        files = [f for f in sandbox.corpus.in_scope() if f.notice is not None]
        agree = wrong_case = 0
        wrong_reasons: Counter[str] = Counter()
        started = time.perf_counter()
        for file in files:
            expected = file.notice
            notice = Notice(taxpayer_first_name=expected.taxpayer_first_name,
                            taxpayer_last_name=expected.taxpayer_last_name,
                            spouse_first_name=expected.spouse_first_name, spouse_last_name=expected.spouse_last_name,
                            ssn_last4=expected.ssn_last4 if expected.ssn_display != "absent" else None)
            result = match_notice(notice, client)
            matched = result.outcome is MatchOutcome.MATCHED
            if matched == (file.expected_outcome is Outcome.MATCHED) and (
                    not matched or result.case_id == file.expected_case_id):
                agree += 1
            elif matched and result.case_id != file.expected_case_id:
                wrong_case += 1
                wrong_reasons[file.expected_reason] += 1
        seconds = time.perf_counter() - started
        searches = sum(sandbox.logiqs.stats()["calls"].get("Case/FindCase", {}).values())
    return {"notices": len(files), "agree": agree / len(files), "wrong_case": wrong_case,
            "searches_per_notice": searches / len(files), "seconds": seconds, "wrong_reasons": dict(wrong_reasons)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.getLogger("mailroom").setLevel(logging.CRITICAL)
    results = {dialect: measure(args.notices, args.seed, dialect) for dialect in SEARCH_DIALECTS}
    for dialect, r in results.items():
        print(f"{dialect}: {r['notices']} notices, agree {r['agree']:.1%}, filed to another case "
              f"{r['wrong_case']} {r['wrong_reasons'] or ''}, FindCase calls/notice {r['searches_per_notice']:.2f}, {r['seconds']:.1f} s (tuned)")
    v3, v4 = results["v3-findcase"], results["v4-findcase"]
    print(f"agree_v3={v3['agree']:.3f} agree_v4={v4['agree']:.3f} "
          f"search_calls_ratio={v3['searches_per_notice'] / v4['searches_per_notice']:.2f} "
          f"wrong_case_v3={v3['wrong_case']} wrong_case_v4={v4['wrong_case']}")


if __name__ == "__main__":
    main()
