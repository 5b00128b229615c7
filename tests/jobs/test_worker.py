"""The durable job queue: due times from the clock, backoff, giving up, leases, several workers."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from partnerdesk.core.desk import Desk
from partnerdesk.jobs import service
from partnerdesk.jobs.models import Job, JobStatus
from partnerdesk.jobs.service import ClaimedJob, JobFailed
from partnerdesk.jobs.worker import Worker, run_due_jobs

KIND = "test.echo"


class Recorder:
    """A handler that records each attempt, failing while `failures` lasts."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or JobFailed("receiver said no")
        self.calls: list[tuple[str, int]] = []
        self.lock = threading.Lock()
        self.done = threading.Event()

    def __call__(self, _desk: Desk, job: ClaimedJob) -> None:
        with self.lock:
            self.calls.append((job.payload["n"], job.attempt))
            failing = self.failures > 0
            self.failures -= 1
        if failing:
            raise self.error
        self.done.set()


def enqueue(desk: Desk, count: int = 1) -> list[str]:
    with desk.database.session() as db:
        now = desk.clock.now()
        return [service.enqueue(db, kind=KIND, payload={"n": n}, now=now).id for n in range(count)]


def job(desk: Desk, job_id: str) -> Job:
    with desk.database.session(write=False) as db:
        return db.get(Job, job_id)


def test_a_due_job_runs_once_and_succeeds(desk):
    [job_id] = enqueue(desk)
    handler = Recorder()
    assert run_due_jobs(desk, handlers={KIND: handler}) == 1
    assert run_due_jobs(desk, handlers={KIND: handler}) == 0
    assert handler.calls == [(0, 1)]
    done = job(desk, job_id)
    assert (done.status, done.attempts, done.finished_at) == (JobStatus.succeeded, 1, desk.clock.now())


def test_a_job_scheduled_later_waits_for_the_clock(desk, clock):
    with desk.database.session() as db:
        service.enqueue(db, kind=KIND, payload={"n": 0}, now=clock.now(),
                        run_after=clock.now() + timedelta(hours=1))
    handler = Recorder()
    assert run_due_jobs(desk, handlers={KIND: handler}) == 0
    clock.advance(timedelta(hours=1))
    assert run_due_jobs(desk, handlers={KIND: handler}) == 1


def test_in_sandbox_mode_jobs_run_on_the_test_clock_like_requests(desk, clock):
    from partnerdesk.sandbox import service as sandbox

    with desk.database.session() as db:
        test_clock = sandbox.advance(db, clock, sandbox=True, days=30)
        # What a request made after the advance enqueues: due at the moved clock's now.
        service.enqueue(db, kind=KIND, payload={"n": 0}, now=test_clock.now())
    assert run_due_jobs(desk, handlers={KIND: Recorder()}) == 1


def test_jobs_of_kinds_this_worker_does_not_know_are_left_alone(desk):
    [job_id] = enqueue(desk)
    assert run_due_jobs(desk, handlers={"something.else": Recorder()}) == 0
    assert job(desk, job_id).status is JobStatus.queued


def test_failures_back_off_on_the_schedule_then_the_job_is_dead(desk, clock):
    [job_id] = enqueue(desk)
    handler = Recorder(failures=100)
    for attempt, delay in enumerate(service.RETRY_SCHEDULE, start=1):
        assert run_due_jobs(desk, handlers={KIND: handler}) == 1
        waiting = job(desk, job_id)
        assert waiting.status is JobStatus.queued and waiting.attempts == attempt
        assert delay <= waiting.run_after - clock.now() <= delay * (1 + service.RETRY_JITTER)
        assert waiting.last_error == "receiver said no"
        clock.advance(delay * (1 + service.RETRY_JITTER))
    assert run_due_jobs(desk, handlers={KIND: handler}) == 1
    dead = job(desk, job_id)
    assert (dead.status, dead.attempts) == (JobStatus.dead, service.MAX_ATTEMPTS)
    clock.advance(timedelta(days=30))
    assert run_due_jobs(desk, handlers={KIND: handler}) == 0
    assert len(handler.calls) == service.MAX_ATTEMPTS


def test_a_handler_defect_is_a_failure_that_keeps_the_worker_going(desk, clock):
    job_ids = enqueue(desk, 2)
    handler = Recorder(failures=1, error=KeyError("secret-value"))
    assert run_due_jobs(desk, handlers={KIND: handler}) == 2
    states = sorted((job(desk, job_id).status, job(desk, job_id).last_error or "") for job_id in job_ids)
    assert states == [(JobStatus.queued, "internal error: KeyError"), (JobStatus.succeeded, "")]


def test_the_jitter_only_ever_lengthens_the_wait():
    rng = random.Random(7)
    delays = [service.retry_delay(1, rng=rng) for _ in range(200)]
    assert all(timedelta(seconds=5) <= delay <= timedelta(seconds=5.5) for delay in delays)
    assert len(set(delays)) > 100
    assert service.retry_delay(1, at_least=timedelta(minutes=2)) == timedelta(minutes=2)
    assert service.retry_delay(1, at_least=timedelta(days=9)) == service.LONGEST_DELAY


def test_an_expired_lease_lets_another_worker_take_over(desk, clock):
    [job_id] = enqueue(desk)
    with desk.database.session() as db:
        crashed = service.claim_next(db, now=clock.now(), kinds=[KIND], lease=timedelta(minutes=1))
    handler = Recorder()
    assert run_due_jobs(desk, handlers={KIND: handler}) == 0
    clock.advance(timedelta(seconds=59))
    assert run_due_jobs(desk, handlers={KIND: handler}) == 0
    clock.advance(timedelta(seconds=1))
    assert run_due_jobs(desk, handlers={KIND: handler}) == 1
    assert handler.calls == [(0, 2)]
    with desk.database.session() as db:
        assert service.mark_failed(db, crashed, now=clock.now(), error="late") is None
    assert job(desk, job_id).status is JobStatus.succeeded


def test_a_job_whose_last_attempt_vanished_is_dead_not_retried_forever(desk, clock):
    [job_id] = enqueue(desk)
    with desk.database.session() as db:
        db.get(Job, job_id).attempts = service.MAX_ATTEMPTS - 1
    with desk.database.session() as db:
        assert service.claim_next(db, now=clock.now(), kinds=[KIND]).is_final_attempt
    clock.advance(service.DEFAULT_LEASE)
    handler = Recorder()
    assert run_due_jobs(desk, handlers={KIND: handler}) == 0
    dead = job(desk, job_id)
    assert dead.status is JobStatus.dead and "lease expired" in dead.last_error
    assert handler.calls == []


def test_concurrent_workers_never_run_a_job_twice(desk):
    enqueue(desk, 40)
    handler = Recorder()
    start = threading.Barrier(4)
    totals: list[int] = []

    def work() -> None:
        start.wait()
        totals.append(run_due_jobs(desk, handlers={KIND: handler}))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(totals) == 40
    assert Counter(n for n, _attempt in handler.calls) == Counter(range(40))
    with desk.database.session(write=False) as db:
        assert set(db.scalars(select(Job.status))) == {JobStatus.succeeded}


def test_the_limit_bounds_one_run(desk):
    enqueue(desk, 5)
    assert run_due_jobs(desk, limit=2, handlers={KIND: Recorder()}) == 2
    assert run_due_jobs(desk, limit=10, handlers={KIND: Recorder()}) == 3


def test_finished_jobs_can_be_purged(desk, clock):
    enqueue(desk, 2)
    run_due_jobs(desk, limit=1, handlers={KIND: Recorder()})
    clock.advance(timedelta(days=31))
    with desk.database.session() as db:
        assert service.purge_finished(db, finished_before=clock.now() - timedelta(days=30)) == 1
    with desk.database.session(write=False) as db:
        assert [j.status for j in db.scalars(select(Job))] == [JobStatus.queued]


def test_the_worker_loop_runs_jobs_until_stopped(desk):
    enqueue(desk)
    handler = Recorder()
    stop = threading.Event()
    worker = Worker(desk, poll_seconds=0.05, handlers={KIND: handler})
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        assert handler.done.wait(timeout=10)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert handler.calls == [(0, 1)]


@pytest.mark.parametrize("run_worker", [True, False])
def test_the_app_runs_a_worker_thread_only_when_asked(settings, clock, run_worker):
    from fastapi.testclient import TestClient

    from partnerdesk.app import create_app

    desk = Desk.from_settings(settings.model_copy(update={"run_worker": run_worker}), clock=clock)
    try:
        with TestClient(create_app(desk=desk)):
            names = [thread.name for thread in threading.enumerate()]
            assert ("partnerdesk-worker" in names) is run_worker
        assert "partnerdesk-worker" not in [thread.name for thread in threading.enumerate()]
    finally:
        desk.database.dispose()
