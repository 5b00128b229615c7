"""Prepared statements, deferred rows and round trips sent together: what they change must never show.

Each test runs on SQLite and on PostgreSQL, where `defer`, `together` and `prefetch` really hold
statements back or send them ahead (psycopg's pipeline mode).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from partnerdesk.core.idempotency import IdempotencyRecord
from partnerdesk.core.prepared import Prepared, commit, insert_statement, together

RECORDS = IdempotencyRecord.__table__
INSERT = Prepared(insert_statement(RECORDS))
BY_SCOPE = Prepared(select(RECORDS.c.request_id).where(RECORDS.c.scope == bindparam("scope"))
                    .order_by(RECORDS.c.request_id))
RENAME = Prepared(RECORDS.update().where(RECORDS.c.scope == bindparam("scope"))
                  .values(operation=bindparam("operation")))
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def record(scope: str, request_id: str, *, record_id: str | None = None) -> dict:
    return {"id": record_id or f"{scope}-{request_id}", "scope": scope, "request_id": request_id,
            "operation": "POST /test", "fingerprint": "f" * 64, "status_code": 201,
            "response_body": {"ok": True, "amount": "12.50"}, "created_at": NOW}


def stored(desk, scope: str) -> list[str]:
    with desk.database.session(write=False) as db:
        return list(db.scalars(select(IdempotencyRecord.request_id).where(IdempotencyRecord.scope == scope)
                               .order_by(IdempotencyRecord.request_id)))


def test_deferred_rows_are_seen_by_every_later_statement_and_kept_by_the_commit(desk):
    with desk.database.session() as db:
        INSERT.defer(db, [record("s", "a"), record("s", "b")])
        assert [row.request_id for row in BY_SCOPE.all(db, {"scope": "s"})] == ["a", "b"]
        INSERT.defer(db, [record("s", "c")])
        # An ORM statement sees them too: they are sent before any statement of the session.
        assert db.scalar(select(func.count()).select_from(IdempotencyRecord)
                         .where(IdempotencyRecord.scope == "s")) == 3
        INSERT.defer(db, [record("s", "d")])
        commit(db)
    assert stored(desk, "s") == ["a", "b", "c", "d"]


def test_values_round_trip_through_the_column_types(desk):
    with desk.database.session() as db:
        INSERT.defer(db, [record("types", "a")])
        commit(db)
    with desk.database.session(write=False) as db:
        row = db.get(IdempotencyRecord, "types-a")
        assert row.response_body == {"ok": True, "amount": "12.50"}
        assert row.created_at == NOW


def test_deferred_rows_of_a_rolled_back_transaction_are_never_written(desk):
    db = desk.database.new_session()
    try:
        INSERT.defer(db, [record("gone", "a")])
        db.rollback()
        INSERT.defer(db, [record("kept", "a")])
        commit(db)
    finally:
        db.close()
    assert stored(desk, "gone") == []
    assert stored(desk, "kept") == ["a"]


def test_deferred_rows_inside_a_savepoint_roll_back_with_it(desk):
    with desk.database.session() as db:
        INSERT.defer(db, [record("sp", "before")])
        nested = db.begin_nested()
        INSERT.defer(db, [record("sp", "inside")])
        nested.rollback()
        INSERT.defer(db, [record("sp", "after")])
        commit(db)
    assert stored(desk, "sp") == ["after", "before"]


def test_a_deferred_row_that_fails_fails_the_commit_and_keeps_nothing(desk):
    with desk.database.session() as db:
        INSERT.defer(db, [record("dup", "a")])
        commit(db)
    db = desk.database.new_session()
    try:
        # SQLite writes at once, PostgreSQL with the COMMIT: the error comes out at either point.
        with pytest.raises(IntegrityError):
            INSERT.defer(db, [record("dup", "b")])
            INSERT.defer(db, [record("dup", "a", record_id="another-id")])  # the same (scope, request id)
            commit(db)
        db.rollback()
    finally:
        db.close()
    assert stored(desk, "dup") == ["a"]
    # The connection went back to the pool in a usable state.
    for _ in range(3):
        with desk.database.session() as db:
            INSERT.defer(db, [record("after-failure", str(_))])
            commit(db)
    assert stored(desk, "after-failure") == ["0", "1", "2"]


def test_prefetched_rows_are_used_once_then_the_database_is_asked_again(desk):
    with desk.database.session() as db:
        INSERT.defer(db, [record("pf", "a")])
        commit(db)
    with desk.database.session() as db:
        with together(db):
            BY_SCOPE.prefetch(db, {"scope": "pf"})
            BY_SCOPE.prefetch(db, {"scope": "elsewhere"})
        assert [row.request_id for row in BY_SCOPE.all(db, {"scope": "pf"})] == ["a"]
        INSERT.run_many(db, [record("pf", "b")])
        # The prefetched answer was consumed: this read sees the transaction's own new row.
        assert [row.request_id for row in BY_SCOPE.all(db, {"scope": "pf"})] == ["a", "b"]
        assert BY_SCOPE.first(db, {"scope": "elsewhere"}) is None


def test_statements_sent_together_report_their_outcome_after_the_block(desk):
    with desk.database.session() as db:
        INSERT.run_many(db, [record("up", "a"), record("up", "b")])
        with together(db):
            renamed = RENAME.send(db, {"scope": "up", "operation": "PUT /test"})
            untouched = RENAME.send(db, {"scope": "nobody", "operation": "PUT /test"})
        assert renamed.rowcount == 2
        assert untouched.rowcount == 0
        commit(db)
    with desk.database.session(write=False) as db:
        assert set(db.scalars(select(IdempotencyRecord.operation).where(IdempotencyRecord.scope == "up"))) == {
            "PUT /test"}


def test_an_error_inside_together_comes_out_and_keeps_nothing(desk):
    db = desk.database.new_session()
    try:
        with pytest.raises(IntegrityError):
            with together(db):
                INSERT.send(db, record("err", "a"))
                INSERT.send(db, record("err", "a", record_id="other"))
            commit(db)
        db.rollback()
    finally:
        db.close()
    assert stored(desk, "err") == []
