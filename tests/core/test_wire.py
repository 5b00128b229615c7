"""The lean libpq path of the PostgreSQL write units (core.wire): it must behave exactly as psycopg.

Values go in and come back as through psycopg's cursors, errors are psycopg's (then SQLAlchemy's),
a failed block keeps nothing and leaves a usable connection, and each statement is prepared once
per connection. These tests drive it the way the units do: on the asyncio engine, through
`run_write`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import IntegrityError

from partnerdesk.core.idempotency import IdempotencyRecord
from partnerdesk.core.prepared import Prepared, insert_statement, run_on_driver, together
from partnerdesk.core.units import run_write
from partnerdesk.core.wire import _to_libpq
from tests.core.test_units import run_loop

on_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

RECORDS = IdempotencyRecord.__table__
INSERT = Prepared(insert_statement(RECORDS))
BY_ID = Prepared(select(RECORDS.c.id, RECORDS.c.status_code, RECORDS.c.response_body, RECORDS.c.created_at)
                 .where(RECORDS.c.id == bindparam("id")))
BY_SCOPE = Prepared(select(RECORDS.c.request_id).where(RECORDS.c.scope == bindparam("scope"))
                    .order_by(RECORDS.c.request_id))
NOW = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC)


def record(scope: str, request_id: str, **changes) -> dict:
    return {"id": f"{scope}-{request_id}", "scope": scope, "request_id": request_id, "operation": "POST /t",
            "fingerprint": "f" * 64, "status_code": 201, "response_body": None, "created_at": NOW} | changes


def stored(desk, scope: str) -> list[str]:
    with desk.database.session(write=False) as db:
        return list(db.scalars(select(IdempotencyRecord.request_id).where(IdempotencyRecord.scope == scope)
                               .order_by(IdempotencyRecord.request_id)))


@on_postgresql
def test_values_go_in_and_come_back_as_with_psycopg(desk):
    body = {"amount": "12.50", "lines": [1, 2.5, None, True], "name": "Zoë 日本 ' \" % \\", "nested": {"a": []}}
    later = NOW + timedelta(days=400, microseconds=1)

    def write(db):
        INSERT.defer(db, [record("values", "a", response_body=body),
                          record("values", "b", response_body=None, status_code=409, created_at=later)])
        return "written"

    def read(db):
        return BY_ID.first(db, {"id": "values-a"}), BY_ID.first(db, {"id": "values-b"})

    async def main():
        await run_write(desk.database, write)
        return await run_write(desk.database, read)

    a, b = run_loop(main)
    assert a == ("values-a", 201, body, NOW)
    assert b == ("values-b", 409, None, later)
    with desk.database.session(write=False) as db:  # psycopg's own cursors read the same values
        orm = db.get(IdempotencyRecord, "values-a")
        assert (orm.response_body, orm.created_at) == (body, NOW)


@on_postgresql
def test_a_failed_statement_raises_the_database_error_and_keeps_nothing_of_its_unit(desk):
    def duplicate(db):
        with together(db):
            first = INSERT.send(db, record("dup", "a"))
            INSERT.send(db, record("dup", "b", id="dup-a"))  # the same id: refused by the primary key
            after = BY_SCOPE.send(db, {"scope": "dup"})  # never runs: the pipeline was aborted
        return first, after

    async def main():
        outcome = await asyncio.gather(run_write(desk.database, duplicate), return_exceptions=True)
        # The pool's connections are fine afterwards.
        await asyncio.gather(*(run_write(desk.database, lambda db, n=n: INSERT.defer(db, [record("ok", str(n))]))
                               for n in range(5)))
        return outcome

    [outcome] = run_loop(main)
    assert isinstance(outcome, IntegrityError)
    assert "duplicate key" in str(outcome.orig)
    assert stored(desk, "dup") == []
    assert stored(desk, "ok") == ["0", "1", "2", "3", "4"]


@on_postgresql
def test_a_block_whose_code_raises_sends_nothing(desk):
    def interrupted(db):
        INSERT.run_many(db, [record("block", "before")])
        try:
            with together(db):
                INSERT.send(db, record("block", "inside"))
                raise ValueError("the unit's own code failed midway")
        except ValueError:
            pass
        return [row.request_id for row in BY_SCOPE.all(db, {"scope": "block"})]

    async def main():
        return await run_write(desk.database, interrupted)

    assert run_loop(main) == ["before"]
    assert stored(desk, "block") == ["before"]


@on_postgresql
def test_each_statement_is_prepared_once_per_connection(desk):
    def read(db):
        BY_SCOPE.all(db, {"scope": "prepared"})
        return db.execute(text("SELECT pg_backend_pid(), count(*) FROM pg_prepared_statements "
                               "WHERE name LIKE 'partnerdesk\\_%' AND statement LIKE '%idempotency_records%'")
                          ).one()

    async def main():
        counts = []
        for _ in range(5):  # one unit at a time: the pool lends the same connection
            counts.append(await run_write(desk.database, read))
        return counts

    counts = run_loop(main)
    assert len({backend for backend, _count in counts}) == 1  # the same connection every time
    assert [count for _backend, count in counts] == [1, 1, 1, 1, 1]


@on_postgresql
def test_a_unit_cancelled_in_the_middle_of_an_exchange_leaves_a_usable_pool(desk):
    def slow(db):
        run_on_driver(db, "SELECT pg_sleep(2)")

    async def main():
        task = asyncio.ensure_future(run_write(desk.database, slow))
        await asyncio.sleep(0.2)  # the statement is on the server; the unit waits for its result
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await asyncio.gather(*(run_write(desk.database, lambda db, n=n: INSERT.defer(
            db, [record("after", str(n))])) for n in range(3)))

    run_loop(main)
    assert stored(desk, "after") == ["0", "1", "2"]


@pytest.mark.parametrize(("compiled", "libpq", "names"), [
    ("SELECT %(a)s, %(b)s, %(a)s", "SELECT $1, $2, $1", ("a", "b")),
    ("SELECT %s, %s", "SELECT $1, $2", None),
    ("SELECT '100%%' WHERE x LIKE %(pattern)s", "SELECT '100%' WHERE x LIKE $1", ("pattern",)),
    ("SELECT 1", "SELECT 1", None),
])
def test_psycopg_placeholders_become_libpq_ones(compiled, libpq, names):
    query = _to_libpq(compiled)
    assert (query.sql.decode(), query.names) == (libpq, names)
