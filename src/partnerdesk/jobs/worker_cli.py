"""`partnerdesk worker`: run background jobs until SIGINT or SIGTERM (or once, with --once)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from partnerdesk.core.cli_support import err, open_desk, out
from partnerdesk.core.logging import RedactSecretsFilter
from partnerdesk.jobs.worker import DEFAULT_BATCH, DEFAULT_POLL_SECONDS, Worker, run_due_jobs

app = typer.Typer(help="Run background jobs (webhook deliveries) until stopped.")


@app.callback(invoke_without_command=True)
def worker(
    poll_seconds: Annotated[float, typer.Option("--poll-seconds", min=0.05,
                                                help="Wait between polls when idle.")] = DEFAULT_POLL_SECONDS,
    once: Annotated[bool, typer.Option("--once", help="Run the jobs due now, then exit (for cron).")] = False,
) -> None:
    """Run background jobs. Several workers may run at once, on one machine or many."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecretsFilter())
    desk = open_desk()
    try:
        if once:
            total = 0
            while (ran := run_due_jobs(desk, limit=DEFAULT_BATCH)) > 0:
                total += ran
            out.print(f"ran {total} job(s)")
            return
        stop = threading.Event()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signal_number, lambda _number, _frame: stop.set())
        err.print("worker running; stop it with Ctrl-C or SIGTERM (the job in hand is finished first)",
                  highlight=False)
        Worker(desk, poll_seconds=poll_seconds).run(stop)
        err.print("worker stopped", highlight=False)
    finally:
        desk.database.dispose()
