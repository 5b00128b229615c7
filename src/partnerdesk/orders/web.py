"""Buying pages: "Add to cart", the cart's review with "Place order", a customer's orders and subscriptions,
and, for an admin agent, cancelling lines of an order (rule R5).

The pages call the same services as the cart, checkout and order API routes, with the same roles;
a refused cart or checkout is shown as a message on the page and nothing of it is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from fastapi import Depends
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from partnerdesk.accounts.models import Role
from partnerdesk.billing import service as billing
from partnerdesk.billing.errors import CreditLimitExceeded
from partnerdesk.catalog import vocabulary
from partnerdesk.catalog.errors import (
    CatalogItemNotFound,
    MalformedCatalogItemId,
    NotInForce,
    NotSoldInMarket,
    ReservedInstancesNotSold,
)
from partnerdesk.catalog.web import (
    BILLING_CYCLE_LABELS,
    FILTERS,
    CatalogQuery,
    RefusedLine,
    region_label,
    render_catalog,
    term_label,
)
from partnerdesk.core.errors import DeskError
from partnerdesk.customers import service as customers
from partnerdesk.customers.models import Customer
from partnerdesk.customers.web import register_customer_tab, render_customer_page
from partnerdesk.orders import cancellation, flows, service
from partnerdesk.orders.api import BUYERS, CART_READERS, PURCHASE_READERS
from partnerdesk.orders.errors import (
    BillingCycleNotSupported,
    CancellationWindowClosed,
    CartAlreadyCheckedOut,
    CartExpired,
    EmptyCart,
    QuantityOutOfRange,
    TermNotOffered,
    UnknownOrderLine,
)
from partnerdesk.orders.schemas import CartLineItemIn
from partnerdesk.reservations.errors import (
    AzureSubscriptionInactive,
    AzureSubscriptionNotRegistered,
    InvalidProvisioningContext,
    NoActiveAzureSubscription,
)
from partnerdesk.support import web as support_web
from partnerdesk.web import (
    N_,
    FormErrors,
    FormField,
    PageContext,
    PageNotFound,
    allow_page,
    explain,
    format_money,
    list_page,
    portal_router,
    read_form,
    redirect,
    register_templates,
    register_translations,
    text_value,
)
from partnerdesk.web.forms import SUMMARY_LINE

HERE = Path(__file__).parent
router = portal_router()
register_templates("orders", HERE / "templates")
register_translations(HERE / "locale")
register_customer_tab(N_("Carts"), "/customers/{customer_id}/carts", CART_READERS, order=17)
register_customer_tab(N_("Orders"), "/customers/{customer_id}/orders", PURCHASE_READERS, order=20)
register_customer_tab(N_("Subscriptions"), "/customers/{customer_id}/subscriptions", PURCHASE_READERS, order=30)

# What the page says for each refusal of the services (the first class that matches wins).
MESSAGES: tuple[tuple[type[DeskError], str], ...] = (
    (ReservedInstancesNotSold, N_("Reserved Instances are not sold in this customer's market.")),
    (NoActiveAzureSubscription,
     N_("This customer has no active Azure subscription; a Reserved Instance needs one.")),
    (AzureSubscriptionNotRegistered, N_("The Azure subscription is not registered for reservations.")),
    (AzureSubscriptionInactive, N_("The Azure subscription is not active.")),
    (InvalidProvisioningContext, N_("Check the reservation's scope, Azure subscription and region.")),
    (CartExpired, N_("This cart has expired. Start a new cart from “Add products”.")),
    (CartAlreadyCheckedOut, N_("This cart was already ordered. Start a new cart from “Add products”.")),
    (EmptyCart, N_("This cart is empty. Add products before placing an order.")),
    (QuantityOutOfRange, N_("The quantity is outside what this product allows.")),
    (TermNotOffered, N_("This term is not offered for this product.")),
    (BillingCycleNotSupported, N_("This billing cycle is not offered for this product.")),
    (CreditLimitExceeded, N_("This order would go over the partner's credit limit.")),
    ((NotSoldInMarket, NotInForce, CatalogItemNotFound, MalformedCatalogItemId),
     N_("This product cannot be bought for this customer now.")),
)
NOT_SAVED = N_("The cart could not be saved. Check the line and try again.")
SELECT_LINES = N_("Select the lines to cancel.")
CANCEL_MESSAGES: tuple[tuple[type[DeskError], str], ...] = (
    (CancellationWindowClosed, N_("This order can no longer be cancelled: the cancellation period has ended.")),
    (UnknownOrderLine, SELECT_LINES),
)
NOT_CANCELLED = N_("The lines could not be cancelled.")
ALREADY_CANCELLED = N_("A selected line was already cancelled.")
CANCELLERS = (Role.admin_agent,)
BAD_QUANTITY = N_("Enter the quantity as a whole number.")
QUANTITY_RANGE = N_("Enter a quantity from %(low)s to %(high)s.")


def _message(ctx: PageContext, error: DeskError) -> str:
    for error_class, message in MESSAGES:
        if isinstance(error, error_class):
            return ctx.gettext(message)
    return ctx.gettext(NOT_SAVED)


def _cart_url(customer_id: str, cart_id: str) -> str:
    return f"/customers/{customer_id}/carts/{cart_id}"


@dataclass(frozen=True)
class CartStatus:
    """The agent's open cart as the catalog pages show it while browsing: lines, items, total."""

    url: str
    line_count: int
    quantity: int
    totals: dict[str, Decimal]


def cart_summary(ctx: PageContext, customer: Customer) -> CartStatus | None:
    cart = service.agents_open_cart(ctx.db, principal=ctx.principal, customer_id=customer.id, now=ctx.now)
    if cart is None:
        return None
    summary = service.summarise_carts(ctx.db, principal=ctx.principal, carts=[cart], now=ctx.now)[0]
    return CartStatus(url=_cart_url(customer.id, cart.id), line_count=summary.line_count,
                      quantity=summary.quantity, totals=summary.totals)


# The "Add to cart" form's fields, and where each goes in the API's first cart line (the line being
# added is checked on its own first, so a refusal names these locations).
LINE = "lineItems[0]"
ADD_FIELDS = (
    FormField("quantity", N_("Quantity"), (f"{LINE}.quantity", "quantity"),
              N_("Enter a quantity this product allows.")),
    FormField("term_duration", N_("Term"), (f"{LINE}.termDuration", f"{LINE}.provisioningContext.duration"),
              N_("Choose one of the terms offered.")),
    FormField("billing_cycle", N_("Billing plan"), (f"{LINE}.billingCycle",),
              N_("Choose one of the billing plans offered.")),
    FormField("scope", N_("Scope"), (f"{LINE}.provisioningContext.scope",),
              N_("Choose Shared or Single subscription.")),
    FormField("subscription_id", N_("Azure subscription"), (f"{LINE}.provisioningContext.subscriptionId",),
              N_("Choose the Azure subscription the reservation applies to: a “Single subscription” scope "
                 "needs one.")),
    FormField("region", N_("Region"), (f"{LINE}.provisioningContext.region",),
              N_("Choose a region where this size can be reserved.")),
)
# Refusals whose `data` is not a form location, with the field they concern.
ADD_BY_ERROR = {
    AzureSubscriptionNotRegistered: ("subscription_id", N_("This Azure subscription is not registered for "
                                                           "reservations; choose another.")),
    AzureSubscriptionInactive: ("subscription_id", N_("This Azure subscription is not active; choose another.")),
}


def _new_line(form: FormData) -> CartLineItemIn:
    """The API's cart line built from the "Add to cart" form."""
    context = {"scope": text_value(form, "scope", max_length=20),
               "subscriptionId": text_value(form, "subscription_id", max_length=64),
               "region": text_value(form, "region", max_length=64)}
    return CartLineItemIn(
        catalog_item_id=text_value(form, "catalog_item_id", max_length=64),
        quantity=int(text_value(form, "quantity", max_length=9)),
        billing_cycle=text_value(form, "billing_cycle", max_length=16),
        term_duration=text_value(form, "term_duration", max_length=8) or None,
        provisioning_context={key: value for key, value in context.items() if value},
    )


def _posted_choices(form: FormData) -> dict[str, str]:
    return {name: text_value(form, name, max_length=64)
            for name in ("quantity", "term_duration", "billing_cycle", "scope", "subscription_id", "region")}


def _add_refusal(ctx: PageContext, error: DeskError | ValueError) -> FormErrors:
    if isinstance(error, ValidationError) or not isinstance(error, DeskError):
        errors = FormErrors(summary_line=ctx.gettext(SUMMARY_LINE))
        errors.add("quantity", ctx.gettext(BAD_QUANTITY), label=ctx.gettext(N_("Quantity")))
        return errors
    if isinstance(error, QuantityOutOfRange) and len(error.data) == 3:
        errors = FormErrors(summary_line=ctx.gettext(SUMMARY_LINE))
        errors.add("quantity", ctx.gettext(QUANTITY_RANGE, low=error.data[1], high=error.data[2]),
                   label=ctx.gettext(N_("Quantity")))
        return errors
    errors = explain(error, ADD_FIELDS, ctx.gettext, by_error=ADD_BY_ERROR)
    if not errors.fields:  # about the cart or the customer rather than one field: say what the page says
        errors = FormErrors(general=[_message(ctx, error)])
    return errors


@router.post("/customers/{customer_id}/cart")
@router.post("/customers/{customer_id}/catalog")  # the catalog's own address, so a refusal keeps its tab current
def add_to_cart(customer_id: str, ctx: PageContext = allow_page(*BUYERS),
                form: FormData = Depends(read_form)) -> Response:
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    query = CatalogQuery.read({name: text_value(form, f"filter_{name}", max_length=200) for name in FILTERS})
    catalog_item_id = text_value(form, "catalog_item_id", max_length=64)
    try:
        line = _new_line(form)
        view = service.add_to_agents_cart(ctx.db, principal=ctx.principal, customer_id=customer.id, line=line,
                                          now=ctx.now, cart_id=text_value(form, "cart_id", max_length=64) or None)
    except (ValueError, DeskError) as error:  # ValueError includes pydantic's ValidationError
        ctx.db.rollback()
        if isinstance(error, DeskError) and error.status_code in (403, 404):
            raise
        refused = RefusedLine(catalog_item_id, _posted_choices(form), _add_refusal(ctx, error))
        status_code = error.status_code if isinstance(error, DeskError) else 400
        return render_catalog(ctx, customer, query, refused=refused, status_code=status_code)
    ctx.flash(ctx.ngettext("The product was added to the cart, which now holds %(num)s line.",
                           "The product was added to the cart, which now holds %(num)s lines.", len(view.lines)))
    return redirect(query.url(customer.id))


def _carts_page(ctx: PageContext, template: str, statement, customer: Customer | None = None) -> Response:
    page = list_page(ctx.db, statement, ctx.request)
    summaries = service.summarise_carts(ctx.db, principal=ctx.principal, carts=page.rows, now=ctx.now)
    values = {"page": page, "summaries": summaries, "may_buy": ctx.has_role(*BUYERS)}
    if customer is None:
        return ctx.render(template, values)
    return render_customer_page(ctx, customer, template, values)


@router.get("/carts")
def all_open_carts(ctx: PageContext = allow_page(*CART_READERS)) -> Response:
    return _carts_page(ctx, "orders/carts.html", service.search_open_carts(ctx.db, principal=ctx.principal,
                                                                           now=ctx.now))


@router.get("/customers/{customer_id}/carts")
def customer_open_carts(customer_id: str, ctx: PageContext = allow_page(*CART_READERS)) -> Response:
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    statement = service.search_open_carts(ctx.db, principal=ctx.principal, now=ctx.now, customer_id=customer.id)
    return _carts_page(ctx, "orders/customer_carts.html", statement, customer)


@dataclass(frozen=True)
class ReviewedCart:
    """A cart as its review and confirmation pages show it, checked against today's catalog."""

    view: service.CartView
    checked: list[service.CheckedLine]
    # (currency, billing cycle) -> its lines: one order each, as checkout will split them.
    groups: dict[tuple[str, str], list[service.CheckedLine]]
    problem: str | None
    is_open: bool

    def group_total(self, key: tuple[str, str]) -> Decimal:
        return sum((line.total for line in self.groups[key]), Decimal(0))


def line_name(line: service.CheckedLine) -> str:
    """What a cart line is called on the page: the name the agent gave it, else the product and SKU (the
    catalog's own title also holds the term, in English, which the page shows in the reader's words)."""
    if line.friendly_name and line.friendly_name != line.item.title:
        return line.friendly_name
    parts = [line.item.product_title, line.item.sku_title]
    return ", ".join(part for position, part in enumerate(parts) if part and part not in parts[:position])


def _reviewed(ctx: PageContext, customer: Customer, cart_id: str) -> ReviewedCart:
    view = service.get_cart(ctx.db, principal=ctx.principal, customer_id=customer.id, cart_id=cart_id)
    checked, problem = [], None
    try:
        checked = service.check_lines(ctx.db, customer=customer, lines=view.lines, now=ctx.now)
    except DeskError as error:
        problem = _message(ctx, error)
    is_open = view.cart.status == service.ACTIVE and view.cart.expires_at > ctx.now
    return ReviewedCart(view, checked, service.order_groups(checked), problem, is_open)


def _review(ctx: PageContext, customer: Customer, cart_id: str, *, message: str | None = None,
            line_errors: dict[int, str] | None = None, status_code: int = 200) -> Response:
    cart = _reviewed(ctx, customer, cart_id)
    editable = ctx.has_role(*BUYERS) and cart.is_open
    return render_customer_page(ctx, customer, "orders/cart.html", {
        "cart": cart.view.cart, "lines": cart.view.lines, "checked": cart.checked, "reviewed": cart,
        "is_open": cart.is_open, "message": message or cart.problem, "line_errors": line_errors or {},
        "cycle_labels": _cycle_labels(ctx), "term_label": lambda duration: term_label(duration, ctx.gettext),
        "region_label": lambda region: region_label(region, ctx.gettext), "line_name": line_name,
        "may_buy": ctx.has_role(*BUYERS), "editable": editable,
        "may_order": editable and cart.problem is None and bool(cart.checked),
        "add_url": f"/customers/{customer.id}/catalog",
    }, status_code=status_code)


def _cycle_labels(ctx: PageContext) -> dict[str, str]:
    return ctx.labels(BILLING_CYCLE_LABELS)


ORDER_STATUS_LABELS = {"pending": N_("Pending"), "completed": N_("Completed"), cancellation.CANCELLED: N_("Cancelled")}
LINE_STATUS_LABELS = {"active": N_("Active"), cancellation.CANCELLED: N_("Cancelled")}
# Their own words: French agrees them with "abonnement", not with "commande" or "ligne".
SUBSCRIPTION_STATUS_LABELS = {"active": N_("In force"), "suspended": N_("Suspended"),
                              cancellation.SUBSCRIPTION_DELETED: N_("Ended")}



@router.get("/customers/{customer_id}/carts/{cart_id}")
def cart_page(customer_id: str, cart_id: str, ctx: PageContext = allow_page(*CART_READERS)) -> Response:
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    return _review(ctx, customer, cart_id)


def _line_id(raw: str) -> int:
    if not raw.isdecimal() or len(raw) > 4:
        raise PageNotFound("No such cart line.")
    return int(raw)


@router.post("/customers/{customer_id}/carts/{cart_id}/lines/{line_id}")
def change_quantity(customer_id: str, cart_id: str, line_id: str, ctx: PageContext = allow_page(*BUYERS),
                    form: FormData = Depends(read_form)) -> Response:
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    number = _line_id(line_id)
    try:
        service.change_line_quantity(ctx.db, principal=ctx.principal, customer_id=customer.id, cart_id=cart_id,
                                     line_id=number, quantity=int(text_value(form, "quantity", max_length=9)),
                                     now=ctx.now)
    except ValueError:
        ctx.db.rollback()
        return _review(ctx, customer, cart_id, line_errors={number: ctx.gettext(BAD_QUANTITY)}, status_code=400)
    except DeskError as error:
        ctx.db.rollback()
        if error.status_code in (403, 404):
            raise
        return _review(ctx, customer, cart_id, line_errors={number: _message(ctx, error)},
                       status_code=error.status_code)
    ctx.flash(ctx.gettext("The quantity was changed."))
    return redirect(_cart_url(customer.id, cart_id))


@router.post("/customers/{customer_id}/carts/{cart_id}/lines/{line_id}/remove")
def remove_line(customer_id: str, cart_id: str, line_id: str, ctx: PageContext = allow_page(*BUYERS)) -> Response:
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    try:
        view = service.remove_cart_line(ctx.db, principal=ctx.principal, customer_id=customer.id, cart_id=cart_id,
                                        line_id=_line_id(line_id), now=ctx.now)
    except DeskError as error:
        ctx.db.rollback()
        if error.status_code in (403, 404):
            raise
        return _review(ctx, customer, cart_id, message=_message(ctx, error), status_code=error.status_code)
    ctx.flash(ctx.gettext("The line was removed from the cart.") if view.lines
              else ctx.gettext("The line was removed; the cart is empty."))
    return redirect(_cart_url(customer.id, cart_id))


def _confirmation(ctx: PageContext, customer: Customer, cart_id: str, *, message: str | None = None,
                  status_code: int = 200) -> Response:
    cart = _reviewed(ctx, customer, cart_id)
    payer = billing.read_profile(ctx.db, partner_id=customer.partner_id, now=ctx.now)
    return render_customer_page(ctx, customer, "orders/confirm.html", {
        "cart": cart.view.cart, "reviewed": cart, "message": message or cart.problem, "payer": payer,
        "cycle_labels": _cycle_labels(ctx), "term_label": lambda duration: term_label(duration, ctx.gettext),
        "region_label": lambda region: region_label(region, ctx.gettext), "line_name": line_name,
        "may_order": cart.is_open and cart.problem is None and bool(cart.checked),
    }, status_code=status_code)


@router.get("/customers/{customer_id}/carts/{cart_id}/confirm")
def confirm_order(customer_id: str, cart_id: str, ctx: PageContext = allow_page(*BUYERS)) -> Response:
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    return _confirmation(ctx, customer, cart_id)


@router.post("/customers/{customer_id}/carts/{cart_id}/checkout")
def place_order(customer_id: str, cart_id: str, ctx: PageContext = allow_page(*BUYERS)) -> Response:
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    try:
        result = flows.checkout(ctx.db, principal=ctx.principal, customer_id=customer.id, cart_id=cart_id,
                                now=ctx.now, request_id=None)
    except DeskError as error:
        ctx.db.rollback()
        if error.status_code in (403, 404):
            raise
        return _confirmation(ctx, customer, cart_id, message=_message(ctx, error), status_code=error.status_code)
    ids = [order.id for order in result.orders]
    ctx.flash(ctx.ngettext("Order %(ids)s was placed.", "Orders %(ids)s were placed.", len(ids), ids=", ".join(ids)))
    if len(ids) == 1:
        return redirect(f"/customers/{customer.id}/orders/{ids[0]}")
    return redirect(f"/customers/{customer.id}/orders")


@router.get("/customers/{customer_id}/orders")
def customer_orders(customer_id: str, ctx: PageContext = allow_page(*PURCHASE_READERS)) -> Response:
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    page = list_page(ctx.db, service.search_orders(ctx.db, principal=ctx.principal, customer_id=customer.id),
                     ctx.request)
    return render_customer_page(ctx, customer, "orders/customer_orders.html",
                                {"page": page, "cycle_labels": _cycle_labels(ctx),
                                 "status_labels": ctx.labels(ORDER_STATUS_LABELS)})


def _order_page(ctx: PageContext, customer: Customer, order_id: str, *, message: str | None = None,
                status_code: int = 200) -> Response:
    order = service.get_order(ctx.db, principal=ctx.principal, customer_id=customer.id, order_id=order_id)
    lines = service.lines_of_orders(ctx.db, [order.id])[order.id]
    deadline = cancellation.cancellation_deadline(ctx.db, order)
    may_cancel = (ctx.has_role(*CANCELLERS) and ctx.now <= deadline
                  and any(line.status != cancellation.CANCELLED for line in lines))
    # Rule R3: the admin agent who bought software finds its keys and files from the order too.
    shows_software = ctx.has_role(Role.admin_agent) and any(
        line.product_type_id == vocabulary.SOFTWARE and line.status != cancellation.CANCELLED for line in lines)
    credited = sum((line.credited_amount for line in lines), Decimal(0))
    refundable = cancellation.refundable_amount(lines)
    # Rule R6: a refund is asked through "Report a problem", pre-filled with the purchase (admin agents only).
    report_link = support_web.report_link(customer_id=customer.id, domain=customer.domain, order_id=order.id,
                                          amount=refundable, currency=order.currency) \
        if ctx.has_role(Role.admin_agent) and refundable > 0 else None
    return render_customer_page(ctx, customer, "orders/order.html", {
        "order": order, "lines": lines, "cycle_labels": _cycle_labels(ctx), "message": message,
        "shows_software": shows_software, "credited": credited, "report_link": report_link,
        "days_left": max(0, (deadline - ctx.now).days),
        "may_cancel": may_cancel, "deadline": deadline, "cancelled": cancellation.CANCELLED,
        "status_labels": ctx.labels(ORDER_STATUS_LABELS),
        "line_status_labels": ctx.labels(LINE_STATUS_LABELS),
    }, status_code=status_code)


@router.get("/customers/{customer_id}/orders/{order_id}")
def order_page(customer_id: str, order_id: str, ctx: PageContext = allow_page(*PURCHASE_READERS)) -> Response:
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    return _order_page(ctx, customer, order_id)


@router.get("/customers/{customer_id}/orders/{order_id}/cancel")
def confirm_cancel(customer_id: str, order_id: str, ctx: PageContext = allow_page(*CANCELLERS)) -> Response:
    """The confirmation before a direct cancel (rule R5): the lines chosen, the credit and the days left."""
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    order = service.get_order(ctx.db, principal=ctx.principal, customer_id=customer.id, order_id=order_id)
    lines = service.lines_of_orders(ctx.db, [order.id])[order.id]
    try:
        numbers = {int(value) for value in ctx.request.query_params.getlist("line")}
    except ValueError:
        numbers = set()
    chosen = [line for line in lines if line.line_item_number in numbers and line.status != cancellation.CANCELLED]
    deadline = cancellation.cancellation_deadline(ctx.db, order)
    if not chosen or ctx.now > deadline:
        message = ctx.gettext(SELECT_LINES) if ctx.now <= deadline else ctx.gettext(CANCEL_MESSAGES[0][1])
        return _order_page(ctx, customer, order_id, message=message, status_code=400)
    return render_customer_page(ctx, customer, "orders/cancel_confirm.html", {
        "order": order, "chosen": chosen, "credit": cancellation.refundable_amount(chosen), "deadline": deadline,
        "days_left": max(0, (deadline - ctx.now).days),
        "reason": (ctx.request.query_params.get("reason") or "").strip()[:500],
    })


@router.post("/customers/{customer_id}/orders/{order_id}/cancel")
def cancel_order_lines(customer_id: str, order_id: str, ctx: PageContext = allow_page(*CANCELLERS),
                       form: FormData = Depends(read_form)) -> Response:
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    try:
        numbers = [int(value) for value in form.getlist("line") if isinstance(value, str)]
        done = cancellation.cancel_lines(
            ctx.db, principal=ctx.principal, customer_id=customer.id, order_id=order_id, status="cancelled",
            line_numbers=numbers, reason=text_value(form, "reason", max_length=500) or None, now=ctx.now,
        )
    except ValueError:
        ctx.db.rollback()
        return _order_page(ctx, customer, order_id, message=ctx.gettext(SELECT_LINES), status_code=400)
    except DeskError as error:
        ctx.db.rollback()
        if error.status_code in (403, 404):
            raise
        message = next((ctx.gettext(text) for error_class, text in CANCEL_MESSAGES if isinstance(error, error_class)),
                       ctx.gettext(NOT_CANCELLED))
        return _order_page(ctx, customer, order_id, message=message, status_code=error.status_code)
    if not done.cancelled:  # sent again, say from a page left open: nothing more was cancelled or credited
        return _order_page(ctx, customer, order_id, message=ctx.gettext(ALREADY_CANCELLED))
    ctx.flash(ctx.ngettext(
        "Line %(lines)s was cancelled; the partner is credited %(amount)s.",
        "Lines %(lines)s were cancelled; the partner is credited %(amount)s.",
        # Lines are numbered from 1 for people; the API's lineItemNumber counts from 0.
        len(done.cancelled), lines=", ".join(str(line.line_item_number + 1) for line in done.cancelled),
        amount=format_money(done.credit, done.order.currency, ctx.locale),
    ))
    return redirect(f"/customers/{customer.id}/orders/{order_id}")


@router.get("/customers/{customer_id}/subscriptions")
def customer_subscriptions(customer_id: str, ctx: PageContext = allow_page(*PURCHASE_READERS)) -> Response:
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    statement = service.search_subscriptions(ctx.db, principal=ctx.principal, customer_id=customer.id)
    page = list_page(ctx.db, statement, ctx.request)
    return render_customer_page(ctx, customer, "orders/customer_subscriptions.html",
                                {"page": page, "cycle_labels": _cycle_labels(ctx),
                                 "status_labels": ctx.labels(SUBSCRIPTION_STATUS_LABELS)})

from partnerdesk.orders import overview_web  # noqa: E402, F401 - the cross-customer views join this router
