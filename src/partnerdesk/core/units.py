"""One request's whole write as a single step: authentication, the work and the commit together.

A sync route with a session dependency pays a worker-thread round trip for every sync dependency
(clock, token, role), for the route itself and for the commit: six hand-offs between the event loop
and the thread pool for one checkout, each costing more than the statements they carry. The hot
write routes (carts and checkout) instead hand one function to `run_write`, which runs it in one
transaction:

- on SQLite, inline on the event loop. SQLite is a library in this process: a short transaction is
  CPU work under the GIL wherever it runs, and one writer at a time is all SQLite allows anyway.
  It starts with `BEGIN IMMEDIATE` and no busy wait, so when another process (the CLI, a second
  server) or the job worker thread holds the write lock, the loop is never blocked waiting for it:
  the unit goes to a worker thread instead, which waits there as every other write does.
- on PostgreSQL, in one worker thread (the network round trips must not block the loop).

Either way the request holds the same gates as any other write (see `core.deps`), so the two kinds
of write never run past each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from partnerdesk.core.db import Database, WriterBusy
from partnerdesk.core.deps import gates_of_this_loop

Result = TypeVar("Result")


def _run(database: Database, work: Callable[[Session], Result]) -> Result:
    with database.new_session(write=True) as session:
        return _commit_after(session, work)


def _commit_after(session: Session, work: Callable[[Session], Result]) -> Result:
    try:
        result = work(session)
        session.commit()
        return result
    except BaseException:
        session.rollback()
        raise


def _run_at_once(database: Database, work: Callable[[Session], Result]) -> Result:
    with database.write_session_at_once() as session:
        return _commit_after(session, work)


async def run_write(database: Database, work: Callable[[Session], Result]) -> Result:
    """Runs `work(session)` in one write transaction, committed before this returns; rolled back if it raises."""
    gates = gates_of_this_loop()
    async with gates.sessions:
        if not database.is_sqlite:
            return await run_in_threadpool(_run, database, work)
        async with gates.sqlite_writer:
            try:
                return _run_at_once(database, work)
            except WriterBusy:
                return await run_in_threadpool(_run, database, work)
