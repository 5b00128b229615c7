"""Reading and moving the sandbox test clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from partnerdesk.core.clock import Clock, OffsetClock
from partnerdesk.core.errors import InvalidInput, SandboxDisabled
from partnerdesk.sandbox.models import SandboxClock

MAX_ADVANCE_DAYS = 3650


def clock_for(db: Session, base: Clock, *, sandbox: bool) -> Clock:
    if not sandbox:
        return base
    offset = db.scalar(select(SandboxClock.offset_seconds).where(SandboxClock.id == 1)) or 0
    return OffsetClock(base, timedelta(seconds=offset)) if offset else base


def clock_source(base: Clock, *, sandbox: bool) -> Callable[[Session], Clock]:
    """What the app reads a request's clock with (`core.deps.request_clock`): the test clock in sandbox mode."""
    return lambda db: clock_for(db, base, sandbox=sandbox)


def advance(db: Session, base: Clock, *, sandbox: bool, days: int) -> Clock:
    if not sandbox:
        raise SandboxDisabled("The test clock exists only in sandbox mode (PARTNERDESK_SANDBOX=1).")
    if not 0 < days <= MAX_ADVANCE_DAYS:
        raise InvalidInput(f"advanceDays must be between 1 and {MAX_ADVANCE_DAYS}.", ["advanceDays"])
    row = db.get(SandboxClock, 1, with_for_update=True)
    if row is None:
        row = SandboxClock(id=1, offset_seconds=0)
        db.add(row)
    row.offset_seconds += days * 86400
    db.flush()
    return OffsetClock(base, timedelta(seconds=row.offset_seconds))
