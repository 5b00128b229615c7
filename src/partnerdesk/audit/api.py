"""`GET /v1/activitylogs`: for the operator and the partner's admin agents."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime

from partnerdesk.accounts.auth import RequestContext, allow
from partnerdesk.accounts.models import Role
from partnerdesk.audit import service
from partnerdesk.audit.schemas import ActivityRecordOut
from partnerdesk.core.pagination import PageRequest, page_params, paginate, to_collection
from partnerdesk.core.schemas import Collection

router = APIRouter(prefix="/v1/activitylogs", tags=["activity log"])


@router.get("", response_model=Collection[ActivityRecordOut])
def list_activity(
    request: Request,
    ctx: RequestContext = allow(Role.operator, Role.admin_agent),
    page: PageRequest = Depends(page_params),
    partner_id: str | None = Query(None, alias="partnerId"),
    customer_id: str | None = Query(None, alias="customerId"),
    action: str | None = Query(None),
    agent_email: str | None = Query(None, alias="agentEmail"),
    start_date: AwareDatetime | None = Query(None, alias="startDate"),
    end_date: AwareDatetime | None = Query(None, alias="endDate"),
) -> Collection[ActivityRecordOut]:
    filters = service.ActivityFilter(
        partner_id=partner_id,
        customer_id=customer_id,
        action=action,
        agent_email=agent_email,
        start=start_date,
        end=end_date,
    )
    result = paginate(ctx.db, service.query(ctx.principal, filters), page)
    return to_collection(result, request.url.path, dict(request.query_params), ActivityRecordOut.model_validate)
