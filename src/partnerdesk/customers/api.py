"""Customer routes, Partner Center shaped: `POST/GET /v1/customers`, `GET /v1/customers/{id}`."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from partnerdesk.accounts.auth import RequestContext, allow
from partnerdesk.accounts.models import Role
from partnerdesk.core.errors import InvalidInput
from partnerdesk.core.idempotency import run_once
from partnerdesk.core.pagination import PageRequest, page_params, paginate, to_collection
from partnerdesk.core.schemas import Collection
from partnerdesk.customers import service
from partnerdesk.customers.schemas import FILTER_FIELDS, FILTER_OPERATOR, FILTER_PATTERN, CustomerIn, CustomerOut

router = APIRouter(prefix="/v1/customers", tags=["customers"])

READERS = (Role.operator, Role.admin_agent, Role.sales_agent, Role.helpdesk_agent)
WRITERS = (Role.admin_agent, Role.sales_agent)


@router.post("", status_code=201, response_model=CustomerOut)
def create_customer(body: CustomerIn, ctx: RequestContext = allow(*WRITERS)) -> JSONResponse:
    def work() -> tuple[int, dict]:
        customer = service.create_customer(
            ctx.db, principal=ctx.principal, data=body, now=ctx.now, request_id=ctx.request_id
        )
        return 201, CustomerOut.of(customer).model_dump(mode="json")

    return run_once(
        ctx.db,
        scope=ctx.principal.idempotency_scope,
        request_id=ctx.request_id,
        operation="POST /v1/customers",
        payload=body.model_dump(mode="json"),
        now=ctx.now,
        work=work,
    )


_FILTER_FIELDS = {name.lower(): criterion for name, criterion in FILTER_FIELDS.items()}


def _parse_partner_center_filter(raw: str | None) -> dict[str, str]:
    """Partner Center's `filter={"Field": "CompanyName", "Value": "Fab", "Operator": "starts_with"}`."""
    if not raw:
        return {}
    try:
        spec = json.loads(raw)
        field = str(spec["Field"]).lower()
        value = str(spec["Value"])
        operator = str(spec.get("Operator", FILTER_OPERATOR)).lower()
    # RecursionError: deeply nested brackets ("[[[[...") exhaust the JSON parser's stack.
    except (ValueError, KeyError, TypeError, RecursionError):
        raise InvalidInput(
            'filter must be JSON such as {"Field": "CompanyName", "Value": "Fab", "Operator": "starts_with"}.',
            ["filter"],
        ) from None
    if field not in _FILTER_FIELDS or operator != FILTER_OPERATOR:
        raise InvalidInput("filter supports Field CompanyName or Domain with Operator starts_with.", ["filter"])
    return {_FILTER_FIELDS[field]: value}


@router.get("", response_model=Collection[CustomerOut])
def list_customers(
    request: Request,
    ctx: RequestContext = allow(*READERS),
    page: PageRequest = Depends(page_params),
    company_name: str | None = Query(None, alias="companyName", description="Company name prefix."),
    domain: str | None = Query(None, description="Domain prefix."),
    q: str | None = Query(None, description="Text found in the company name or the domain."),
    filter_: str | None = Query(None, alias="filter", json_schema_extra={"pattern": FILTER_PATTERN},
                                description='Partner Center filter JSON: {"Field": "CompanyName" or "Domain", '
                                '"Value": "Fab", "Operator": "starts_with"}.'),
) -> Collection[CustomerOut]:
    criteria = {"company_name_prefix": company_name, "domain_prefix": domain, "text": q}
    criteria.update(_parse_partner_center_filter(filter_))
    statement = service.search(ctx.principal, service.CustomerSearch(**criteria))
    result = paginate(ctx.db, statement, page, sort=service.CUSTOMER_LIST_ORDER)
    return to_collection(result, request.url.path, dict(request.query_params), CustomerOut.of)


@router.get("/{customerId}", response_model=CustomerOut)
def get_customer(customer_id: str = Path(alias="customerId"), ctx: RequestContext = allow(*READERS)) -> CustomerOut:
    return CustomerOut.of(service.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id))
