"""One request's whole write as a single unit: authentication, the work and the commit together.

A sync route with a session dependency pays a worker-thread round trip for every sync dependency
(clock, token, role), for the route itself and for the commit: six hand-offs between the event loop
and the thread pool for one checkout, each costing more than the statements they carry. The hot
write routes (carts and checkout) instead hand one function to `run_write`:

- On PostgreSQL it runs on the event loop, in its own transaction, on one of psycopg's asyncio
  connections (SQLAlchemy's asyncio engine): the unit's code stays ordinary blocking code run in a
  greenlet (SQLAlchemy's `greenlet_spawn`), and each network wait goes back to the loop, which meanwhile
  serves other requests and units (see `MAX_CONCURRENT_POSTGRESQL_UNITS`). PostgreSQL commits
  concurrent transactions in groups by itself. The unit's statements travel in a handful of round
  trips and its rows go with the COMMIT (see `core.prepared.together`, `defer`, `commit`), straight
  through libpq (`core.wire`): one wait on the loop per round trip, not one per statement.
  In worker threads instead, every round trip ended with the thread waiting for the GIL while the
  loop held it, and the threads' hand-offs cost more than the statements: measured on 2 cores,
  the asyncio connections give about 30% more checkouts per second.
- On SQLite, units are committed in groups, on the event loop. SQLite is a library in this process
  and allows one writer at a time: a unit is CPU work under the GIL wherever it runs, and what a
  commit costs (the write lock, the pages it writes to the WAL) hardly grows with the number of
  units in it. So the units that arrive while the loop is busy wait for the next group; a group is
  one `BEGIN IMMEDIATE` ... `COMMIT`, each unit inside its own SAVEPOINT, so a unit that fails
  rolls back alone and the others carry on. Every answer is released only after the group commits:
  nobody hears "created" for a write that could still be lost. If the commit fails, every unit of
  the group fails with it and none of them wrote anything.

  The group takes the write lock without waiting: when another process (the CLI, a second server)
  or the job worker thread holds it, the group runs in a worker thread instead, which waits there
  as every other write does, and the event loop is never blocked on a lock.

Both paths hold the same gates as any other write (see `core.deps`), so they never run past it.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.util import greenlet_spawn
from starlette.concurrency import run_in_threadpool

from partnerdesk.core.db import Database, WriterBusy
from partnerdesk.core.deps import gates_of_this_loop
from partnerdesk.core.prepared import commit, run_on_driver

Result = TypeVar("Result")

# Units in one SQLite transaction at most: bounds how long one group holds the write lock.
MAX_GROUP = 64


class _ConnectionLost(Exception):
    """The unit's connection was found dead before its commit began: nothing of it can have been kept."""

    def __init__(self, error: DBAPIError) -> None:
        super().__init__(str(error))
        self.error = error


def _is_disconnect(session: Session, error: DBAPIError) -> bool:
    try:
        connection = session.connection()
        return connection.dialect.is_disconnect(error.orig, connection.connection.dbapi_connection, None)
    except Exception:  # the session cannot even say: treat it as any other error
        return False


def _work_then_commit(session: Session, work: Callable[[Session], Result]) -> Result:
    try:
        result = work(session)
    except DBAPIError as error:
        if _is_disconnect(session, error):
            raise _ConnectionLost(error) from error
        raise
    commit(session)
    return result


def _attempt(database: Database, work: Callable[[Session], Result]) -> Result:
    """One attempt of a unit, whole, in SQLAlchemy's greenlet: the work and the commit, or the rollback.

    The session is opened and closed in the same greenlet as the work: one hand-off between the
    event loop and the unit's code per attempt, where an `AsyncSession` takes one more to close.
    """
    with Session(database.async_engine.sync_engine, expire_on_commit=False) as session:
        try:
            return _work_then_commit(session, work)
        except BaseException:
            with contextlib.suppress(DBAPIError):  # a dead connection fails its rollback too: keep the first error
                session.rollback()  # on a dead connection, SQLAlchemy also drops it from the pool
            raise


async def _run_alone(database: Database, work: Callable[[Session], Result]) -> Result:
    """Runs the unit in its own transaction; once more on a new connection if its connection had died.

    The pool does not ping a connection before lending it (a round trip per unit, a fifth of the
    checkout's throughput); instead a unit whose connection turns out dead (the server restarted)
    before its commit began rolled back by definition, and runs again on a fresh one. A connection
    lost during the commit is not retried: whether that commit happened cannot be known.
    """
    for attempt in (1, 2):
        try:
            return await greenlet_spawn(_attempt, database, work)
        except _ConnectionLost as lost:
            if attempt == 2:
                raise lost.error from None
    raise AssertionError("unreachable")  # pragma: no cover


async def run_write(database: Database, work: Callable[[Session], Result]) -> Result:
    """Runs `work(session)` in a write transaction that has committed when this returns.

    If `work` raises, nothing it did is kept and the same exception comes out here.
    """
    gates = gates_of_this_loop()
    if not database.is_sqlite:
        async with gates.sessions, gates.postgresql_units:
            return await _run_alone(database, work)
    return await _group_of(database).submit(work)


@dataclass
class _Unit:
    work: Callable[[Session], Any]
    future: asyncio.Future
    result: Any = None
    error: BaseException | None = None


class _GroupLost(Exception):
    """A unit's failure took the whole transaction with it (an ORM flush error outside any savepoint)."""


def _run_group(session: Session, units: list[_Unit]) -> None:
    """Runs each unit in its own SAVEPOINT, then commits them all; a unit's own failure is kept on it.

    The savepoints are the driver's own statements: the hot units write with prepared statements,
    not through the ORM, and SQLAlchemy's nested transactions would cost more than the units. What
    the ORM holds is flushed at the end of each unit, and forgotten after a failed one, so nothing
    of a failed unit can reach the database later.
    """
    try:
        for unit in units:
            run_on_driver(session, "SAVEPOINT unit")
            try:
                unit.result = unit.work(session)
                session.flush()
            except Exception as error:  # the unit's answer (a 4xx, usually); the others go on
                if not session.in_transaction() or not session.get_transaction().is_active:
                    raise _GroupLost(f"a unit's failure ended the group's transaction: {error!r}") from error
                run_on_driver(session, "ROLLBACK TO SAVEPOINT unit")
                session.expunge_all()
                unit.error = error
            run_on_driver(session, "RELEASE SAVEPOINT unit")
        session.commit()
    except BaseException:
        session.rollback()
        raise


def _run_group_at_once(database: Database, units: list[_Unit]) -> None:
    with database.write_session_at_once() as session:
        _run_group(session, units)


def _run_group_waiting(database: Database, units: list[_Unit]) -> None:
    with database.new_session(write=True) as session:
        _run_group(session, units)


@dataclass
class _GroupCommitter:
    database: Database
    pending: list[_Unit] = field(default_factory=list)
    draining: bool = False

    async def submit(self, work: Callable[[Session], Result]) -> Result:
        unit = _Unit(work=work, future=asyncio.get_running_loop().create_future())
        self.pending.append(unit)
        if not self.draining:
            self.draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await unit.future

    async def _drain(self) -> None:
        gates = gates_of_this_loop()
        try:
            while self.pending:
                # Let the requests already read by this turn of the loop join the group.
                await asyncio.sleep(0)
                async with gates.sqlite_writer:
                    group, self.pending = self.pending[:MAX_GROUP], self.pending[MAX_GROUP:]
                    try:
                        try:
                            _run_group_at_once(self.database, group)
                        except WriterBusy:
                            await run_in_threadpool(_run_group_waiting, self.database, group)
                    except BaseException as error:  # the commit failed: so did every unit of the group
                        for unit in group:
                            unit.error = error
                for unit in group:
                    if unit.future.done():  # the request was cancelled (client gone)
                        continue
                    if unit.error is not None:
                        unit.future.set_exception(unit.error)
                    else:
                        unit.future.set_result(unit.result)
        finally:
            self.draining = False


# One committer per event loop and database (tests may run several of each).
_committers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, _GroupCommitter]] = (
    weakref.WeakKeyDictionary()
)


def _group_of(database: Database) -> _GroupCommitter:
    by_database = _committers.setdefault(asyncio.get_running_loop(), {})
    committer = by_database.get(id(database))
    if committer is None or committer.database is not database:
        committer = by_database[id(database)] = _GroupCommitter(database)
    return committer
