"""The rules of the job queue: enqueueing, claiming under a lease, retry schedule, giving up.

Jobs are enqueued inside the caller's transaction, so work is scheduled exactly when the
change that asks for it commits (the transactional outbox). Claiming is safe with any
number of workers: PostgreSQL skips rows another worker has locked (`FOR UPDATE SKIP
LOCKED`); SQLite serialises claimers on its write lock (the write session begins with
`BEGIN IMMEDIATE`). A claim takes a lease; a worker that dies leaves the lease to expire
and the job runs again, so handlers must tolerate running more than once (at-least-once).
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, delete, or_, select
from sqlalchemy.orm import Session

from partnerdesk.core.db import new_id
from partnerdesk.core.errors import NotFound
from partnerdesk.jobs.models import Job, JobStatus

# The delays between attempts, from the Standard Webhooks recommendation: about three days in all.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
# Up to this fraction is added to each delay, so failures caused by a burst do not retry as a burst.
RETRY_JITTER = 0.1
# Longer than any handler should take (webhook requests time out after seconds).
DEFAULT_LEASE = timedelta(minutes=5)
LONGEST_DELAY = timedelta(days=1)
ERROR_TEXT_LIMIT = 500

_random = random.Random()


class JobFailed(Exception):
    """Raised by a handler for a failure worth retrying; `retry_after` asks for a longer wait."""

    def __init__(self, error: str, *, retry_after: timedelta | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True)
class ClaimedJob:
    """What a handler is given: one attempt at one job, held under a lease."""

    id: str
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    lease_token: str
    # The worker's time when it claimed the job: handlers use it as the time of the attempt.
    claimed_at: datetime

    @property
    def is_final_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


@dataclass(frozen=True)
class JobState:
    status: JobStatus
    attempts: int
    run_after: datetime
    last_error: str | None


def truncate_error(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_TEXT_LIMIT else text[: ERROR_TEXT_LIMIT - 1] + "…"


def enqueue(
    db: Session, *, kind: str, payload: dict[str, Any], now: datetime, run_after: datetime | None = None
) -> Job:
    """Adds a job to the caller's transaction; no worker sees it before that transaction commits."""
    job = Job(
        kind=kind,
        payload=payload,
        status=JobStatus.queued,
        attempts=0,
        max_attempts=MAX_ATTEMPTS,
        run_after=run_after or now,
        created_at=now,
    )
    db.add(job)
    db.flush()
    return job


def _due(now: datetime):
    waiting = and_(Job.status == JobStatus.queued, Job.run_after <= now)
    abandoned = and_(Job.status == JobStatus.running, Job.locked_until <= now)
    return or_(waiting, abandoned)


def claim_next(
    db: Session, *, now: datetime, kinds: Collection[str], lease: timedelta = DEFAULT_LEASE
) -> ClaimedJob | None:
    """Takes the next due job of one of `kinds` under a lease, or None when nothing is due.

    Call it in a write session and commit before running the job, so the lease is visible
    to other workers and no lock is held while the handler works.
    """
    while True:
        statement = (
            select(Job)
            .where(_due(now), Job.kind.in_(list(kinds)))
            .order_by(Job.run_after, Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        job = db.scalar(statement)
        if job is None:
            return None
        if job.attempts >= job.max_attempts:
            # Its last attempt's worker vanished without reporting: give up rather than loop forever.
            lost = f"attempt {job.attempts} did not report back before its lease expired; no attempts left"
            _finish(job, JobStatus.dead, now, error=lost)
            db.flush()
            continue
        job.status = JobStatus.running
        job.attempts += 1
        job.locked_until = now + lease
        job.lease_token = new_id()
        db.flush()
        return ClaimedJob(
            id=job.id,
            kind=job.kind,
            payload=dict(job.payload),
            attempt=job.attempts,
            max_attempts=job.max_attempts,
            lease_token=job.lease_token,
            claimed_at=now,
        )


def _finish(job: Job, status: JobStatus, now: datetime, *, error: str | None = None) -> None:
    job.status = status
    job.finished_at = now
    job.locked_until = None
    job.lease_token = None
    if error is not None:
        job.last_error = truncate_error(error)


def _held(db: Session, claim: ClaimedJob) -> Job | None:
    """The job if `claim` still holds its lease (another worker may have taken it over since)."""
    return db.scalar(
        select(Job)
        .where(Job.id == claim.id, Job.status == JobStatus.running, Job.lease_token == claim.lease_token)
        .with_for_update()
    )


def mark_succeeded(db: Session, claim: ClaimedJob, *, now: datetime) -> bool:
    job = _held(db, claim)
    if job is None:
        return False
    _finish(job, JobStatus.succeeded, now)
    db.flush()
    return True


def retry_delay(
    attempt: int, *, at_least: timedelta | None = None, rng: random.Random = _random
) -> timedelta:
    """The wait after failed attempt number `attempt` (1-based), with jitter."""
    base = RETRY_SCHEDULE[min(attempt, len(RETRY_SCHEDULE)) - 1]
    delay = base * (1 + rng.random() * RETRY_JITTER)
    if at_least is not None:
        delay = max(delay, min(at_least, LONGEST_DELAY))
    return delay


def mark_failed(
    db: Session, claim: ClaimedJob, *, now: datetime, error: str, retry_after: timedelta | None = None
) -> JobStatus | None:
    """Schedules the next attempt, or marks the job dead after its last one. None if the lease was lost."""
    job = _held(db, claim)
    if job is None:
        return None
    if claim.is_final_attempt:
        _finish(job, JobStatus.dead, now, error=error)
    else:
        job.status = JobStatus.queued
        job.run_after = now + retry_delay(claim.attempt, at_least=retry_after)
        job.locked_until = None
        job.lease_token = None
        job.last_error = truncate_error(error)
    db.flush()
    return job.status


def get_job(db: Session, job_id: str) -> Job:
    job = db.get(Job, job_id)
    if job is None:
        raise NotFound(f"No job with id {job_id}.", [job_id])
    return job


def job_states(db: Session, job_ids: Iterable[str]) -> dict[str, JobState]:
    ids = list(set(job_ids))
    if not ids:
        return {}
    rows = db.execute(
        select(Job.id, Job.status, Job.attempts, Job.run_after, Job.last_error).where(Job.id.in_(ids))
    )
    return {
        row.id: JobState(
            status=row.status, attempts=row.attempts, run_after=row.run_after, last_error=row.last_error
        )
        for row in rows
    }


def search(*, status: JobStatus | None = None, kind: str | None = None) -> Select:
    statement = select(Job)
    if status is not None:
        statement = statement.where(Job.status == status)
    if kind:
        statement = statement.where(Job.kind == kind)
    return statement.order_by(Job.created_at.desc(), Job.id)


def purge_finished(db: Session, *, finished_before: datetime) -> int:
    """Deletes succeeded and dead jobs that finished before the given time."""
    result = db.execute(
        delete(Job).where(
            Job.status.in_([JobStatus.succeeded, JobStatus.dead]), Job.finished_at < finished_before
        )
    )
    return result.rowcount or 0

