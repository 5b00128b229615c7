"""The activity log over the API, for the operator and the partner's admin agents:

- `GET /v1/activitylogs`: Partner Desk's own shape, every filter;
- `GET /v1/auditrecords?startDate=&endDate=&size=`: the same records in Partner Center's `AuditRecord`
  shape (`operationType` such as `create_order`, `add_customer`), with Partner Center's filter and
  continuation paging, so its tooling reads them as it reads Partner Center's.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from partnerdesk.accounts.auth import RequestContext, allow
from partnerdesk.accounts.models import Role
from partnerdesk.audit import service
from partnerdesk.audit.models import ActivityRecord
from partnerdesk.audit.schemas import ActivityRecordOut, AuditRecordOut, object_types_of
from partnerdesk.core.errors import DeskError
from partnerdesk.core.pagination import PageRequest, page_params, paginate, to_collection
from partnerdesk.core.schemas import Collection
from partnerdesk.core.wire_types import IsoAwareDateTime
from partnerdesk.customers.models import Customer

router = APIRouter(tags=["activity log"])

READERS = (Role.operator, Role.admin_agent)
# Partner Center's default window when no start date is given.
DEFAULT_WINDOW = timedelta(days=30)
# The date forms Partner Center's documentation sends: 2017-06-01, and 6/1/2017 12:00:00 AM.
_US_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y")


class InvalidAuditQuery(DeskError):
    status_code = 400
    code = 1702


@router.get("/v1/activitylogs", response_model=Collection[ActivityRecordOut])
def list_activity(
    request: Request,
    ctx: RequestContext = allow(*READERS),
    page: PageRequest = Depends(page_params),
    partner_id: str | None = Query(None, alias="partnerId"),
    customer_id: str | None = Query(None, alias="customerId"),
    action: str | None = Query(None),
    agent_email: str | None = Query(None, alias="agentEmail"),
    start_date: IsoAwareDateTime | None = Query(None, alias="startDate"),
    end_date: IsoAwareDateTime | None = Query(None, alias="endDate"),
) -> Collection[ActivityRecordOut]:
    filters = service.ActivityFilter(
        partner_id=partner_id,
        customer_id=customer_id,
        action=action,
        agent_email=agent_email,
        start=start_date,
        end=end_date,
    )
    result = paginate(ctx.db, service.query(ctx.principal, filters), page, sort=service.ACTIVITY_ORDER)
    return to_collection(result, request.url.path, dict(request.query_params), ActivityRecordOut.model_validate)


def _moment(text: str, field: str, *, end_of_day: bool) -> datetime:
    """A date or date-time in the forms Partner Center accepts, in UTC; a bare date ends at midnight after it."""
    value = text.strip()
    try:
        day = date.fromisoformat(value)
        return datetime.combine(day + timedelta(days=1) if end_of_day else day, time(), tzinfo=UTC)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
        for form in _US_FORMATS:
            try:
                moment = datetime.strptime(value, form)
                break
            except ValueError:
                continue
    if moment is None:
        raise InvalidAuditQuery(f"{field}: '{text[:40]}' is not a date such as 2024-06-01 or 6/1/2024 12:00:00 AM.",
                                [field])
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _filter(raw: str | None) -> tuple[str, str] | None:
    """Partner Center's `filter={"Field": "CustomerId"|"ResourceType"|"CompanyName", "Value": ..., "Operator": ...}`."""
    if not raw:
        return None
    try:
        spec = json.loads(raw)
        field, value = str(spec["Field"]).strip().casefold(), str(spec["Value"])
    except (ValueError, KeyError, TypeError, RecursionError):
        field, value = "", ""
    if field not in ("customerid", "resourcetype", "companyname"):
        raise InvalidAuditQuery('filter must be JSON such as {"Field": "CustomerId", "Value": "<id>", '
                                '"Operator": "equals"}; Field is CustomerId, ResourceType or CompanyName.', ["filter"])
    return field, value


@router.get("/v1/auditrecords", response_model=Collection[AuditRecordOut])
def list_audit_records(
    request: Request,
    ctx: RequestContext = allow(*READERS),
    page: PageRequest = Depends(page_params),
    start_date: str | None = Query(None, alias="startDate", max_length=40,
                                   description="From this date (2024-06-01 or 6/1/2024 12:00:00 AM, UTC); "
                                   "by default 30 days ago."),
    end_date: str | None = Query(None, alias="endDate", max_length=40,
                                 description="Up to this date, included when it is a bare date; by default now."),
    filter_: str | None = Query(None, alias="filter", max_length=500,
                                description='Partner Center\'s filter: {"Field": "CustomerId", "Value": "<id>", '
                                '"Operator": "equals"}, Field ResourceType (equals) or CompanyName (substring).'),
) -> Collection[AuditRecordOut]:
    # Without an end, up to now: every record written so far, this instant's included.
    end = _moment(end_date, "endDate", end_of_day=True) if end_date else None
    start = _moment(start_date, "startDate", end_of_day=False) if start_date else (end or ctx.now) - DEFAULT_WINDOW
    if end is not None and start > end:
        raise InvalidAuditQuery("startDate must not be after endDate.", ["startDate", "endDate"])
    wanted = _filter(filter_)
    customer_id = wanted[1] if wanted and wanted[0] == "customerid" else None
    statement = service.query(ctx.principal, service.ActivityFilter(customer_id=customer_id, start=start, end=end))
    if wanted and wanted[0] == "resourcetype":
        statement = statement.where(ActivityRecord.object_type.in_(object_types_of(wanted[1])))
    if wanted and wanted[0] == "companyname":
        named = select(Customer.id).where(Customer.company_name_folded.contains(wanted[1].casefold(), autoescape=True))
        statement = statement.where(ActivityRecord.customer_id.in_(named))
    result = paginate(ctx.db, statement, page, sort=service.AUDIT_RECORD_ORDER)
    ids = {record.customer_id for record in result.rows if record.customer_id}
    names = dict(ctx.db.execute(select(Customer.id, Customer.company_name).where(Customer.id.in_(ids))).all()) \
        if ids else {}
    return to_collection(result, request.url.path, dict(request.query_params),
                         lambda record: AuditRecordOut.of(record, names.get(record.customer_id)))
