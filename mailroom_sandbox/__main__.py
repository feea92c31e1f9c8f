"""``python -m mailroom.sandbox``: run the sandbox (both emulators, seeded) until Ctrl-C, or generate a corpus.

    python -m mailroom.sandbox up --notices 50 --fault-rate 0.1 --profile sandbox-profile.json [--logiqs-dialect v3]
    python -m mailroom.sandbox corpus /tmp/corpus --notices 300 --scanned-fraction 0
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path

from mailroom_sandbox.corpus import DEFAULT_CACHE_DIR, generate_corpus
from mailroom_sandbox.corpus.models import FileKind
from mailroom_sandbox.http.faults import add_fault_arguments, fault_config_from_args, rate_limit_from_args
from mailroom_sandbox.stack import DEFAULT_DRIVE_RATE_LIMIT, SANDBOX_TODAY, Sandbox

DIALECTS = {"v3": "v3-findcase", "v4": "v4-findcase", "v3-findcase": "v3-findcase", "v4-findcase": "v4-findcase"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mailroom.sandbox", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start both emulators, seed them, write a profile, run until Ctrl-C")
    _corpus_arguments(up)
    up.add_argument("--profile", type=Path, default=Path("sandbox-profile.json"),
                    help="where to write URLs + sandbox credentials (mode 0600)")
    up.add_argument("--workdir", type=Path, default=None, help="working directory (default: a temporary dir)")
    up.add_argument("--corpus-cache", type=Path, default=DEFAULT_CACHE_DIR,
                    help="reuse corpora generated with the same options from here (default: %(default)s)")
    up.add_argument("--fresh-corpus", action="store_true", help="generate the corpus into the workdir, no cache")
    up.add_argument("--logiqs-dialect", choices=sorted(DIALECTS), default="v4",
                    help="case search the Logiqs emulator serves: v3 (V3 Case/FindCase, X-Api-Key, one case) or v4 "
                    "(V4 Case/FindCase, Basic auth, a list); the profile carries it to the blocks (default: v4)")
    up.add_argument("--drive-rate-limit", type=float, default=DEFAULT_DRIVE_RATE_LIMIT.requests_per_second,
                    help="Drive requests/second before 403 userRateLimitExceeded (0 = off)")
    drive = up.add_argument_group("Drive's rules (docs/sandbox-drive.md)")
    drive.add_argument("--shared-drive", action="store_true",
                       help="keep the folder tree in a shared drive (clients must send supportsAllDrives)")
    drive.add_argument("--listing-lag", type=float, default=0.0, metavar="SECONDS",
                       help="writes show in files.list only this many seconds later (files.get stays immediate)")
    drive.add_argument("--drive-retry-after", action="store_true",
                       help="send Retry-After with Drive throttles (real Drive does not)")
    add_fault_arguments(up)  # --fault-rate, --ambiguous-rate, --outage, ... and --rate-limit/--burst for Logiqs
    corpus = commands.add_parser("corpus", help="only generate a corpus + manifest.json into a directory")
    corpus.add_argument("out_dir", type=Path)
    _corpus_arguments(corpus)
    return parser


def _corpus_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notices", type=int, default=50, help="notice files to generate (bad files come on top)")
    parser.add_argument("--seed", type=int, default=7, help="corpus seed (same seed, same corpus)")
    parser.add_argument("--scanned-fraction", type=float, default=0.2, help="share of image-only (OCR) notices")
    parser.add_argument("--no-bad-files", action="store_true", help="leave out unreadable files and nasty names")


def _corpus_options(args: argparse.Namespace) -> dict[str, object]:
    # Notices dated in the weeks before the sandbox's today: some overdue, CP504s days from their deadline.
    return {"scanned_fraction": args.scanned_fraction, "include_bad_files": not args.no_bad_files,
            "as_of": SANDBOX_TODAY}


def _up(args: argparse.Namespace) -> int:
    faults = fault_config_from_args(args)
    has_faults = args.fault_rate or args.ambiguous_rate or args.outage or args.faults_json
    print(f"Generating {args.notices} notices (seed {args.seed}) and starting the emulators ...", flush=True)
    started = time.perf_counter()
    with Sandbox(notices=args.notices, seed=args.seed, workdir=args.workdir, faults=faults if has_faults else None,
                 drive_rate_limit=args.drive_rate_limit, logiqs_rate_limit=rate_limit_from_args(args),
                 corpus_cache=None if args.fresh_corpus else args.corpus_cache,
                 shared_drive=args.shared_drive, listing_lag=args.listing_lag,
                 drive_retry_after=args.drive_retry_after, logiqs_dialect=DIALECTS[args.logiqs_dialect],
                 **_corpus_options(args)) as sandbox:  # fmt: skip
        profile = sandbox.write_profile(args.profile).resolve()
        corpus = sandbox.corpus
        print(f"""
mailroom sandbox is up ({time.perf_counter() - started:.1f} s)
  Drive v3 emulator   {sandbox.drive_url}   (stats: {sandbox.drive_url}/_sandbox/stats)
  Logiqs emulator     {sandbox.logiqs_url}   (case search: {sandbox.logiqs_dialect}; stats: \
{sandbox.logiqs.url}/_sandbox/stats)
  corpus              {len(corpus.files)} files ({len(corpus.of_kind(FileKind.SCANNED))} scanned, \
{len(corpus.of_kind(FileKind.BAD))} bad), {len(corpus.cases)} cases; manifest {corpus.root / 'manifest.json'}
  Drive rules         {'shared drive ' + str(sandbox.shared_drive_id) if args.shared_drive else 'My Drive'}, \
listing lag {args.listing_lag:g} s, Retry-After on throttles {'on' if args.drive_retry_after else 'off (like Drive)'}
  faults              {'fault rate ' + str(args.fault_rate) if has_faults else 'off'} \
(change at runtime: PUT <emulator url>/_sandbox/faults with a FaultConfig JSON)
  profile             {profile}   (URLs + sandbox credentials, mode 0600)

Point the flow at it:
  python -m blocks.register --sandbox-profile {profile}
  python -m mailroom doctor --blocks sandbox
  python flows/daily.py --blocks sandbox
(or run everything in one process: python flows/daily.py --sandbox)
Ctrl-C stops the sandbox.""", flush=True)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        stop.wait()
    print("sandbox stopped", flush=True)
    return 0


def _corpus(args: argparse.Namespace) -> int:
    corpus = generate_corpus(args.out_dir, notices=args.notices, seed=args.seed, **_corpus_options(args))
    kinds = {kind.value: len(corpus.of_kind(kind)) for kind in FileKind}
    print(f"{len(corpus.files)} files {kinds}, {len(corpus.cases)} cases in {corpus.generation_seconds['total']:.1f} s"
          f" (scans {corpus.generation_seconds['scans']:.1f} s); manifest {corpus.root / 'manifest.json'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return _up(args) if args.command == "up" else _corpus(args)


if __name__ == "__main__":
    sys.exit(main())
