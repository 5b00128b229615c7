"""The Orders and Subscriptions views across customers: every purchase of the partner (the operator:
of every partner), filtered by status, customer and date, paged.

They read `orders.service.search_partner_orders` / `search_partner_subscriptions` and admit the roles
that read a customer's orders and subscriptions through the API (`PURCHASE_READERS`). The pages join
the orders domain's router: `orders/web.py` imports this module once its own names exist.
"""

from __future__ import annotations

from fastapi.responses import Response

from partnerdesk.audit.web import Period, partner_names, read_period
from partnerdesk.catalog.web import BILLING_CYCLE_LABELS
from partnerdesk.customers import service as customers
from partnerdesk.orders import service
from partnerdesk.orders.api import PURCHASE_READERS
from partnerdesk.orders.web import ORDER_STATUS_LABELS, SUBSCRIPTION_STATUS_LABELS, router
from partnerdesk.web import N_, PageContext, allow_page, list_page, register_nav

# One entry in the header, which has room for few: the two views link to each other as tabs.
register_nav(N_("Orders"), "/orders", PURCHASE_READERS, order=20)

# A status the billing schedule gives a subscription whose term ended without renewal.
OVERVIEW_SUBSCRIPTION_STATUS_LABELS = {**SUBSCRIPTION_STATUS_LABELS, "expired": N_("Expired")}
MAX_FILTER_LENGTH = 200


def _criteria(ctx: PageContext,
              statuses: tuple[str, ...]) -> tuple[dict[str, str], service.PurchaseSearch | None, Period]:
    """The filters as typed, the search they make (None while a date is wrong), and the period read."""
    query = ctx.request.query_params
    filters = {name: query.get(name, "").strip()[:MAX_FILTER_LENGTH] for name in ("status", "customer", "partner")}
    if filters["status"] not in statuses:
        filters["status"] = ""  # the select offers only these; anything else lists every status
    if not ctx.principal.is_operator:
        filters["partner"] = ""
    period = read_period(ctx, {"from": ctx.gettext(N_("Placed from")), "to": ctx.gettext(N_("Placed until"))})
    if period.errors:
        return filters, None, period
    return filters, service.PurchaseSearch(
        status=filters["status"] or None, customer_text=filters["customer"] or None,
        created_from=period.start, created_before=period.end, partner_id=filters["partner"] or None,
    ), period



def _render(ctx: PageContext, template: str, statement_of, statuses: dict[str, str]) -> Response:
    filters, criteria, period = _criteria(ctx, tuple(statuses))
    page = list_page(ctx.db, statement_of(ctx.principal, criteria), ctx.request) if criteria else None
    rows = page.rows if page else []
    return ctx.render(template, {
        "page": page, "filters": filters, "period": period, "errors": period.errors or None,
        "filtered": any(filters.values()) or any(period.values.values()),
        "status_labels": ctx.labels(statuses), "cycle_labels": ctx.labels(BILLING_CYCLE_LABELS),
        "customer_names": customers.names_of(ctx.db, principal=ctx.principal,
                                             customer_ids=(row.customer_id for row in rows)),
        "partner_names": partner_names(ctx, {row.partner_id for row in rows} | {filters["partner"]}),
    }, status_code=400 if period.errors else 200)


@router.get("/orders")
def all_orders(ctx: PageContext = allow_page(*PURCHASE_READERS)) -> Response:
    return _render(ctx, "orders/overview_orders.html", service.search_partner_orders, ORDER_STATUS_LABELS)


@router.get("/subscriptions")
def all_subscriptions(ctx: PageContext = allow_page(*PURCHASE_READERS)) -> Response:
    return _render(ctx, "orders/overview_subscriptions.html", service.search_partner_subscriptions,
                   OVERVIEW_SUBSCRIPTION_STATUS_LABELS)
