"""Hybrid Benefit routes: estimates for anyone signed in, estimates kept on customers, and the rate table.

Every agent role and the operator may work an estimate out (`POST /v1/hybridbenefit/estimates`); an
estimate kept on a customer follows the customer routes' rules (the operator and the partner's admin,
sales and helpdesk agents; another partner's customer is a 404). The operator imports the VM rate
table; everyone reads it.
"""

from __future__ import annotations

import io

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from partnerdesk.accounts.auth import RequestContext, allow
from partnerdesk.accounts.models import Role
from partnerdesk.core.idempotency import run_once
from partnerdesk.core.pagination import ASC, DESC, PageRequest, SortKey, page_params, paginate, to_collection
from partnerdesk.core.schemas import Collection
from partnerdesk.customers.api import READERS as CUSTOMER_READERS
from partnerdesk.hybrid import presenters, service
from partnerdesk.hybrid.errors import InvalidRateTable
from partnerdesk.hybrid.models import StoredEstimate, VmRate
from partnerdesk.hybrid.schemas import EstimateIn, EstimateOut, RateImportOut, StoredEstimateOut, VmRateOut

router = APIRouter(tags=["hybrid benefit"])

EVERYONE = tuple(Role)
ESTIMATE_KEEPERS = CUSTOMER_READERS
RATE_IMPORTERS = (Role.operator,)


@router.post("/v1/hybridbenefit/estimates", response_model=EstimateOut, response_model_exclude_none=True)
def work_out_estimate(body: EstimateIn, ctx: RequestContext = allow(*EVERYONE)) -> JSONResponse:
    """Monthly costs of a VM fleet pay-as-you-go and with Azure Hybrid Benefit (rule R7), with reservations
    too when `reservation.term` is given. Nothing is stored."""
    checked = service.estimate(ctx.db, request=body, now=ctx.now)
    return JSONResponse(service.estimate_json(checked.result))


@router.post("/v1/customers/{customerId}/hybridbenefit/estimates", status_code=201, response_model=StoredEstimateOut)
def keep_estimate(body: EstimateIn, customer_id: str = Path(alias="customerId"),
                  ctx: RequestContext = allow(*ESTIMATE_KEEPERS)) -> JSONResponse:
    """Works the estimate out in the customer's market (its reservations priced there, rule R1 applied)
    and keeps it on the customer."""
    def keep() -> tuple[int, dict]:
        stored = service.store_estimate(ctx.db, principal=ctx.principal, customer_id=customer_id, request=body,
                                        now=ctx.now, request_id=ctx.request_id)
        return 201, presenters.stored_estimate_out(stored).model_dump(mode="json", exclude_none=True)

    return run_once(ctx.db, scope=ctx.principal.idempotency_scope, request_id=ctx.request_id,
                    operation=f"POST /v1/customers/{customer_id}/hybridbenefit/estimates",
                    payload=body.model_dump(mode="json"), now=ctx.now, work=keep)


# The lists' orders (their service's), the keys their keyset pages start after (`core.pagination`): set here
# on the statement too, so the order and the key cannot drift apart.
ESTIMATE_ORDER = SortKey("hybrid-estimates", (StoredEstimate.created_at, DESC), (StoredEstimate.id, ASC))
RATE_ORDER = SortKey("hybrid-rates", (VmRate.currency, ASC), (VmRate.size, ASC), (VmRate.region, ASC),
                     (VmRate.id, ASC))


@router.get("/v1/customers/{customerId}/hybridbenefit/estimates", response_model=Collection[StoredEstimateOut],
            response_model_exclude_none=True)
def list_estimates(request: Request, customer_id: str = Path(alias="customerId"),
                   ctx: RequestContext = allow(*ESTIMATE_KEEPERS),
                   page: PageRequest = Depends(page_params)) -> Collection[StoredEstimateOut]:
    statement = service.customer_estimates(ctx.db, principal=ctx.principal, customer_id=customer_id)
    statement = statement.order_by(None).order_by(*ESTIMATE_ORDER.clauses())
    return to_collection(paginate(ctx.db, statement, page, sort=ESTIMATE_ORDER), request.url.path,
                         dict(request.query_params),
                         presenters.stored_estimate_out)


@router.get("/v1/hybridbenefit/rates", response_model=Collection[VmRateOut])
def list_rates(request: Request, ctx: RequestContext = allow(*EVERYONE), page: PageRequest = Depends(page_params),
               vm_size: str | None = Query(None, alias="vmSize", max_length=80,
                                           description="A VM size, such as Standard_D4s_v5."),
               region: str | None = Query(None, max_length=60, description="A region, such as westeurope."),
               currency: str | None = Query(None, max_length=3)) -> Collection[VmRateOut]:
    """The operator's VM rate table: hourly rates with and without the Windows licence."""
    statement = service.search_rates(size=vm_size, region=region, currency=currency)
    statement = statement.order_by(None).order_by(*RATE_ORDER.clauses())
    return to_collection(paginate(ctx.db, statement, page, sort=RATE_ORDER), request.url.path,
                         dict(request.query_params),
                         presenters.rate_out)


@router.post("/v1/hybridbenefit/rates", response_model=RateImportOut)
def import_rates(body: bytes = Body(..., media_type="text/csv",
                                    description="A CSV file: size,region,currency,vCpus,windowsRatePerHour,"
                                                "baseRatePerHour"),
                 ctx: RequestContext = allow(*RATE_IMPORTERS)) -> RateImportOut:
    """Imports the VM rate table (operator): all rows or none; rates the file does not name are kept."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidRateTable("The rate table is not UTF-8 text; nothing was imported.", []) from None
    report = service.import_rates(ctx.db, io.StringIO(text, newline=""), now=ctx.now, principal=ctx.principal)
    return RateImportOut(rows=report.rows, added=report.added, updated=report.updated)
