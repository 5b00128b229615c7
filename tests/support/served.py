"""The app in a process of its own on a test's database and data dir, for crash and multi-process tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from partnerdesk.config import Settings

# `partnerdesk serve` as a user runs it; the crash test serves the app factory bare, with no worker.
PARTNERDESK_SERVE = ("-c", "from partnerdesk.cli import main; main()", "serve", "--no-job-worker")
UVICORN_FACTORY = ("-m", "uvicorn", "--factory", "partnerdesk.app:serve_app", "--log-level", "warning")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(settings: Settings, command: tuple[str, ...], *, log: Path | None = None,
           kill: bool = False) -> Iterator[tuple[str, subprocess.Popen]]:
    """(base URL, process) of the app served by `python <command> --host 127.0.0.1 --port N`, its output in
    `log` when given. At the end it is stopped with SIGTERM (its logs flushed), or SIGKILL with `kill`."""
    port = free_port()
    env = {**os.environ, "PARTNERDESK_DATABASE_URL": settings.database_url or "",
           "PARTNERDESK_DATA_DIR": str(settings.data_dir), "PARTNERDESK_SECRET_KEY": settings.secret_key or "",
           "PARTNERDESK_DATABASE_PREPARED_STATEMENTS": "1" if settings.database_prepared_statements else "0"}
    arguments = [sys.executable, *command, "--host", "127.0.0.1", "--port", str(port)]
    if log is None:
        server = subprocess.Popen(arguments, env=env)
    else:
        with open(log, "wb") as output:
            server = subprocess.Popen(arguments, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/openapi.json", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                written = log.read_text(errors="replace")[-2000:] if log else ""
                raise RuntimeError(f"the server did not start {written}")
            time.sleep(0.05)  # polling for the server to listen, not timing anything
        yield base, server
    finally:
        if server.poll() is None:
            server.kill() if kill else server.terminate()
        server.wait(timeout=30)
