"""The whole sandbox in one object: a synthetic corpus, the Drive v3 and Logiqs emulators, seeded and wired.

    with Sandbox(notices=50, fault_rate=0.1, logiqs_dialect="v3-findcase") as sandbox:
        service = build_drive_service(sandbox.service_account_info, api_endpoint=sandbox.drive_url)
        logiqs = LogiqsClient(sandbox.logiqs_url, sandbox.logiqs_api_key, sandbox.logiqs_secret,
                              dialect=LogiqsDialect(search=sandbox.logiqs_dialect))
        ...                                 # run the pipeline against sandbox.folders.input_root
        print(sandbox.stats()["logiqs"]["duplicates"])

Start-up order matters: the corpus is generated, both emulators start with faults OFF, Drive gets the folder tree
and every file, Logiqs gets the case book and two API keys, and only then are faults switched on -- so seeding is
never flaky and a fault rate measures the pipeline, not the set-up. Credentials (service-account key, API keys)
are generated at start-up and exist only in memory and in a profile written with mode 0600.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from mailroom.logiqs_dialects import SearchDialect
from mailroom_sandbox.corpus import DEFAULT_CACHE_DIR, cached_corpus, generate_corpus
from mailroom_sandbox.corpus.models import Corpus, CorpusFile
from mailroom_sandbox.drive.server import DriveEmulator
from mailroom_sandbox.http.faults import FaultConfig, RateLimitConfig
from mailroom_sandbox.logiqs.server import LogiqsEmulator

Service = Literal["drive", "logiqs"]
SERVICES: tuple[Service, ...] = ("drive", "logiqs")
OUTPUT_PARENT_NAME = "IRS Notices - Filed"
# Real Drive allows ~12,000 requests/minute per user; the documented Logiqs default in docs/logiqs-api.md is 10/s.
DEFAULT_DRIVE_RATE_LIMIT = RateLimitConfig(requests_per_second=200, burst=200)
DEFAULT_LOGIQS_RATE_LIMIT = RateLimitConfig(requests_per_second=10, burst=10)
_UPLOAD_EPOCH = datetime(2025, 12, 1, 8, 0, tzinfo=timezone.utc)
# The sandbox's "today" (days left to response dates are counted from it): the day the files were uploaded. The
# demo dates its notices in the weeks before it (corpus option ``as_of``), as an inbox sees them.
SANDBOX_TODAY = _UPLOAD_EPOCH.date()

RateLimit = RateLimitConfig | float | None


class SandboxFolders(BaseModel):
    """Drive ids of the folders the pipeline is configured with."""

    input_root: str
    matched: str
    unmatched: str
    failed: str
    reports: str


def _rate_limit(value: RateLimit | str) -> RateLimitConfig:
    if isinstance(value, RateLimitConfig):
        return value
    if not value:
        return RateLimitConfig(requests_per_second=None)
    return RateLimitConfig(requests_per_second=float(value), burst=max(1, int(float(value))))


class Sandbox:
    """Both emulators, seeded from one synthetic corpus. Use as a context manager (or ``start()``/``stop()``).

    ``fault_rate``/``ambiguous_rate`` (commit-then-lose-the-response on POST/PUT) become a uniform
    ``FaultConfig`` seeded with ``seed``; pass ``faults`` for a full config. ``corpus`` reuses an already generated
    corpus (tests generate once per session); otherwise one is loaded from ``corpus_cache`` (generated there on first
    use, see ``cached_corpus``) or, with ``corpus_cache=None``, generated afresh under ``workdir``. ``workdir`` (a
    temporary directory removed at stop when None) holds that fresh corpus. ``corpus_options`` go to
    ``generate_corpus``. ``logiqs_dialect`` is the case search the Logiqs emulator serves (the profile carries it, so
    blocks made from the profile match); ``logiqs_options`` go to ``LogiqsEmulator`` (envelope style, scope denial,
    ``require_user_id``: on by default, as on tenants that refuse a task without a UserID).

    Drive's rules (docs/sandbox-drive.md): ``shared_drive=True`` keeps the whole folder tree in a shared drive (the
    pipeline must send the shared-drive parameters to see it); ``listing_lag`` makes every write show in listings
    only that many seconds later (switched on after seeding, like faults); ``drive_retry_after=True`` adds the
    Retry-After header real Drive does not send with its throttles.
    """

    def __init__(
        self,
        notices: int = 50,
        fault_rate: float = 0.0,
        seed: int = 7,
        workdir: Path | None = None,
        *,
        ambiguous_rate: float = 0.0,
        faults: FaultConfig | None = None,
        drive_rate_limit: RateLimit = DEFAULT_DRIVE_RATE_LIMIT,
        logiqs_rate_limit: RateLimit = DEFAULT_LOGIQS_RATE_LIMIT,
        corpus: Corpus | None = None,
        corpus_cache: Path | None = DEFAULT_CACHE_DIR,
        shared_drive: bool = False,
        listing_lag: float = 0.0,
        drive_retry_after: bool = False,
        logiqs_dialect: SearchDialect = "v4-findcase",
        logiqs_options: dict[str, Any] | None = None,
        **corpus_options: Any,
    ) -> None:
        self.notices, self.seed = notices, seed
        self.shared_drive, self.listing_lag, self.drive_retry_after = shared_drive, listing_lag, drive_retry_after
        self.shared_drive_id: str | None = None
        self.logiqs_dialect: SearchDialect = logiqs_dialect
        self._logiqs_options = {"require_user_id": True, **(logiqs_options or {})}
        self._faults = faults if faults is not None else (
            FaultConfig.uniform(fault_rate, seed=seed, ambiguous_rate=ambiguous_rate)
            if fault_rate or ambiguous_rate else None
        )  # fmt: skip
        self._drive_rate_limit = _rate_limit(drive_rate_limit)
        self._logiqs_rate_limit = _rate_limit(logiqs_rate_limit)
        self._given_workdir = Path(workdir) if workdir is not None else None
        self._corpus_options = corpus_options
        self._corpus_cache = corpus_cache
        self._corpus = corpus
        self.workdir: Path | None = None
        self.drive: DriveEmulator | None = None
        self.logiqs: LogiqsEmulator | None = None
        self._folders: SandboxFolders | None = None
        self.folder_ids: dict[str, str] = {}  # corpus folder key -> Drive id
        self.file_ids: dict[str, str] = {}  # corpus file key -> Drive id
        self._keys: dict[str, tuple[str, str]] = {}

    # ------------------------------------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Sandbox:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.workdir = self._given_workdir or Path(tempfile.mkdtemp(prefix="mailroom-sandbox-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self._corpus is None:
            options = {"notices": self.notices, "seed": self.seed, **self._corpus_options}
            if self._corpus_cache is not None:
                self._corpus = cached_corpus(self._corpus_cache, **options)
            else:
                self._corpus = generate_corpus(self.workdir / "corpus", **options)
        self.drive = DriveEmulator(rate_limit=self._drive_rate_limit, seed=self.seed,
                                   throttle_retry_after=self.drive_retry_after)
        self.logiqs = LogiqsEmulator(rate_limit=self._logiqs_rate_limit, search_dialect=self.logiqs_dialect,
                                     **self._logiqs_options)
        self.drive.start()
        self.logiqs.start()
        self._seed_drive()
        self._seed_logiqs()
        if self._faults is not None:  # only now: seeding never meets a fault
            self.set_faults(self._faults)
        self.drive.set_listing_lag(self.listing_lag)  # likewise: the seeded tree was "there yesterday"

    def stop(self) -> None:
        """Stop both emulators and remove a temporary workdir. Safe to call twice or after a failed start."""
        for emulator in (self.drive, self.logiqs):
            if emulator is not None:
                try:
                    emulator.stop()
                except Exception:  # noqa: BLE001 -- stopping one must not keep the other running
                    pass
        self.drive = self.logiqs = None
        if self._given_workdir is None and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    # -------------------------------------------------------------------------------------------------- seeding
    def _seed_drive(self) -> None:
        drive, corpus = self._require(self.drive), self.corpus
        top = None  # My Drive's root, or the shared drive's
        if self.shared_drive:
            top = self.shared_drive_id = drive.create_shared_drive("IRS Mail")
        for folder in corpus.folders:  # FOLDER_TREE lists parents before children
            parent = self.folder_ids[folder.parent_key] if folder.parent_key else top
            self.folder_ids[folder.key] = drive.create_folder(folder.name, parent)
        output = drive.create_folder(OUTPUT_PARENT_NAME, top)
        outputs = {name: drive.create_folder(name, output) for name in ("MATCHED", "UNMATCHED", "FAILED", "Reports")}
        self._folders = SandboxFolders(
            input_root=self.folder_ids[corpus.input_root_key], matched=outputs["MATCHED"],
            unmatched=outputs["UNMATCHED"], failed=outputs["FAILED"], reports=outputs["Reports"],
        )  # fmt: skip
        for index, file in enumerate(corpus.files):
            content = corpus.path(file).read_bytes()
            created = _UPLOAD_EPOCH + timedelta(minutes=index)  # the order a scanner would have uploaded them
            self.file_ids[file.key] = drive.add_file(
                file.drive_name, self.folder_ids[file.folder_key], content, "application/pdf", created
            )

    def _seed_logiqs(self) -> None:
        logiqs = self._require(self.logiqs)
        logiqs.seed_cases(self.corpus.cases)
        self._keys["full"] = logiqs.create_api_key()
        self._keys["no_task_write"] = logiqs.create_api_key(("case.read", "case.write"))

    # ---------------------------------------------------------------------------------------------- public view
    @property
    def corpus(self) -> Corpus:
        if self._corpus is None:
            raise RuntimeError("the sandbox is not started")
        return self._corpus

    @property
    def today(self) -> date:
        """The date the sandbox's notices are read on: the corpus's ``as_of``, else ``SANDBOX_TODAY``."""
        as_of = self._corpus_options.get("as_of")
        return as_of if isinstance(as_of, date) else SANDBOX_TODAY

    @property
    def folders(self) -> SandboxFolders:
        if self._folders is None:
            raise RuntimeError("the sandbox is not started")
        return self._folders

    @property
    def drive_url(self) -> str:
        return self._require(self.drive).url

    @property
    def logiqs_url(self) -> str:
        """The V4 base a Logiqs client is configured with (``http://127.0.0.1:PORT/publicapi/V4/``; V3 beside it)."""
        return self._require(self.logiqs).api_url

    @property
    def service_account_info(self) -> dict[str, str]:
        return self._require(self.drive).service_account_info()

    @property
    def logiqs_api_key(self) -> str:
        return self._keys["full"][0]

    @property
    def logiqs_secret(self) -> str:
        return self._keys["full"][1]

    @property
    def limited_api_key(self) -> tuple[str, str]:
        """(key, secret) with case.read and case.write but not task.write, for scope tests."""
        return self._keys["no_task_write"]

    def drive_id(self, file: CorpusFile | str) -> str:
        return self.file_ids[file if isinstance(file, str) else file.key]

    def stats(self) -> dict[str, dict[str, Any]]:
        return {"drive": self._require(self.drive).stats(), "logiqs": self._require(self.logiqs).stats()}

    def set_faults(
        self,
        config: FaultConfig | float = 0.0,
        *,
        ambiguous_rate: float = 0.0,
        services: tuple[Service, ...] = SERVICES,
        seed: int | None = None,
        **knobs: Any,
    ) -> FaultConfig:
        """Switch faults at runtime: a full ``FaultConfig``, or a uniform rate (``knobs`` as in FaultConfig.uniform).

        ``set_faults(0)`` turns them off. Returns the config applied.
        """
        if not isinstance(config, FaultConfig):
            config = FaultConfig.uniform(config, seed=self.seed if seed is None else seed,
                                         ambiguous_rate=ambiguous_rate, **knobs)  # fmt: skip
        for service in services:
            self._emulator(service).set_faults(config)
        return config

    def outage(self, service: Service, seconds: float, *, endpoints: list[str] | None = None) -> None:
        """Every request to ``service`` (or to ``endpoints`` of it) gets a 503 for ``seconds`` from now."""
        self._emulator(service).server.start_outage(seconds, endpoints=endpoints)

    def end_outage(self, service: Service) -> None:
        """End the outages begun with ``outage`` on ``service`` now."""
        self._emulator(service).server.end_outages()

    def profile(self) -> dict[str, Any]:
        """What a client needs to reach this sandbox (blocks.register.SandboxProfile reads these keys)."""
        return {
            "drive_url": self.drive_url,
            "logiqs_url": self.logiqs_url,
            "service_account_info": self.service_account_info,
            "logiqs_api_key": self.logiqs_api_key,
            "logiqs_secret": self.logiqs_secret,
            "logiqs_search_dialect": self.logiqs_dialect,
            "folders": self.folders.model_dump(),
            "limited_logiqs_api_key": list(self.limited_api_key),
            "stats_urls": {s: f"{self._emulator(s).url}/_sandbox/stats" for s in SERVICES},
            "corpus_manifest": str(self.corpus.root / "manifest.json"),
            "seed": self.seed,
            "today": self.today.isoformat(),
            "shared_drive_id": self.shared_drive_id,
        }

    def write_profile(self, path: Path) -> Path:
        """Write ``profile()`` as JSON readable by its owner only (it holds the sandbox's credentials)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # O_CREAT's mode does not apply to a file that already existed
        with os.fdopen(fd, "w") as handle:
            json.dump(self.profile(), handle, indent=2)
        return path

    def __repr__(self) -> str:  # never the credentials
        state = f"drive={self.drive.url} logiqs={self.logiqs.url}" if self.drive and self.logiqs else "stopped"
        return f"Sandbox(notices={self.notices}, seed={self.seed}, logiqs={self.logiqs_dialect}, {state})"

    # ------------------------------------------------------------------------------------------------- helpers
    def _emulator(self, service: Service) -> DriveEmulator | LogiqsEmulator:
        if service not in SERVICES:
            raise ValueError(f"unknown sandbox service {service!r}; expected one of {SERVICES}")
        return self._require(self.drive if service == "drive" else self.logiqs)

    @staticmethod
    def _require(emulator: Any) -> Any:
        if emulator is None:
            raise RuntimeError("the sandbox is not started")
        return emulator
