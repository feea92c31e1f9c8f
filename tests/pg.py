"""A throwaway PostgreSQL cluster for tests and benchmarks: initdb in a temp dir, pg_ctl start, stop and remove.

    with ThrowawayPostgres.start() as pg:          # or the session fixture ``postgres`` in tests/conftest.py
        url = pg.create_database("ledger_1")       # postgresql+psycopg://mailroom@/ledger_1?host=<socket dir>&port=N

Never assumes a server is running and never touches one it did not start. The server listens on a unix socket in
its own temp dir only (``listen_addresses=''``): nothing on the machine's TCP ports, and the socket dir is private
(0700) to the cluster's user. The port (a free one) only names the socket. Debian keeps the server binaries off PATH
(``/usr/lib/postgresql/<version>/bin``); the newest one there wins. ``initdb`` refuses to run as root, so as root
the cluster runs as the ``postgres`` OS user (created by Debian's ``postgresql`` package) via ``runuser``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"  # the OS user the cluster runs as when we are root
DB_SUPERUSER = "mailroom"
INSTALL_HINT = ("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or under "
                "/usr/lib/postgresql/*/bin: run scripts/install.sh (apt-get install postgresql), "
                "or set MAILROOM_SKIP_POSTGRES=1 to skip the PostgreSQL tests")


class PostgresUnavailable(RuntimeError):
    pass


def find_server_bin() -> Path:
    """The directory holding initdb/pg_ctl/postgres: PATH first, then Debian's versioned dirs (newest first)."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl") and shutil.which("postgres"):
        return Path(os.path.realpath(on_path)).parent
    versioned = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                       key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    for initdb in reversed(versioned):
        bin_dir = Path(initdb).parent
        if (bin_dir / "pg_ctl").exists() and (bin_dir / "postgres").exists():
            return bin_dir
    raise PostgresUnavailable(INSTALL_HINT)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ThrowawayPostgres:
    root: Path  # temp dir: data/, sock/, server.log
    bin_dir: Path
    port: int
    run_as: str | None  # OS user the server runs as (None: ourselves)

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @classmethod
    @contextlib.contextmanager
    def start(cls, *, durable: bool = False) -> Iterator[ThrowawayPostgres]:
        """Start a new cluster; stop and delete it on exit. ``durable=False`` turns fsync off (tests only)."""
        cluster = cls.create(durable=durable)
        try:
            yield cluster
        finally:
            cluster.stop()

    @classmethod
    def create(cls, *, durable: bool = False) -> ThrowawayPostgres:
        bin_dir = find_server_bin()
        run_as = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(SERVER_USER)
            except KeyError as exc:
                raise PostgresUnavailable(f"running as root and no {SERVER_USER!r} OS user to run initdb as: "
                                          + INSTALL_HINT) from exc
            run_as = SERVER_USER
        # Under the system temp dir, not pytest's (root's 0700 dirs would keep the postgres user out).
        root = Path(tempfile.mkdtemp(prefix="mailroom-pg-"))
        cluster = cls(root=root, bin_dir=bin_dir, port=_free_port(), run_as=run_as)
        try:
            cluster.socket_dir.mkdir(mode=0o700)
            if run_as:
                user = pwd.getpwnam(run_as)
                for path in (root, cluster.socket_dir):
                    os.chown(path, user.pw_uid, user.pw_gid)
            cluster._run("initdb", "-D", str(cluster.data_dir), "-U", DB_SUPERUSER, "--auth=trust", "-E", "UTF8",
                         "--no-sync", "--no-instructions")
            # pg_ctl hands -o to a shell: the paths are ours (mkdtemp, no spaces); '' is an empty value.
            options = [f"-c port={cluster.port}", "-c listen_addresses=''",
                       f"-c unix_socket_directories={cluster.socket_dir}", "-c max_connections=200",
                       "-c shared_buffers=32MB"]
            if not durable:
                options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
            cluster._run("pg_ctl", "-D", str(cluster.data_dir), "-l", str(root / "server.log"), "-w", "-t", "120",
                         "-o", " ".join(options), "start")
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _run(self, tool: str, *args: str) -> str:
        command = [str(self.bin_dir / tool), *args]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True, timeout=180)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(f"{tool} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n{tail}")
        return done.stdout

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{DB_SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"

    def psql(self, sql: str, database: str = "postgres") -> None:
        """Run one statement outside a transaction (CREATE DATABASE cannot run inside one)."""
        import psycopg

        with psycopg.connect(host=str(self.socket_dir), port=self.port, user=DB_SUPERUSER, dbname=database,
                             autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, name: str) -> str:
        """A new, empty database; returns its SQLAlchemy URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name must be alphanumeric/underscore: {name!r}")
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are cut) and delete the cluster's files."""
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

