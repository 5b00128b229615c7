"""Cart, order, subscription and entitlement routes, Partner Center shaped, under `/v1/customers/{customerId}`.

Sales and admin agents buy; only admin agents cancel (rule R5); helpdesk agents and the operator read
purchases; billing admins see none of it.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from partnerdesk.accounts.auth import GuardedRequest, RequestContext, allow, allow_in_one_trip
from partnerdesk.accounts.models import Role
from partnerdesk.core.idempotency import run_once
from partnerdesk.core.pagination import (
    ASC,
    PageRequest,
    SortKey,
    page_params,
    paginate,
    paginate_many,
    to_collection,
)
from partnerdesk.core.schemas import Collection, ResponseModel
from partnerdesk.orders import cancellation, flows, presenters, service
from partnerdesk.orders.errors import SubscriptionNotFound
from partnerdesk.orders.models import Subscription
from partnerdesk.orders.schemas import (
    CartIn,
    CartOut,
    CheckoutOut,
    EntitlementOut,
    OrderOut,
    OrderPatchIn,
    ReservedInstanceArtifactDetailsOut,
    SubscriptionOut,
)
from partnerdesk.reservations import service as reservations
from partnerdesk.reservations.errors import AzureSubscriptionNotFound
from partnerdesk.reservations.models import AzureSubscription
from partnerdesk.reservations.schemas import AzureSubscriptionOut

router = APIRouter(prefix="/v1/customers/{customerId}", tags=["orders"])


def _json(shape: ResponseModel) -> Response:
    """`shape` as the JSON answer FastAPI would have made of it (`response_model` still documents it).

    A model returned from a route is validated again against `response_model` (from a plain `def` route,
    in a trip of its own to a worker thread), then serialised; it was built from the desk's own rows just
    now, so a list route serialises it itself, in the route's own trip (bench/README.md, "Checkout: profile").
    """
    return Response(shape.model_dump_json(by_alias=True), media_type="application/json")

BUYERS = (Role.admin_agent, Role.sales_agent)
CART_READERS = (Role.operator, *BUYERS)
PURCHASE_READERS = (Role.operator, Role.admin_agent, Role.sales_agent, Role.helpdesk_agent)


@router.post("/carts", status_code=201, response_model=CartOut)
def create_cart(body: CartIn, customer_id: str = Path(alias="customerId"),
                ctx: RequestContext = allow(*BUYERS)) -> JSONResponse:
    # `allow`, not `allow_in_one_trip`: the caller is checked before the body is (a refused role gets 403 and
    # an anonymous caller 401 whatever it sends, and a refused body still counts toward the request rates).
    def create() -> tuple[int, dict]:
        view = service.create_cart(ctx.db, principal=ctx.principal, customer_id=customer_id,
                                   lines=body.line_items, now=ctx.now)
        return 201, presenters.cart_out(view).model_dump(mode="json")

    return run_once(ctx.db, scope=ctx.principal.idempotency_scope, request_id=ctx.request_id,
                    operation=f"POST /v1/customers/{customer_id}/carts", payload=body.model_dump(mode="json"),
                    now=ctx.now, work=create)


@router.get("/carts/{cartId}", response_model=CartOut)
def get_cart(customer_id: str = Path(alias="customerId"), cart_id: str = Path(alias="cartId"),
             ctx: RequestContext = allow(*CART_READERS)) -> CartOut:
    return presenters.cart_out(service.priced_cart(ctx.db, principal=ctx.principal, customer_id=customer_id,
                                                   cart_id=cart_id, now=ctx.now))


@router.put("/carts/{cartId}", response_model=CartOut)
def update_cart(body: CartIn, customer_id: str = Path(alias="customerId"), cart_id: str = Path(alias="cartId"),
                ctx: RequestContext = allow(*BUYERS)) -> CartOut:
    view = service.update_cart(ctx.db, principal=ctx.principal, customer_id=customer_id, cart_id=cart_id,
                               lines=body.line_items, now=ctx.now)
    return presenters.cart_out(view)


# Checkout and the orders list, hot routes with no body, check their caller, do their work and commit in one
# trip to a worker thread (`allow_in_one_trip`), where `allow` takes three.
@router.post("/carts/{cartId}/checkout", status_code=201, response_model=CheckoutOut)
async def checkout(customer_id: str = Path(alias="customerId"), cart_id: str = Path(alias="cartId"),
                   guarded: GuardedRequest = allow_in_one_trip(*BUYERS)) -> JSONResponse:
    def answer(ctx: RequestContext) -> JSONResponse:
        def place() -> tuple[int, dict]:
            result = flows.checkout(ctx.db, principal=ctx.principal, customer_id=customer_id, cart_id=cart_id,
                                    now=ctx.now, request_id=ctx.request_id)
            return 201, result.model_dump(mode="json")

        return run_once(ctx.db, scope=ctx.principal.idempotency_scope, request_id=ctx.request_id,
                        operation=f"POST /v1/customers/{customer_id}/carts/{cart_id}/checkout", payload=None,
                        now=ctx.now, work=place)

    return await guarded.run(answer)


@router.get("/orders", response_model=Collection[OrderOut])
async def list_orders(
    request: Request,
    customer_id: str = Path(alias="customerId"),
    guarded: GuardedRequest = allow_in_one_trip(*PURCHASE_READERS),
    page: PageRequest = Depends(page_params),
    billing_type: str | None = Query(None, alias="billingType", description="one_time or recurring."),
    billing_cycle: str | None = Query(None, alias="billingCycle", description="one_time, monthly, annual, ..."),
) -> Response:
    def answer(ctx: RequestContext) -> Response:
        statement = service.search_orders(ctx.db, principal=ctx.principal, customer_id=customer_id,
                                          billing_type=billing_type, billing_cycle=billing_cycle)
        result = paginate(ctx.db, statement, page, sort=service.ORDER_LIST_ORDER)
        lines = service.lines_shown(ctx.db, [order.id for order in result.rows])
        window = cancellation.cancellation_window(ctx.db)
        return _json(to_collection(result, request.url.path, dict(request.query_params),
                                   lambda order: presenters.order_shape(order, lines[order.id], now=ctx.now,
                                                                       cancellation_window=window)))

    return await guarded.run(answer)


@router.get("/orders/{orderId}", response_model=OrderOut)
def get_order(customer_id: str = Path(alias="customerId"), order_id: str = Path(alias="orderId"),
              ctx: RequestContext = allow(*PURCHASE_READERS)) -> OrderOut:
    order = service.get_order(ctx.db, principal=ctx.principal, customer_id=customer_id, order_id=order_id)
    return cancellation.order_shown(ctx.db, order, service.lines_of_orders(ctx.db, [order.id])[order.id],
                                    now=ctx.now)


@router.patch("/orders/{orderId}", response_model=OrderOut)
def cancel_order_lines(body: OrderPatchIn, customer_id: str = Path(alias="customerId"),
                       order_id: str = Path(alias="orderId"), ctx: RequestContext = allow(Role.admin_agent)):
    """Cancels lines of an order: `{"status": "cancelled", "lineItems": [{"lineItemNumber": 0}]}` (rule R5).

    Without `lineItems` (or with none listed) every line is cancelled; lines already cancelled are left as
    they are, so asking again answers the order as it stands and credits nothing more.
    """
    numbers = [line.line_item_number for line in body.line_items or []] or None

    def cancel() -> tuple[int, dict]:
        done = cancellation.cancel_lines(
            ctx.db, principal=ctx.principal, customer_id=customer_id, order_id=order_id, status=body.status,
            line_numbers=numbers, reason=body.reason, now=ctx.now, request_id=ctx.request_id,
        )
        return 200, done.shown.model_dump(mode="json")

    return run_once(ctx.db, scope=ctx.principal.idempotency_scope, request_id=ctx.request_id,
                    operation=f"PATCH /v1/customers/{customer_id}/orders/{order_id}",
                    payload=body.model_dump(mode="json"), now=ctx.now, work=cancel)


# The order `reservations.list_azure_subscriptions` gives (oldest first, then id), for its keyset pages.
AZURE_SUBSCRIPTION_LIST_ORDER = SortKey("azuresubscriptions", (AzureSubscription.created_at, ASC),
                                        (AzureSubscription.id, ASC))


def _any_subscription_out(row: Subscription | AzureSubscription) -> SubscriptionOut | AzureSubscriptionOut:
    return AzureSubscriptionOut.of(row) if isinstance(row, AzureSubscription) else presenters.subscription_out(row)


@router.get("/subscriptions", response_model=Collection[SubscriptionOut | AzureSubscriptionOut])
def list_subscriptions(
    request: Request,
    customer_id: str = Path(alias="customerId"),
    ctx: RequestContext = allow(*PURCHASE_READERS),
    page: PageRequest = Depends(page_params),
) -> Collection[SubscriptionOut | AzureSubscriptionOut]:
    """The customer's subscriptions as Partner Center lists them: those its purchases made, newest first,
    then its Azure plan subscriptions (`billingType` usage), oldest first."""
    purchased = service.search_subscriptions(ctx.db, principal=ctx.principal, customer_id=customer_id)
    azure = reservations.list_azure_subscriptions(ctx.db, principal=ctx.principal, customer_id=customer_id)
    result = paginate_many(ctx.db, [(purchased, service.SUBSCRIPTION_LIST_ORDER),
                                    (azure, AZURE_SUBSCRIPTION_LIST_ORDER)], page)
    return to_collection(result, request.url.path, dict(request.query_params), _any_subscription_out)


@router.get("/subscriptions/{subscriptionId}", response_model=SubscriptionOut | AzureSubscriptionOut)
def get_subscription(customer_id: str = Path(alias="customerId"), subscription_id: str = Path(alias="subscriptionId"),
                     ctx: RequestContext = allow(*PURCHASE_READERS)) -> SubscriptionOut | AzureSubscriptionOut:
    """A subscription a purchase made, or an Azure plan subscription (the `self` link of either)."""
    try:
        return presenters.subscription_out(service.get_subscription(
            ctx.db, principal=ctx.principal, customer_id=customer_id, subscription_id=subscription_id))
    except SubscriptionNotFound as missing:
        try:
            return AzureSubscriptionOut.of(reservations.get_azure_subscription(
                ctx.db, principal=ctx.principal, customer_id=customer_id, subscription_id=subscription_id))
        except AzureSubscriptionNotFound:
            raise missing from None


@router.get("/artifacts/reservedinstance/{resourceId}", response_model=ReservedInstanceArtifactDetailsOut)
def get_reserved_instance_artifact(
    customer_id: str = Path(alias="customerId"), resource_id: str = Path(alias="resourceId", max_length=64),
    ctx: RequestContext = allow(*PURCHASE_READERS),
) -> ReservedInstanceArtifactDetailsOut:
    """The reservations of a Reserved Instance entitlement's artifact: where `entitledArtifacts[].link` leads."""
    found = reservations.reservations_of_artifact(ctx.db, principal=ctx.principal, customer_id=customer_id,
                                                  reservation_order_id=resource_id)
    return presenters.reserved_instance_artifact_out(found)


@router.get("/entitlements", response_model=Collection[EntitlementOut])
def list_entitlements(
    request: Request,
    customer_id: str = Path(alias="customerId"),
    ctx: RequestContext = allow(*PURCHASE_READERS),
    page: PageRequest = Depends(page_params),
    entitlement_type: str | None = Query(None, alias="entitlementType",
                                         description="software or reservedInstance, in any letter case "
                                         "(the parameter's name too: entitlementtype)."),
) -> Collection[EntitlementOut]:
    statement = service.search_entitlements(ctx.db, principal=ctx.principal, customer_id=customer_id,
                                            entitlement_type=entitlement_type)
    result = paginate(ctx.db, statement, page, sort=service.ENTITLEMENT_LIST_ORDER)
    artifacts = reservations.reservations_by_entitlement(ctx.db, [row.id for row in result.rows])
    return to_collection(result, request.url.path, dict(request.query_params),
                         lambda entitlement: presenters.entitlement_out(entitlement, artifacts.get(entitlement.id, [])))
