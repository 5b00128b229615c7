"""The "Add products" tab: a customer's catalog by target view, priced in the customer's market.

Each item carries an "Add to cart" form; the cart itself is the orders domain's (`orders/web.py`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import Response

from partnerdesk.accounts.models import Role
from partnerdesk.catalog import service
from partnerdesk.catalog.price_terms import describe_price, price_terms
from partnerdesk.catalog.vocabulary import TARGET_VIEWS
from partnerdesk.customers import service as customers
from partnerdesk.customers.web import register_customer_tab, render_customer_page
from partnerdesk.reservations import service as reservations
from partnerdesk.web import (
    N_,
    PageContext,
    allow_page,
    portal_router,
    register_filter,
    register_templates,
    register_translations,
)
from partnerdesk.web.i18n import translations_for

HERE = Path(__file__).parent
router = portal_router()
register_templates("catalog", HERE / "templates")
register_translations(HERE / "locale")


def _price_terms_filter(language: str):
    """`{{ amount | price_terms(currency, billing_cycle, term_duration) }}`: "€72.02 / month for 36 months
    (€2,592.72 in total)" in the page's language (catalog/price_terms.py)."""
    def describe(amount, currency: str, billing_cycle: str, term_duration: str | None = None) -> str:
        return describe_price(price_terms(amount, currency, billing_cycle, term_duration), locale=language,
                              translations=translations_for(language))
    return describe


register_filter("price_terms", _price_terms_filter)

BUYERS = (Role.admin_agent, Role.sales_agent)
register_customer_tab(N_("Add products"), "/customers/{customer_id}/catalog", BUYERS, order=15)

VIEW_LABELS = {
    "Software": N_("Software"),
    "SoftwarePerpetual": N_("Perpetual software"),
    "SoftwareSubscriptions": N_("Software subscriptions"),
    "AzureReservations": N_("Azure reservations"),
    "AzureReservationsVM": N_("Azure reservations: virtual machines"),
    "AzureReservationsSQL": N_("Azure reservations: SQL"),
}
BILLING_CYCLE_LABELS = {
    "one_time": N_("One time"),
    "monthly": N_("Monthly"),
    "annual": N_("Annual"),
    "triennial": N_("Every three years"),
}
DEFAULT_VIEW = "Software"


@router.get("/customers/{customer_id}/catalog")
def customer_catalog(customer_id: str, ctx: PageContext = allow_page(*BUYERS)) -> Response:
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    view = ctx.request.query_params.get("view", "").strip()[:40] or DEFAULT_VIEW
    cart_id = ctx.request.query_params.get("cart", "").strip()[:64]
    catalog = service.browse_for_customer(ctx.db, principal=ctx.principal, customer_id=customer.id,
                                          target_view=view, now=ctx.now)
    azure_subscriptions = []
    if any(item.is_reserved_instance for item in catalog.items):
        azure_subscriptions = list(ctx.db.scalars(
            reservations.list_azure_subscriptions(ctx.db, principal=ctx.principal, customer_id=customer.id)))
    return render_customer_page(ctx, customer, "catalog/customer_catalog.html", {
        "catalog": catalog,
        "views": [(name, ctx.gettext(VIEW_LABELS.get(name, name))) for name in TARGET_VIEWS],
        "cycle_labels": {cycle: ctx.gettext(label) for cycle, label in BILLING_CYCLE_LABELS.items()},
        "azure_subscriptions": azure_subscriptions,
        "cart_id": cart_id,
    })


