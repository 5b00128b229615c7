"""A throwaway PostgreSQL cluster for the test session, started from Debian's binaries.

It never syncs to disk (fsync=off), as nothing in it outlives the session. The test fixtures ask for
it in memory (/dev/shm) when there is room: every test copies its database from a template, and on
this machine's disk one copy took 0.2-0.5 s against 0.01-0.02 s on tmpfs. The benchmarks keep the
default, a cluster in the temp dir.

`PARTNERDESK_TEST_POSTGRES_URL` points the tests at an existing server instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class PostgresServer:
    admin_url: str  # psycopg URL of the maintenance database
    data_dir: Path | None
    pg_ctl: str | None

    def url(self, database: str) -> str:
        base = self.admin_url.rsplit("/", 1)[0]
        return f"{base}/{database}"

    def stop(self) -> None:
        if self.data_dir and self.pg_ctl:
            _as_postgres([self.pg_ctl, "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"])
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def _binaries() -> tuple[str, str] | None:
    for bin_dir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(f"{bin_dir}/initdb") and os.path.exists(f"{bin_dir}/pg_ctl"):
            return f"{bin_dir}/initdb", f"{bin_dir}/pg_ctl"
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    return (initdb, pg_ctl) if initdb and pg_ctl else None


def available() -> bool:
    """Whether `start()` has a server to give: an existing one, or the binaries to start one."""
    return bool(os.environ.get("PARTNERDESK_TEST_POSTGRES_URL")) or _binaries() is not None


def _as_postgres(command: list[str]) -> None:
    # initdb refuses to run as root, so the cluster belongs to the postgres user.
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cluster_parent() -> str | None:
    """/dev/shm when it is a tmpfs with room to spare (Docker gives containers 64 MiB), else the temp dir."""
    try:
        stat = os.statvfs("/dev/shm")
    except OSError:
        return None
    free = stat.f_bavail * stat.f_frsize
    return "/dev/shm" if free >= 2 * 1024**3 and os.access("/dev/shm", os.W_OK) else None


def start(in_memory: bool = False) -> PostgresServer | None:
    existing = os.environ.get("PARTNERDESK_TEST_POSTGRES_URL")
    if existing:
        return PostgresServer(admin_url=existing, data_dir=None, pg_ctl=None)
    binaries = _binaries()
    if binaries is None:
        return None
    initdb, pg_ctl = binaries
    parent = _cluster_parent() if in_memory else None
    root = Path(tempfile.mkdtemp(prefix="partnerdesk-pg-", dir=parent))
    data_dir = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    os.chmod(root, 0o755)
    _as_postgres([initdb, "-D", str(data_dir), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
    port = _free_port()
    options = f"-h 127.0.0.1 -p {port} -k {root} -F -c fsync=off -c full_page_writes=off -c max_connections=300"
    if parent:
        # Each database copy writes its pages to the WAL: a smaller max_wal_size bounds the memory it takes.
        options += " -c max_wal_size=256MB -c min_wal_size=64MB"
    _as_postgres([pg_ctl, "-D", str(data_dir), "-o", options, "-l", str(root / "log"), "-w", "start"])
    return PostgresServer(
        admin_url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", data_dir=data_dir, pg_ctl=pg_ctl
    )
