"""Running jobs: `run_due_jobs` does what is due now; `Worker` polls for it until told to stop.

Each job is claimed in its own short write transaction, run with no transaction open (a
handler may wait seconds on the network, and SQLite has one writer), then reported in
another. Time comes from the desk's clock (plus the sandbox offset), so tests move a
FrozenClock instead of sleeping.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from partnerdesk.core.desk import Desk
from partnerdesk.jobs import service
from partnerdesk.jobs.service import ClaimedJob, JobFailed
from partnerdesk.sandbox import service as sandbox_service

log = logging.getLogger("partnerdesk.jobs")

Handler = Callable[[Desk, ClaimedJob], None]

DEFAULT_BATCH = 100
DEFAULT_POLL_SECONDS = 1.0


def registered_handlers() -> dict[str, Handler]:
    from partnerdesk.domains import job_handlers

    return job_handlers()


def _now(db: Session, desk: Desk) -> datetime:
    # The same time requests see: in sandbox mode the test clock's offset applies to jobs too.
    return sandbox_service.clock_for(db, desk.clock, sandbox=desk.settings.sandbox).now()


def _report(desk: Desk, job: ClaimedJob, failure: JobFailed | None) -> None:
    with desk.database.session() as db:
        now = _now(db, desk)
        if failure is None:
            held = service.mark_succeeded(db, job, now=now)
        else:
            held = service.mark_failed(db, job, now=now, error=failure.error, retry_after=failure.retry_after)
    if not held:
        log.warning("job %s (%s): lease lost during attempt %d; another worker owns it now", job.id, job.kind,
                    job.attempt)


def run_job(desk: Desk, job: ClaimedJob, handler: Handler) -> None:
    """One attempt: run the handler, then record success or schedule the retry."""
    failure: JobFailed | None = None
    try:
        handler(desk, job)
    except JobFailed as error:
        failure = error
    except Exception as error:  # a defect in a handler must not stop the worker
        log.error("job %s (%s) attempt %d raised %s", job.id, job.kind, job.attempt, type(error).__name__,
                  exc_info=error)
        failure = JobFailed(f"internal error: {type(error).__name__}")
    _report(desk, job, failure)


def run_due_jobs(
    desk: Desk,
    *,
    limit: int = DEFAULT_BATCH,
    handlers: Mapping[str, Handler] | None = None,
    lease: timedelta = service.DEFAULT_LEASE,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Runs up to `limit` jobs that are due now, one at a time; returns how many were run."""
    handlers = registered_handlers() if handlers is None else handlers
    processed = 0
    while processed < limit and not should_stop():
        with desk.database.session() as db:
            job = service.claim_next(db, now=_now(db, desk), kinds=handlers.keys(), lease=lease)
        if job is None:
            break
        run_job(desk, job, handlers[job.kind])
        processed += 1
    return processed


class Worker:
    """Polls for due jobs until `stop` is set; finishes the job in hand before stopping."""

    def __init__(
        self,
        desk: Desk,
        *,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        batch: int = DEFAULT_BATCH,
        handlers: Mapping[str, Handler] | None = None,
    ) -> None:
        self.desk = desk
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.handlers = handlers

    def run(self, stop: threading.Event) -> None:
        log.info("job worker started (polling every %ss)", self.poll_seconds)
        while not stop.is_set():
            try:
                processed = run_due_jobs(self.desk, limit=self.batch, handlers=self.handlers,
                                         should_stop=stop.is_set)
            except Exception as error:  # e.g. the database restarting: keep polling
                log.error("job worker poll failed: %s", type(error).__name__, exc_info=error)
                processed = 0
            if processed < self.batch:
                stop.wait(self.poll_seconds)
        log.info("job worker stopped")


@contextmanager
def background_worker(
    desk: Desk, *, poll_seconds: float = DEFAULT_POLL_SECONDS
) -> Iterator[threading.Thread]:
    """A worker in a daemon thread of this process for the duration of the block (used by `serve`)."""
    stop = threading.Event()
    worker = Worker(desk, poll_seconds=poll_seconds)
    thread = threading.Thread(target=worker.run, args=(stop,), name="partnerdesk-worker", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=30)
