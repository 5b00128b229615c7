"""FastAPI dependencies for the database session and the clock of one request."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from partnerdesk.core.clock import Clock
from partnerdesk.core.db import Database
from partnerdesk.core.desk import Desk
from partnerdesk.core.errors import write_kept

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The clock of a request, given its session: the app installs one (`app.state.clock_source`), so the
# sandbox's test clock, a domain of its own, can move time without core knowing of it.
ClockSource = Callable[[Session], Clock]


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` one in a worker thread.
async def get_desk(request: Request) -> Desk:
    return request.app.state.desk


class _Gates:
    """What requests wait on, on the event loop, before they get a session.

    `sessions` admits one request fewer than the pool has connections (the job worker thread may
    hold one), so a request that was admitted always finds a connection and a worker thread.
    `sqlite_writer` lets one write request of this process at a time hold SQLite's write lock:
    the others wait here, not in worker threads blocked on the busy timeout.
    """

    def __init__(self, database: Database) -> None:
        self.sessions = asyncio.Semaphore(max(database.pool_size - 1, 1))
        self.sqlite_writer = asyncio.Lock()


# One set of gates per event loop and database (tests may serve several apps from several loops).
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, tuple[Database, _Gates]]] = (
    weakref.WeakKeyDictionary()
)


def _gates_of(database: Database) -> _Gates:
    by_database = _gates.setdefault(asyncio.get_running_loop(), {})
    known = by_database.get(id(database))
    if known is None or known[0] is not database:
        known = by_database[id(database)] = (database, _Gates(database))
    return known[1]


def _end(session: Session, *, failure: BaseException | None = None) -> None:
    """Commits, or rolls back (then writes what the failure asks to keep), and closes, in one trip to a
    worker thread (closing rolls back what a failed commit left)."""
    with session:
        if failure is None:
            session.commit()
        else:
            session.rollback()
            write_kept(session, failure)


def _session_dependency(*, always_write: bool) -> Callable[[Request], AsyncIterator[Session]]:
    async def request_session(request: Request) -> AsyncIterator[Session]:
        """One transaction per request, committed when the route returns (before the answer is sent),
        unless the route committed it itself (`Session.commit()` in its own worker-thread trip).

        Every write of the desk goes through here: the API, the portal and, with `Database.session`,
        the CLI and the job worker run the same service code in the same kind of transaction.
        If the route fails, everything it did is rolled back and the connection goes back to the
        pool clean.
        """
        database: Database = request.app.state.desk.database
        write = always_write or request.method not in SAFE_METHODS
        gates = _gates_of(database)
        writer_gate = gates.sqlite_writer if write and database.is_sqlite else None
        async with gates.sessions:
            if writer_gate is not None:
                await writer_gate.acquire()
            try:
                session = database.new_session(write=write)
                try:
                    yield session
                except BaseException as failure:
                    await run_in_threadpool(_end, session, failure=failure)
                    raise
                if session.in_transaction():
                    await run_in_threadpool(_end, session)
                else:
                    # The route ended its transaction itself, within its own trip to a worker thread (a
                    # download link does: its row lock must not outlive that trip). A session with no
                    # transaction holds no connection (SQLAlchemy gives it back to the pool at commit),
                    # so closing it does no I/O and is done here, without a second trip.
                    session.close()
            finally:
                if writer_gate is not None:
                    writer_gate.release()

    return request_session


# The request's session: a write transaction for every method but GET, HEAD and OPTIONS.
get_db = _session_dependency(always_write=False)
# A write transaction whatever the method: for a GET that writes (a download counts itself).
get_write_db = _session_dependency(always_write=True)


DeskDep = Annotated[Desk, Depends(get_desk)]
DbSession = Annotated[Session, Depends(get_db, scope="function")]
WriteDbSession = Annotated[Session, Depends(get_write_db, scope="function")]


def request_clock(request: Request, db: Session) -> Clock:
    """The clock of this request (the sandbox's test clock may read `db`)."""
    source: ClockSource = request.app.state.clock_source
    return source(db)


def get_clock(request: Request, db: DbSession) -> Clock:
    return request_clock(request, db)


ClockDep = Annotated[Clock, Depends(get_clock)]
