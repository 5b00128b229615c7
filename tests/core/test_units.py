"""Write units (core.units): one transaction per unit that has committed when its caller hears back.

On SQLite the units that arrive together share one commit, each in its own savepoint; on PostgreSQL
each runs alone on an asyncio connection. Either way a unit that fails leaves nothing, and its
neighbours keep everything.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from partnerdesk.core.db import unpooled_engine
from partnerdesk.core.idempotency import IdempotencyRecord
from partnerdesk.core.prepared import Prepared, insert_statement
from partnerdesk.core.units import run_write

INSERT = Prepared(insert_statement(IdempotencyRecord.__table__))
COUNT = Prepared(select(func.count()).select_from(IdempotencyRecord.__table__))
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


class Refused(Exception):
    pass


def writer(request_id: str, *, fail: bool = False, orm: bool = False):
    def work(db):
        row = {"id": f"id-{request_id}", "scope": "units", "request_id": request_id, "operation": "POST /t",
               "fingerprint": "f" * 64, "status_code": 201, "response_body": None, "created_at": NOW}
        if orm:
            db.add(IdempotencyRecord(**row))
            db.flush()
        else:
            INSERT.defer(db, [row])
        if fail:
            raise Refused(request_id)
        return request_id
    return work


def run_loop(main):
    """Runs `main()` on a fresh event loop in its own thread: a browser test's loop may run in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def stored(desk) -> list[str]:
    with desk.database.session(write=False) as db:
        return sorted(db.scalars(select(IdempotencyRecord.request_id).where(IdempotencyRecord.scope == "units")))


def test_a_failing_unit_leaves_nothing_and_its_neighbours_keep_everything(desk):
    async def main():
        return await asyncio.gather(
            run_write(desk.database, writer("a")),
            run_write(desk.database, writer("b", fail=True)),
            run_write(desk.database, writer("c", orm=True)),
            run_write(desk.database, writer("d", fail=True, orm=True)),
            run_write(desk.database, writer("e")),
            return_exceptions=True,
        )

    results = run_loop(main)
    assert results[0] == "a" and results[2] == "c" and results[4] == "e"
    assert isinstance(results[1], Refused) and isinstance(results[3], Refused)
    assert stored(desk) == ["a", "c", "e"]


def test_a_unit_whose_statement_fails_gets_the_database_error(desk):
    async def main():
        await run_write(desk.database, writer("a"))
        return await asyncio.gather(run_write(desk.database, writer("a")), run_write(desk.database, writer("b")),
                                    return_exceptions=True)

    duplicate, fine = run_loop(main)
    assert "IntegrityError" in type(duplicate).__name__
    assert fine == "b"
    assert stored(desk) == ["a", "b"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SQLite's single write lock
def test_sqlite_units_wait_for_another_writer_without_blocking_the_event_loop(desk, settings):
    path = settings.database_url.removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)  # used from the loop's thread
    other.execute("BEGIN IMMEDIATE")  # another process (the CLI, a second server) holds the write lock

    async def main():
        unit = asyncio.ensure_future(run_write(desk.database, writer("a")))
        ticks = 0
        while ticks < 20:  # the loop keeps turning while the unit waits for the lock in a worker thread
            await asyncio.sleep(0)
            ticks += 1
        assert not unit.done()
        other.execute("COMMIT")  # the lock holder finishes; the waiting unit goes on
        return await unit, ticks

    result, ticks = run_loop(main)
    other.close()
    assert result == "a" and ticks == 20
    assert stored(desk) == ["a"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_unit_whose_connection_died_runs_again_on_a_new_one(desk, settings):
    """The server restarted (here: every backend of the pool killed) between two units: nobody sees it."""
    runs: list[str] = []

    def counted(request_id: str):
        def work(db):  # reads first, as every hot unit does (its token), then writes with the commit
            runs.append(request_id)
            COUNT.all(db)
            return writer(request_id)(db)
        return work

    async def main():
        await asyncio.gather(*(run_write(desk.database, counted(f"warm-{n}")) for n in range(3)))
        with unpooled_engine(settings.database_url).connect() as admin:
            killed = admin.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
        assert killed >= 1
        return await run_write(desk.database, counted("after"))

    assert run_loop(main) == "after"
    assert runs.count("after") == 2  # the first attempt met the dead connection and rolled back
    assert stored(desk) == ["after", "warm-0", "warm-1", "warm-2"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_lost_at_commit_is_an_error_not_a_second_run(desk, settings):
    """Whether a commit that lost its connection happened cannot be known: the unit is not run twice."""
    runs: list[str] = []

    def doomed(db):  # nothing read before the commit: the dead connection shows only there
        runs.append("doomed")
        with unpooled_engine(settings.database_url).connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        return writer("doomed")(db)

    async def main():
        await run_write(desk.database, writer("warm"))
        return await asyncio.gather(run_write(desk.database, doomed), return_exceptions=True)

    [outcome] = run_loop(main)
    assert "OperationalError" in type(outcome).__name__
    assert runs == ["doomed"]
    assert stored(desk) == ["warm"]
