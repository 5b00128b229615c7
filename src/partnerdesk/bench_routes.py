"""Routes that exist only for the benchmarks in bench/ (PARTNERDESK_BENCH_ROUTES=1).

They give the baselines a figure is compared with in the same run: a constant answer
(the HTTP stack's ceiling) and a naive single ORM INSERT per request (the usual write path).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from partnerdesk.core.db import Base, IdColumn, UTCDateTime, new_id
from partnerdesk.core.deps import ClockDep, DbSession

router = APIRouter(prefix="/bench", include_in_schema=False)


class BenchNote(Base):
    __tablename__ = "bench_notes"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    body: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


@router.get("/constant")
async def constant() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/insert", status_code=201)
def naive_insert(db: DbSession, clock: ClockDep) -> dict[str, str]:
    note = BenchNote(body="bench", created_at=clock.now())
    db.add(note)
    db.flush()
    return {"id": note.id}
