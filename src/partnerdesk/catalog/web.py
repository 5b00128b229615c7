"""The "Add products" tab: a customer's catalog by product type, one compact table per product, priced in
the customer's market, filtered by search, term, billing plan and region (GET parameters, no script).

Each row carries an "Add to cart" form; the cart itself is the orders domain's (`orders/web.py`), which
shows this page again, with the choices kept and the errors beside the fields, when a line is refused.
Terms, billing plans and regions are shown in words, never as codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from fastapi.responses import Response

from partnerdesk.accounts.models import Role
from partnerdesk.catalog import service
from partnerdesk.catalog.price_terms import describe_price, price_terms
from partnerdesk.catalog.service import PurchasableItem
from partnerdesk.catalog.vocabulary import BILLING_CYCLES, TARGET_VIEWS, TERM_DESCRIPTIONS
from partnerdesk.customers import service as customers
from partnerdesk.customers.models import Customer
from partnerdesk.customers.web import register_customer_tab, render_customer_page
from partnerdesk.reservations import service as reservations
from partnerdesk.web import (
    N_,
    FormErrors,
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


def _term_filter(language: str):
    """`{{ line.term_duration | term }}`: "1 year" / "1 an", "Perpetual" / "Perpétuelle", never "P1Y"."""
    def describe(duration: str | None) -> str:
        return term_label(duration, translations_for(language).gettext)
    return describe


register_filter("term", _term_filter)


def _offer_name_filter(_language: str):
    """`{{ line.friendly_name | offer_name(line.term_duration) }}`: a purchase's name without the English term
    the catalog's title ends with ("..., D4s v5, 1 year"), since the page shows the term in its own column,
    in the reader's words. A name the agent typed is kept whole."""
    def name(friendly_name: str, term_duration: str | None) -> str:
        suffix = TERM_DESCRIPTIONS.get(term_duration or "")
        if suffix and friendly_name.endswith(f", {suffix}"):
            return friendly_name[: -len(suffix) - 2]
        return friendly_name
    return name


register_filter("offer_name", _offer_name_filter)

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
# Term durations (ISO 8601) in words; "P1Y" is what the API says, "1 year" / "1 an" what people read.
TERM_LABELS = {"P1M": N_("1 month"), "P1Y": N_("1 year"), "P3Y": N_("3 years")}
PERPETUAL = "perpetual"
# Azure regions by their ARM name, with the display name Azure gives them (and its French one).
REGION_LABELS = {
    "australiaeast": N_("Australia East"),
    "australiasoutheast": N_("Australia Southeast"),
    "brazilsouth": N_("Brazil South"),
    "canadacentral": N_("Canada Central"),
    "canadaeast": N_("Canada East"),
    "centralindia": N_("Central India"),
    "centralus": N_("Central US"),
    "eastasia": N_("East Asia"),
    "eastus": N_("East US"),
    "eastus2": N_("East US 2"),
    "francecentral": N_("France Central"),
    "francesouth": N_("France South"),
    "germanywestcentral": N_("Germany West Central"),
    "italynorth": N_("Italy North"),
    "japaneast": N_("Japan East"),
    "japanwest": N_("Japan West"),
    "koreacentral": N_("Korea Central"),
    "northcentralus": N_("North Central US"),
    "northeurope": N_("North Europe"),
    "norwayeast": N_("Norway East"),
    "polandcentral": N_("Poland Central"),
    "southafricanorth": N_("South Africa North"),
    "southcentralus": N_("South Central US"),
    "southeastasia": N_("Southeast Asia"),
    "spaincentral": N_("Spain Central"),
    "swedencentral": N_("Sweden Central"),
    "switzerlandnorth": N_("Switzerland North"),
    "uaenorth": N_("UAE North"),
    "uksouth": N_("UK South"),
    "ukwest": N_("UK West"),
    "westcentralus": N_("West Central US"),
    "westeurope": N_("West Europe"),
    "westus": N_("West US"),
    "westus2": N_("West US 2"),
    "westus3": N_("West US 3"),
}
DEFAULT_VIEW = "Software"
# The catalog page's own query parameters, kept by the "Add to cart" forms so a refusal shows the same page.
FILTERS = ("view", "q", "term", "plan", "region")


def term_label(duration: str | None, gettext) -> str:
    if not duration:
        return gettext(N_("Perpetual"))
    return gettext(TERM_LABELS[duration]) if duration in TERM_LABELS else duration


def region_label(region: str, gettext) -> str:
    """"West Europe" for westeurope; a region Azure opened after this list still reads as words."""
    label = REGION_LABELS.get(region.casefold())
    return gettext(label) if label else region


def billing_cycle_label(cycle: str, gettext) -> str:
    label = BILLING_CYCLE_LABELS.get(cycle)
    return gettext(label) if label else cycle


@dataclass(frozen=True)
class CatalogQuery:
    """What the filter form asks for, as typed; empty means "any"."""

    view: str = DEFAULT_VIEW
    text: str = ""
    term: str = ""
    plan: str = ""
    region: str = ""

    @classmethod
    def read(cls, values: Mapping[str, str]) -> CatalogQuery:
        def value(name: str, limit: int) -> str:
            raw = values.get(name)
            return raw.strip()[:limit] if isinstance(raw, str) else ""
        return cls(view=value("view", 40) or DEFAULT_VIEW, text=value("q", 200), term=value("term", 16),
                   plan=value("plan", 16), region=value("region", 64))

    def parameters(self) -> dict[str, str]:
        values = {"view": self.view, "q": self.text, "term": self.term, "plan": self.plan, "region": self.region}
        return {name: value for name, value in values.items() if value}

    def url(self, customer_id: str) -> str:
        return f"/customers/{customer_id}/catalog?{urlencode(self.parameters())}"

    def shows(self, item: PurchasableItem, gettext) -> bool:
        """Whether a row matches the filters; the search also reads the words a reader sees."""
        durations = [term.duration for term in item.terms] or [PERPETUAL]
        if self.term and self.term not in durations:
            return False
        if self.plan and self.plan != item.billing_plan:
            return False
        if self.region and self.region not in item.regions:
            return False
        if self.text:
            words = [item.product_title, item.sku_title, item.title, item.arm_sku_name, item.instance_series,
                     *(term_label(duration if duration != PERPETUAL else None, gettext) for duration in durations)]
            if self.text.casefold() not in " ".join(words).casefold():
                return False
        return True


@dataclass(frozen=True)
class RefusedLine:
    """The "Add to cart" form that was refused: its choices to show again, its errors beside the fields."""

    catalog_item_id: str
    values: Mapping[str, str]
    errors: FormErrors


def render_catalog(ctx: PageContext, customer: Customer, query: CatalogQuery, *, refused: RefusedLine | None = None,
                   status_code: int = 200) -> Response:
    from partnerdesk.orders.web import cart_summary  # the orders domain's pages import this module

    catalog = service.browse_for_customer(ctx.db, principal=ctx.principal, customer_id=customer.id,
                                          target_view=query.view, now=ctx.now)
    products = []
    for product_id, product_title, items in catalog.by_product():
        shown = [item for item in items if query.shows(item, ctx.gettext)]
        if shown:
            products.append((product_id, product_title, shown))
    azure_subscriptions = []
    if any(item.is_reserved_instance for item in catalog.items):
        azure_subscriptions = list(ctx.db.scalars(
            reservations.list_azure_subscriptions(ctx.db, principal=ctx.principal, customer_id=customer.id)))
    terms = sorted({term.duration for item in catalog.items for term in item.terms})
    if any(not item.terms for item in catalog.items):
        terms.append(PERPETUAL)
    regions = sorted({region for item in catalog.items for region in item.regions},
                     key=lambda region: region_label(region, ctx.gettext))
    plans = [cycle for cycle in BILLING_CYCLES if any(cycle == item.billing_plan for item in catalog.items)]
    return render_customer_page(ctx, customer, "catalog/customer_catalog.html", {
        "catalog": catalog,
        "products": products,
        "shown_count": sum(len(items) for _, _, items in products),
        "query": query,
        "filters": query.parameters(),
        "views": [(name, ctx.gettext(VIEW_LABELS.get(name, name))) for name in TARGET_VIEWS],
        "term_choices": [(term, term_label(term if term != PERPETUAL else None, ctx.gettext)) for term in terms],
        "plan_choices": [(cycle, billing_cycle_label(cycle, ctx.gettext)) for cycle in plans],
        "region_choices": [(region, region_label(region, ctx.gettext)) for region in regions],
        "term_label": lambda duration: term_label(duration, ctx.gettext),
        "cycle_label": lambda cycle: billing_cycle_label(cycle, ctx.gettext),
        "region_label": lambda region: region_label(region, ctx.gettext),
        "azure_subscriptions": azure_subscriptions,
        "refused": refused,
        "cart": cart_summary(ctx, customer),
    }, status_code=status_code)


@router.get("/customers/{customer_id}/catalog")
def customer_catalog(customer_id: str, ctx: PageContext = allow_page(*BUYERS)) -> Response:
    customer = customers.get_customer(ctx.db, principal=ctx.principal, customer_id=customer_id)
    return render_catalog(ctx, customer, CatalogQuery.read(ctx.request.query_params))
