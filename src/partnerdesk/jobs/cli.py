"""`partnerdesk jobs ...`: look at the job queue and clear out finished jobs."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from partnerdesk.core.cli_support import open_desk, out
from partnerdesk.jobs import service
from partnerdesk.jobs.models import JobStatus

app = typer.Typer(help="The durable job queue (webhook deliveries and other background work).",
                  no_args_is_help=True)


@app.command("list")
def list_jobs(
    status: Annotated[JobStatus | None, typer.Option(help="queued, running, succeeded or dead.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only jobs of this kind, e.g. webhook.deliver.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 50,
) -> None:
    """List jobs, newest first."""
    desk = open_desk()
    with desk.database.session(write=False) as db:
        jobs = db.scalars(service.search(status=status, kind=kind).limit(limit)).all()
    table = Table("id", "kind", "status", "attempts", "run after", "last error")
    for job in jobs:
        table.add_row(job.id, job.kind, job.status.value, f"{job.attempts}/{job.max_attempts}",
                      job.run_after.isoformat(), job.last_error or "")
    out.print(table)


@app.command("purge")
def purge(
    older_than_days: Annotated[int, typer.Option("--older-than-days", min=1,
                                                 help="Finished before this many days ago.")] = 30,
) -> None:
    """Delete succeeded and dead jobs that finished more than N days ago."""
    desk = open_desk()
    with desk.database.session() as db:
        count = service.purge_finished(db, finished_before=desk.clock.now() - timedelta(days=older_than_days))
    out.print(f"deleted {count} finished job(s)")
