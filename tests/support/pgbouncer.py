"""PgBouncer in transaction pooling mode in front of the test PostgreSQL server, as deployments often run it.

Debian's `pgbouncer` binary (scripts/install-system-deps.sh installs it), started once per test process
on a free port of 127.0.0.1. `* = host=... port=...` lets any database name through, so a test database
created on the server is reachable through PgBouncer under the same name. In transaction mode each
transaction may get another server connection: no session state (SET, prepared statements, advisory
locks, LISTEN) survives from one transaction to the next.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

CONFIG = """\
[databases]
* = host={pg_host} port={pg_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir = {root}
auth_type = trust
auth_file = {root}/userlist.txt
admin_users = {user}
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options
logfile = {root}/pgbouncer.log
pidfile = {root}/pgbouncer.pid
"""


@dataclass
class PgBouncer:
    port: int
    root: Path
    pid: int

    def url(self, server_url: str) -> str:
        """`server_url` (a database on the real server) as reached through PgBouncer."""
        return make_url(server_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def log(self) -> str:
        try:
            return (self.root / "pgbouncer.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)  # immediate shutdown
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(self.pid):
            time.sleep(0.02)
        shutil.rmtree(self.root, ignore_errors=True)


def binary() -> str | None:
    if os.path.exists("/usr/sbin/pgbouncer"):
        return "/usr/sbin/pgbouncer"
    return shutil.which("pgbouncer")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A daemon that exited but was not reaped yet (it is not our child, so init reaps it) still answers.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def start(server_admin_url: str) -> PgBouncer | None:
    """PgBouncer in front of the server of `server_admin_url`; None when PgBouncer is not installed."""
    executable = binary()
    if executable is None:
        return None
    server = make_url(server_admin_url)
    user = server.username or "postgres"
    as_root = os.geteuid() == 0
    root = Path(tempfile.mkdtemp(prefix="partnerdesk-pgbouncer-"))
    # Clients are trusted; PgBouncer logs in to the server with this password (an existing server's).
    (root / "userlist.txt").write_text(f'"{user}" "{server.password or ""}"\n')
    for _attempt in range(5):
        port = _free_port()
        (root / "pgbouncer.ini").write_text(
            CONFIG.format(pg_host=server.host or "127.0.0.1", pg_port=server.port or 5432, port=port, root=root,
                          user=user)
        )
        (root / "pgbouncer.pid").unlink(missing_ok=True)
        command = [executable, "-d", "-q", str(root / "pgbouncer.ini")]
        if as_root:
            # PgBouncer refuses to run as root: its folder (ini, log, pid, socket) belongs to postgres.
            for path in [root, *root.iterdir()]:
                shutil.chown(path, "postgres", "postgres")
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        pid = None
        while time.monotonic() < deadline:
            if pid is None and (root / "pgbouncer.pid").exists():
                text = (root / "pgbouncer.pid").read_text().strip()
                pid = int(text) if text else None
            if pid is not None and _accepts(port):
                return PgBouncer(port=port, root=root, pid=pid)
            if pid is not None and not _alive(pid):
                break  # the port was taken in between: try another one
            time.sleep(0.02)
        if pid is not None and _alive(pid):
            os.kill(pid, signal.SIGTERM)
    log = (root / "pgbouncer.log").read_text(errors="replace") if (root / "pgbouncer.log").exists() else ""
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"PgBouncer did not start:\n{log}")
