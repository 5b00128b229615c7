"""FastAPI dependencies for the database session and the clock of one request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from partnerdesk.core.clock import Clock
from partnerdesk.core.desk import Desk
from partnerdesk.sandbox import service as sandbox_service

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_desk(request: Request) -> Desk:
    return request.app.state.desk


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request, committed when the route returns (before the answer is sent)."""
    desk: Desk = request.app.state.desk
    with desk.database.session(write=request.method not in SAFE_METHODS) as session:
        yield session


DeskDep = Annotated[Desk, Depends(get_desk)]
DbSession = Annotated[Session, Depends(get_db, scope="function")]


def get_clock(desk: DeskDep, db: DbSession) -> Clock:
    return sandbox_service.clock_for(db, desk.clock, sandbox=desk.settings.sandbox)


ClockDep = Annotated[Clock, Depends(get_clock)]
