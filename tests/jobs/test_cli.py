"""`partnerdesk worker` and `partnerdesk jobs`: a real worker process delivers, then stops on SIGTERM."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading

import pytest
from typer.testing import CliRunner

from partnerdesk.accounts.models import Role
from partnerdesk.cli import app
from partnerdesk.core.desk import Desk
from partnerdesk.webhooks.signing import verify
from tests.webhooks.helpers import create_endpoint, partner_id_of, publish


@pytest.fixture
def cli_env(settings) -> dict[str, str]:
    return {
        "PARTNERDESK_DATABASE_URL": settings.database_url,
        "PARTNERDESK_DATA_DIR": str(settings.data_dir),
        "PARTNERDESK_SECRET_KEY": settings.secret_key,
        "PARTNERDESK_SANDBOX": "1",
        "PARTNERDESK_WEBHOOK_PRIVATE_TARGETS": "1",  # the receiver listens on 127.0.0.1
    }


@pytest.fixture
def wall_clock_desk(settings):
    """The CLI runs on the system clock, so events for it are published on that clock too."""
    desk = Desk.from_settings(settings)
    yield desk
    desk.database.dispose()


def test_worker_once_delivers_what_is_due_and_exits(actors, desk, wall_clock_desk, receiver, cli_env,
                                                    wide_console):
    admin = actors(Role.admin_agent)
    endpoint = create_endpoint(admin, receiver.url)
    publish(wall_clock_desk, partner_id_of(desk, admin))
    result = CliRunner().invoke(app, ["worker", "--once"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "ran 1 job(s)" in result.output
    [request] = receiver.requests
    verify(endpoint["secret"], request.headers, request.body, now=wall_clock_desk.clock.now())
    listed = CliRunner().invoke(app, ["jobs", "list", "--status", "succeeded"], env=cli_env)
    assert listed.exit_code == 0 and "webhook.deliver" in listed.output


def test_a_worker_process_delivers_and_stops_gracefully_on_sigterm(actors, desk, wall_clock_desk, receiver,
                                                                    cli_env):
    admin = actors(Role.admin_agent)
    create_endpoint(admin, receiver.url)
    publish(wall_clock_desk, partner_id_of(desk, admin))
    process = subprocess.Popen(
        [sys.executable, "-c", "from partnerdesk.cli import main; main()", "worker", "--poll-seconds", "0.1"],
        env={**os.environ, **cli_env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        assert len(receiver.wait_for(1, timeout=30)) == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    output = []
    while not lines.empty():
        output.append(lines.get())
    assert "worker stopped" in "".join(output)


def test_jobs_purge_reports_what_it_deleted(cli_env):
    result = CliRunner().invoke(app, ["jobs", "purge", "--older-than-days", "7"], env=cli_env)
    assert result.exit_code == 0 and "deleted 0 finished job(s)" in result.output
