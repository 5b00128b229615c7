"""Liveness and readiness: is the process up, and can it serve (database reachable, schema at head)?"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from partnerdesk.core.desk import Desk
from partnerdesk.migrations import runner


@dataclass(frozen=True)
class Readiness:
    database: str  # "ok" or "unreachable"
    schema: str    # "at head", "behind head" or "unknown"

    @property
    def ready(self) -> bool:
        return self.database == "ok" and self.schema == "at head"


@cache
def _head_revisions() -> frozenset[str]:
    # The migration scripts ship with the code, so their heads are read once per process.
    return frozenset(runner.head_revisions())


def readiness(desk: Desk) -> Readiness:
    """Asks the database itself: one round trip for `SELECT 1` and the schema's Alembic revisions."""
    try:
        with desk.database.session(write=False) as db:
            db.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(db.connection()).get_current_heads())
    except SQLAlchemyError:  # the type only: a connection error may hold the database's address
        return Readiness(database="unreachable", schema="unknown")
    return Readiness(database="ok", schema="at head" if current == _head_revisions() else "behind head")
