"""The baselines a benchmark in bench/ compares its figures with, served beside the app in the same run.

- `GET /bench/constant`: a constant answer (the HTTP stack's ceiling);
- `POST /bench/insert`: a naive single ORM INSERT per request in the request's session (the usual
  write path).

Their table, `bench_notes`, has a `MetaData` of its own, not `partnerdesk.core.db.Base`'s: it is never
part of the product's schema, its migrations or Alembic's autogenerate. `create_tables` makes it in the
benchmark's own database.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool

from partnerdesk.core.db import IdColumn, UTCDateTime, new_id
from partnerdesk.core.deps import ClockDep, DbSession

router = APIRouter(prefix="/bench", include_in_schema=False)


class BenchBase(DeclarativeBase):
    """The benchmarks' own tables, apart from the product's `Base.metadata`."""


class BenchNote(BenchBase):
    __tablename__ = "bench_notes"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    body: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def create_tables(database_url: str) -> None:
    """Creates the baselines' tables in the database at `database_url` when they are missing."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        BenchBase.metadata.create_all(engine)
    finally:
        engine.dispose()


@router.get("/constant")
async def constant() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/insert", status_code=201)
def naive_insert(db: DbSession, clock: ClockDep) -> dict[str, str]:
    note = BenchNote(body="bench", created_at=clock.now())
    db.add(note)
    db.flush()
    return {"id": note.id}
