"""CLI: ``python -m mailroom_sandbox.papers generate --out DIR --seed N --typed 200 --scanned 200``.

Prints what it wrote and the measured wall and CPU seconds and bytes per typed and per scanned file.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from mailroom_sandbox.papers.generate import DEFAULT_SCANNED, DEFAULT_TYPED, HELD_OUT_SEED, generate_corpus


def _summary(label: str, values: list[float], unit: str, scale: float = 1.0) -> str:
    if not values:
        return f"{label}: none"
    scaled = sorted(v * scale for v in values)
    return (f"{label}: n={len(scaled)} median={statistics.median(scaled):.3f}{unit} "
            f"mean={statistics.fmean(scaled):.3f}{unit} max={scaled[-1]:.3f}{unit}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mailroom_sandbox.papers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write a seeded corpus of PDFs and manifest.json")
    gen.add_argument("--out", required=True, help="directory for the PDFs and manifest.json")
    gen.add_argument("--seed", type=int, required=True, help=f"corpus seed ({HELD_OUT_SEED} is the HELD-OUT seed)")
    gen.add_argument("--typed", type=int, default=DEFAULT_TYPED, help="number of text-layer PDFs")
    gen.add_argument("--scanned", type=int, default=DEFAULT_SCANNED, help="number of scanned (image-only) PDFs")
    gen.add_argument("--workers", type=int, default=1, help="processes used to render (default 1)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    manifest, stats = generate_corpus(args.out, args.seed, args.typed, args.scanned, workers=args.workers)
    elapsed = time.perf_counter() - started
    letters = sum(len(f.letters) for f in manifest.files)
    held = " (HELD OUT: report on its own, never tune on it)" if manifest.held_out else ""
    print(f"wrote {len(manifest.files)} files, {letters} letters, {len(manifest.cases)} cases to {args.out}"
          f" in {elapsed:.1f}s with seed {args.seed}{held}")
    for kind in ("typed", "scanned"):
        print(_summary(f"{kind} wall seconds per file", stats.seconds[kind], "s"))
        print(_summary(f"{kind} CPU seconds per file", stats.cpu_seconds[kind], "s"))
        print(_summary(f"{kind} size per file", [float(b) for b in stats.sizes[kind]], "KB", 1 / 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())
