"""`POST /v1/sandbox/clock`: move the test clock forward (operator only).

The app mounts these routes only in sandbox mode, so elsewhere they answer 404 to everyone.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import Field

from partnerdesk.accounts.auth import RequestContext, allow
from partnerdesk.accounts.models import Role
from partnerdesk.audit import service as audit
from partnerdesk.core.schemas import CamelModel, ResponseModel
from partnerdesk.core.wire_types import StrictInteger
from partnerdesk.sandbox import service

router = APIRouter(prefix="/v1/sandbox", tags=["sandbox"])


class AdvanceClockIn(CamelModel):
    advance_days: StrictInteger = Field(ge=1, le=service.MAX_ADVANCE_DAYS)


class ClockOut(ResponseModel):
    now: datetime


@router.post("/clock", response_model=ClockOut)
def advance_clock(body: AdvanceClockIn, ctx: RequestContext = allow(Role.operator)) -> ClockOut:
    clock = service.advance(ctx.db, ctx.desk.clock, sandbox=ctx.desk.settings.sandbox, days=body.advance_days)
    now = clock.now()
    audit.record(ctx.db, principal=ctx.principal, now=now, action="sandbox.clock_advanced",
                 object_type="clock", request_id=ctx.request_id, details={"days": body.advance_days})
    return ClockOut(now=now)


@router.get("/clock", response_model=ClockOut)
def read_clock(ctx: RequestContext = allow(*Role)) -> ClockOut:
    return ClockOut(now=ctx.now)
