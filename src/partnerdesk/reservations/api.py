"""Azure plan subscriptions and their registration for Reserved Instances, Partner Center shaped.

- `POST /v1/customers/{customerId}/subscriptions/azureplan` creates an Azure subscription under the
  customer's Azure plan (Partner Desk's shortcut for buying the Azure plan offer); `GET` on the same
  path lists them.
- `POST .../subscriptions/{subscriptionId}/registrations` registers Microsoft.Capacity (202 with the
  status URI in `Location`); `GET .../registrationstatus` reads it.
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Path, Request
from fastapi.responses import JSONResponse

from partnerdesk.accounts.auth import RequestContext, allow
from partnerdesk.accounts.models import Role
from partnerdesk.core.idempotency import run_once
from partnerdesk.core.pagination import PageRequest, page_params, paginate, to_collection
from partnerdesk.core.schemas import Collection
from partnerdesk.reservations import service
from partnerdesk.reservations.schemas import AzurePlanSubscriptionIn, AzureSubscriptionOut, RegistrationStatusOut

router = APIRouter(prefix="/v1/customers/{customerId}/subscriptions", tags=["azure subscriptions"])

READERS = (Role.operator, Role.admin_agent, Role.sales_agent, Role.helpdesk_agent)
BUYERS = (Role.admin_agent, Role.sales_agent)


@router.post("/azureplan", status_code=201, response_model=AzureSubscriptionOut)
def create_azure_plan_subscription(
    customer_id: str = Path(alias="customerId"),
    body: AzurePlanSubscriptionIn | None = Body(None),
    ctx: RequestContext = allow(*BUYERS),
) -> JSONResponse:
    body = body or AzurePlanSubscriptionIn()

    def work() -> tuple[int, dict]:
        subscription = service.create_azure_subscription(
            ctx.db, principal=ctx.principal, customer_id=customer_id, friendly_name=body.friendly_name,
            now=ctx.now, request_id=ctx.request_id,
        )
        return 201, AzureSubscriptionOut.of(subscription).model_dump(mode="json")

    return run_once(
        ctx.db, scope=ctx.principal.idempotency_scope, request_id=ctx.request_id,
        operation=f"POST /v1/customers/{customer_id}/subscriptions/azureplan",
        payload=body.model_dump(mode="json"), now=ctx.now, work=work,
    )


@router.get("/azureplan", response_model=Collection[AzureSubscriptionOut])
def list_azure_plan_subscriptions(
    request: Request,
    customer_id: str = Path(alias="customerId"),
    page: PageRequest = Depends(page_params),
    ctx: RequestContext = allow(*READERS),
) -> Collection[AzureSubscriptionOut]:
    statement = service.list_azure_subscriptions(ctx.db, principal=ctx.principal, customer_id=customer_id)
    result = paginate(ctx.db, statement, page)
    return to_collection(result, request.url.path, dict(request.query_params), AzureSubscriptionOut.of)


@router.post("/{subscriptionId}/registrations", status_code=202, response_model=RegistrationStatusOut)
def register_subscription(
    customer_id: str = Path(alias="customerId"),
    subscription_id: str = Path(alias="subscriptionId"),
    ctx: RequestContext = allow(*BUYERS),
) -> JSONResponse:
    status_uri = f"/v1/customers/{customer_id}/subscriptions/{subscription_id}/registrationstatus"
    subscription = service.register_for_reservations(
        ctx.db, principal=ctx.principal, customer_id=customer_id, subscription_id=subscription_id,
        now=ctx.now, request_id=ctx.request_id,
    )
    body = RegistrationStatusOut.of(subscription).model_dump(mode="json")
    return JSONResponse(body, status_code=202, headers={"Location": status_uri})


@router.get("/{subscriptionId}/registrationstatus", response_model=RegistrationStatusOut)
def registration_status(
    customer_id: str = Path(alias="customerId"),
    subscription_id: str = Path(alias="subscriptionId"),
    ctx: RequestContext = allow(*READERS),
) -> RegistrationStatusOut:
    subscription = service.get_azure_subscription(
        ctx.db, principal=ctx.principal, customer_id=customer_id, subscription_id=subscription_id
    )
    return RegistrationStatusOut.of(subscription)
