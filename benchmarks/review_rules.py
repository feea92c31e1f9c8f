"""What the review rules send to a person, and what they catch: extraction + matching + ``ReviewPolicy`` over a
corpus, against its manifest, for the default thresholds and a few others.

    python benchmarks/review_rules.py --notices 150 --seed 7      # the corpus the defaults were chosen on (tuned)
    python benchmarks/review_rules.py --notices 150 --seed 99     # a corpus never looked at while choosing (held-out)

Per threshold pair (min match score, min field confidence), printed: notices sent to review (of which low
confidence), wrong filings the rules stop (the matcher's clear winner is not the manifest's case, or the manifest
expects no filing) and wrong filings that would still happen, and correct matches sent to review (the reviewer's
extra work). No Prefect, no HTTP: the in-memory case directory. Last line: the default's figures.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailroom.matching import MatchOutcome, match_notice  # noqa: E402
from mailroom.notices import ExtractionError, ExtractionLimits, extract_notice  # noqa: E402
from mailroom.pipeline_settings import PipelineSettings  # noqa: E402
from mailroom.review import ReviewPolicy  # noqa: E402
from mailroom_sandbox.corpus import cached_corpus  # noqa: E402
from mailroom_sandbox.corpus.models import FileKind  # noqa: E402
from mailroom_sandbox.logiqs.directory import InMemoryCaseDirectory  # noqa: E402

THRESHOLDS = ((85.0, 0.0), (90.0, 0.6), (90.0, 0.75), (90.0, 0.8), (95.0, 0.75))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=150)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scanned-fraction", type=float, default=0.3)
    args = parser.parse_args(argv)

    corpus = cached_corpus(notices=args.notices, seed=args.seed, scanned_fraction=args.scanned_fraction,
                           include_bad_files=False)
    directory = InMemoryCaseDirectory([c.as_candidate() for c in corpus.cases])
    readings = []
    for file in corpus.files:
        if file.kind is FileKind.BAD:
            continue
        try:
            notice = extract_notice(corpus.path(file), file_name=file.drive_name, limits=ExtractionLimits())
        except ExtractionError:
            continue
        readings.append((file, notice, match_notice(notice, directory)))
    kinds = Counter(f.kind.value for f, _, _ in readings)
    print(f"seed {args.seed}: {len(readings)} notices read ({dict(kinds)}), "
          f"{sum(m.outcome is MatchOutcome.MATCHED for _, _, m in readings)} clear matches")
    defaults = PipelineSettings()
    default_line = ""
    for score, confidence in THRESHOLDS:
        policy = ReviewPolicy(min_match_score=score, min_field_confidence=confidence)
        to_review = low = stopped = still_wrong = extra_work = 0
        for file, notice, match in readings:
            why = policy.reason_for(notice, match)
            to_review += why is not None
            filed = match.outcome is MatchOutcome.MATCHED and notice.response_due_date is not None
            wrong = filed and match.case_id != file.expected_case_id
            low += why is not None and why.startswith("low confidence")
            stopped += wrong and why is not None
            still_wrong += wrong and why is None
            extra_work += filed and not wrong and why is not None
        line = (f"score<{score:.0f} or confidence<{confidence:.2f}: review={to_review} (low confidence {low}) "
                f"wrong_filings_stopped={stopped} wrong_filings_left={still_wrong} correct_sent_to_review={extra_work}")
        print(line)
        if (score, confidence) == (defaults.review_min_match_score, defaults.review_min_field_confidence):
            default_line = line
    print(f"default ({'tuned' if args.seed == 7 else 'held-out'} seed {args.seed}): {default_line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
