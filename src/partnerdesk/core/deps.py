"""FastAPI dependencies for the database session and the clock of one request."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from partnerdesk.core.clock import Clock
from partnerdesk.core.desk import Desk
from partnerdesk.sandbox import service as sandbox_service

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_desk(request: Request) -> Desk:
    return request.app.state.desk


# Requests holding a session at once, per process: fewer than the thread pool's 40 threads and
# the connection pool's 40 connections, so a request holding a lock always finds a thread and a
# connection for its next step.
MAX_CONCURRENT_SESSIONS = 30

# Hot write units (core.units) running at once on PostgreSQL, each on its own asyncio connection.
# They wait on the event loop, so more of them hide more network latency; past the number of
# clients they only hold connections. Measured on 2 cores with 16 clients: 16 gave about 8% more
# checkouts per second than 4. (When units ran in worker threads, 16 gave half of what 4 did.)
MAX_CONCURRENT_POSTGRESQL_UNITS = 16


class _Gates:
    def __init__(self) -> None:
        self.sessions = asyncio.Semaphore(MAX_CONCURRENT_SESSIONS)
        self.postgresql_units = asyncio.Semaphore(MAX_CONCURRENT_POSTGRESQL_UNITS)
        self.sqlite_writer = asyncio.Lock()


# One set of gates per event loop (tests may serve one app from several loops).
_gates_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Gates] = weakref.WeakKeyDictionary()


def gates_of_this_loop() -> _Gates:
    loop = asyncio.get_running_loop()
    gates = _gates_by_loop.get(loop)
    if gates is None:
        gates = _gates_by_loop[loop] = _Gates()
    return gates


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One transaction per request, committed when the route returns (before the answer is sent).

    Requests wait here, on the event loop, rather than in worker threads: otherwise every
    thread could end up blocked on a database lock (SQLite's single writer, or a PostgreSQL
    row lock) while the request holding it waits for a free thread to run its next step.
    """
    desk: Desk = request.app.state.desk
    write = request.method not in SAFE_METHODS
    gates = gates_of_this_loop()
    writer_gate = gates.sqlite_writer if write and desk.database.is_sqlite else None
    await gates.sessions.acquire()
    if writer_gate is not None:
        await writer_gate.acquire()
    try:
        session = desk.database.new_session(write=write)
        try:
            yield session
            await run_in_threadpool(session.commit)
        except BaseException:
            await run_in_threadpool(session.rollback)
            raise
        finally:
            await run_in_threadpool(session.close)
    finally:
        if writer_gate is not None:
            writer_gate.release()
        gates.sessions.release()


DeskDep = Annotated[Desk, Depends(get_desk)]
DbSession = Annotated[Session, Depends(get_db, scope="function")]


def get_clock(desk: DeskDep, db: DbSession) -> Clock:
    return sandbox_service.clock_for(db, desk.clock, sandbox=desk.settings.sandbox)


ClockDep = Annotated[Clock, Depends(get_clock)]
