"""The request's session (`core.deps.get_db`): committed when the route returns, rolled back when it fails, and
left as the route left it when the route committed itself (a download link does, in its one worker-thread trip):
then the session is only closed, its connection already back in the pool and SQLite's write gate free."""

from __future__ import annotations

import threading

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from partnerdesk.audit import service as audit
from partnerdesk.audit.models import ActivityRecord
from partnerdesk.core.deps import DbSession
from partnerdesk.core.errors import Conflict, install_error_handlers

pytestmark = pytest.mark.both_engines


def _record(db, desk, action: str) -> None:
    audit.record(db, principal=None, now=desk.clock.now(), action=action, object_type="test")


def _actions(desk) -> list[str]:
    with desk.database.session(write=False) as db:
        return list(db.scalars(select(ActivityRecord.action).order_by(ActivityRecord.id)))


@pytest.fixture
def session_app(desk):
    app = FastAPI()
    app.state.desk = desk
    install_error_handlers(app)

    @app.post("/commits-itself/{action}")
    async def commits_itself(action: str, db: DbSession) -> dict:
        def work() -> None:
            _record(db, desk, action)
            db.commit()

        await run_in_threadpool(work)
        return {"inTransaction": db.in_transaction()}

    @app.post("/leaves-it/{action}")
    def leaves_it(action: str, db: DbSession) -> dict:
        _record(db, desk, action)
        return {"inTransaction": db.in_transaction()}

    @app.post("/commits-then-fails")
    async def commits_then_fails(db: DbSession) -> None:
        def work() -> None:
            _record(db, desk, "committed")
            db.commit()
            _record(db, desk, "undone")
            raise Conflict("refused", kept=[lambda kept_db: _record(kept_db, desk, "kept")])

        await run_in_threadpool(work)

    @app.get("/pool")
    async def pool() -> dict:
        return {"checkedOut": desk.database.engine.pool.checkedout()}

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_route_that_committed_itself_keeps_its_write_and_frees_its_connection(session_app, desk):
    answer = session_app.post("/commits-itself/first")
    assert answer.status_code == 200 and answer.json() == {"inTransaction": False}
    assert _actions(desk) == ["first"]
    assert session_app.get("/pool").json() == {"checkedOut": 0}


def test_the_next_write_is_not_held_up_by_a_route_that_committed_itself(session_app, desk):
    """On SQLite a write request holds the process's write gate until its session ends: it must end even
    though the dependency had no transaction left to commit. Twenty writes in a row each get through."""
    done: list[int] = []

    def twenty_writes() -> None:
        for number in range(20):
            done.append(session_app.post(f"/commits-itself/write-{number}").status_code)

    writer = threading.Thread(target=twenty_writes, daemon=True)
    writer.start()
    writer.join(timeout=60)  # a bound, not a pause: a gate left held would block the second write for ever
    assert done == [200] * 20
    assert _actions(desk) == [f"write-{number}" for number in range(20)]


def test_a_route_that_did_not_commit_is_committed_by_the_dependency(session_app, desk):
    answer = session_app.post("/leaves-it/second")
    assert answer.status_code == 200 and answer.json() == {"inTransaction": True}
    assert _actions(desk) == ["second"]
    assert session_app.get("/pool").json() == {"checkedOut": 0}


def test_a_failure_after_the_routes_own_commit_still_rolls_back_and_keeps_what_it_asks(session_app, desk):
    answer = session_app.post("/commits-then-fails")
    assert answer.status_code == 409
    assert _actions(desk) == ["committed", "kept"]
    assert session_app.get("/pool").json() == {"checkedOut": 0}
