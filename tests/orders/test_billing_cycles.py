"""A cart line is billed in its availability's own billing plan, and every price says what it is per.

An availability's price is charged once per cycle of its billing plan: a 3-year reservation listed at
€72.02 on the monthly plan bought "one_time" would cost the partner one month. So a line whose
`billingCycle` is not the availability's plan is refused (400, 3013, naming billingCycle and the
allowed value) at cart creation, cart update and checkout, and nothing is written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from partnerdesk.accounts.models import Role
from partnerdesk.catalog import demo
from partnerdesk.catalog.errors import InvalidPriceList
from partnerdesk.catalog.models import Availability, Product, Sku
from partnerdesk.catalog.price_terms import describe_price, price_terms
from partnerdesk.catalog.vocabulary import BILLING_CYCLES
from partnerdesk.core.money import minor_unit
from partnerdesk.orders.models import Cart, CartLineItem, Order
from partnerdesk.web.i18n import translations_for
from tests.catalog.test_pricelist import GOOD_ROWS, HEADER, import_text
from tests.orders.factories import Shop
from tests.support.portal import signed_in

pytestmark = pytest.mark.both_engines

PRODUCT = "DG7GMGF0PLAN"
SKU = "0001"
# One availability per billing plan, all for three years, priced as a partner would see them.
PLANS = {
    "one_time": ("0001", "290.00"),
    "monthly": ("0002", "10.00"),
    "annual": ("0003", "110.00"),
    "triennial": ("0004", "300.00"),
}
PAIRS = [(plan, cycle) for plan in BILLING_CYCLES for cycle in BILLING_CYCLES]
CYCLE_ERROR = 3013


def _load_plans(desk) -> None:
    now = desk.clock.now()
    stamps = {"created_at": now, "updated_at": now}
    with desk.database.session() as db:
        db.add(Product(id=PRODUCT, title="Visio Plan 2", description="", product_type_id="Software",
                       sub_type_id="Subscription", publisher="Microsoft", **stamps))
        db.flush()
        db.add(Sku(product_id=PRODUCT, id=SKU, title="Visio Plan 2 - 3 years", description="", unit_of_measure="Seat",
                   min_quantity=1, max_quantity=100, supported_billing_cycles=list(BILLING_CYCLES),
                   purchase_prerequisites=[], provisioning_variables=[], versions=[], languages=[], file_types=[],
                   arm_sku_name="", instance_series="", regions=[], **stamps))
        db.flush()
        db.add_all([
            Availability(product_id=PRODUCT, sku_id=SKU, id=availability_id, country="FR", currency="EUR",
                         segment="Commercial", term_duration="P3Y", billing_plan=plan, unit_price=Decimal(price),
                         tags="", effective_start=datetime(2020, 1, 1, tzinfo=UTC), updated_at=now)
            for plan, (availability_id, price) in PLANS.items()
        ])


@pytest.fixture
def plans(desk, actors) -> Shop:
    _load_plans(desk)
    return Shop(desk=desk, buyer=actors(Role.sales_agent))


def _line(plan: str, cycle: str, quantity: int = 2) -> dict:
    return {"id": 0, "catalogItemId": f"{PRODUCT}:{SKU}:{PLANS[plan][0]}", "quantity": quantity,
            "billingCycle": cycle, "termDuration": "P3Y"}


def _count(desk, model) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(model))


def _assert_refused(response, plan: str, cycle: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == CYCLE_ERROR
    assert body["data"] == ["lineItems[0].billingCycle", plan]
    assert f"billingCycle must be {plan}, not {cycle}" in body["description"]


@pytest.mark.parametrize(("plan", "cycle"), PAIRS)
def test_a_new_cart_takes_only_the_availabilitys_billing_plan(plans, desk, plan, cycle):
    customer = plans.customer("FR")
    response = plans.cart(customer, _line(plan, cycle))
    if plan == cycle:
        assert response.status_code == 201, response.text
        assert response.json()["lineItems"][0]["billingCycle"] == plan
        assert _count(desk, Cart) == 1
    else:
        _assert_refused(response, plan, cycle)
        assert (_count(desk, Cart), _count(desk, CartLineItem)) == (0, 0)


@pytest.mark.parametrize(("plan", "cycle"), PAIRS)
def test_an_updated_cart_takes_only_the_availabilitys_billing_plan(plans, desk, plan, cycle):
    customer = plans.customer("FR")
    cart = plans.cart(customer, _line(plan, plan, quantity=1)).json()
    response = plans.buyer.put(f"/v1/customers/{customer}/carts/{cart['id']}",
                               json={"lineItems": [_line(plan, cycle, quantity=3)]})
    read_back = plans.buyer.get(f"/v1/customers/{customer}/carts/{cart['id']}").json()["lineItems"]
    if plan == cycle:
        assert response.status_code == 200, response.text
        assert [(line["quantity"], line["billingCycle"]) for line in read_back] == [(3, plan)]
    else:
        _assert_refused(response, plan, cycle)
        assert [(line["quantity"], line["billingCycle"]) for line in read_back] == [(1, plan)]


@pytest.mark.parametrize(("plan", "cycle"), PAIRS)
def test_checkout_takes_only_the_availabilitys_billing_plan(plans, desk, plan, cycle):
    """A cart kept from before the rule (its line written with another cycle) is checked again at checkout."""
    customer = plans.customer("FR")
    cart = plans.cart(customer, _line(plan, plan)).json()
    with desk.database.session() as db:
        db.execute(update(CartLineItem).where(CartLineItem.cart_id == cart["id"]).values(billing_cycle=cycle))
    response = plans.checkout(customer, cart["id"])
    if plan == cycle:
        assert response.status_code == 201, response.text
        [order] = response.json()["orders"]
        assert order["billingCycle"] == plan
    else:
        _assert_refused(response, plan, cycle)
        assert _count(desk, Order) == 0
        assert plans.buyer.get(f"/v1/customers/{customer}/carts/{cart['id']}").json()["status"] == "Active"


@pytest.mark.parametrize(("plan", "amount", "count", "total"), [
    ("one_time", "580.00", 1, "580.00"),
    ("monthly", "20.00", 36, "720.00"),
    ("annual", "220.00", 3, "660.00"),
    ("triennial", "600.00", 1, "600.00"),
])
def test_order_lines_say_what_their_price_is_per(plans, plan, amount, count, total):
    customer = plans.customer("FR")
    [order] = plans.buy(customer, _line(plan, plan))["orders"]
    read_back = plans.buyer.get(f"/v1/customers/{customer}/orders/{order['id']}").json()
    for shape in (order, read_back):
        terms = shape["lineItems"][0]["priceTerms"]
        assert (terms["amount"], terms["chargeCount"], terms["totalForTerm"]) == (amount, count, total)
        assert terms["billingCycle"] == plan and terms["termDuration"] == "P3Y"
        assert shape["lineItems"][0]["totalPrice"] == amount  # the existing field is unchanged


def test_catalog_availabilities_say_what_their_price_is_per(plans):
    response = plans.buyer.get(f"/v1/products/{PRODUCT}/skus/{SKU}/availabilities?country=FR")
    assert response.status_code == 200, response.text
    terms = {item["billingPlan"]: item["priceTerms"] for item in response.json()["items"]}
    assert terms["monthly"] == {
        "amount": "10.00", "currencyCode": "EUR", "billingCycle": "monthly", "chargePeriod": "P1M",
        "termDuration": "P3Y", "chargeCount": 36, "totalForTerm": "360.00",
        "description": "€10.00 / month for 36 months (€360.00 in total)",
    }
    assert terms["one_time"]["description"] == "€290.00 once, for 3 years"
    assert terms["one_time"]["chargePeriod"] is None
    assert terms["annual"]["description"] == "€110.00 / year for 3 years (€330.00 in total)"
    assert terms["triennial"]["chargePeriod"] == "P3Y" and terms["triennial"]["chargeCount"] == 1


# The demo catalog: each availability's billing plan is coherent with its SKU, term and price.


@pytest.fixture
def demo_shop(desk, actors) -> Shop:
    with desk.database.session() as db:
        demo.load(db, desk.clock.now(), lambda _message: None)
    return Shop(desk=desk, buyer=actors(Role.sales_agent))


def test_every_demo_availability_has_a_coherent_billing_plan(demo_shop, desk):
    with desk.database.session(write=False) as db:
        cycles = {(sku.product_id, sku.id): sku.supported_billing_cycles for sku in db.scalars(select(Sku))}
        availabilities = db.scalars(select(Availability)).all()
    by_term: dict[tuple, dict] = {}
    for availability in availabilities:
        assert availability.billing_plan in cycles[(availability.product_id, availability.sku_id)]
        terms = price_terms(availability.unit_price, availability.currency, availability.billing_plan,
                            availability.term_duration)
        assert terms.total is not None, availability.catalog_item_id  # the term is a whole number of cycles
        key = (availability.product_id, availability.sku_id, availability.currency, availability.term_duration)
        by_term.setdefault(key, {})[availability.billing_plan] = terms
    for key, terms_by_plan in by_term.items():
        if {"one_time", "monthly"} <= set(terms_by_plan):
            # Monthly adds up to the upfront price, give or take each month's rounding to the minor unit.
            monthly, upfront = terms_by_plan["monthly"], terms_by_plan["one_time"]
            assert abs(monthly.total - upfront.total) <= minor_unit(key[2]) / 2 * monthly.charge_count, key


MONTHLY_3Y_FR = "DZH318Z0BXQ7:0001:0018"
UPFRONT_3Y_FR = "DZH318Z0BXQ7:0001:0004"


def _reservation(catalog_item_id: str, cycle: str) -> dict:
    return {"id": 0, "catalogItemId": catalog_item_id, "quantity": 1, "billingCycle": cycle, "termDuration": "P3Y",
            "provisioningContext": {"scope": "Shared", "duration": "3Year", "region": "westeurope"}}


def test_the_monthly_3_year_reservation_is_not_sold_one_time_nor_the_upfront_one_monthly(demo_shop, desk):
    customer = demo_shop.customer("FR")
    demo_shop.azure_subscription(customer)
    one_time = demo_shop.cart(customer, _reservation(MONTHLY_3Y_FR, "one_time"))
    assert one_time.status_code == 400 and one_time.json()["data"] == ["lineItems[0].billingCycle", "monthly"]
    monthly_upfront = demo_shop.cart(customer, _reservation(UPFRONT_3Y_FR, "monthly"))
    assert monthly_upfront.status_code == 400
    assert monthly_upfront.json()["data"] == ["lineItems[0].billingCycle", "one_time"]
    assert _count(desk, Cart) == 0
    [order] = demo_shop.buy(customer, _reservation(MONTHLY_3Y_FR, "monthly"))["orders"]
    terms = order["lineItems"][0]["priceTerms"]
    assert terms["description"] == "€72.02 / month for 36 months (€2,592.72 in total)"
    [upfront] = demo_shop.buy(customer, _reservation(UPFRONT_3Y_FR, "one_time"))["orders"]
    assert upfront["lineItems"][0]["priceTerms"]["description"] == "€2,592.58 once, for 3 years"


@pytest.mark.parametrize(("language", "monthly", "order_total"), [
    ("en", "€72.02 / month for 36 months (€2,592.72 in total)", "€72.02 / month"),
    # Babel's French spaces (no-break, narrow no-break) read as spaces on the page.
    ("fr", "72,02 € / mois pendant 36 mois (2 592,72 € au total)", "72,02 € / mois"),
])
def test_cart_and_order_pages_say_what_the_price_is_per(app, demo_shop, desk, language, monthly, order_total):
    customer = demo_shop.customer("FR")
    demo_shop.azure_subscription(customer)
    cart = demo_shop.cart(customer, _reservation(MONTHLY_3Y_FR, "monthly")).json()
    browser = signed_in(app, desk, Role.sales_agent, accept_language=language)
    review = browser.page(f"/customers/{customer}/carts/{cart['id']}")
    assert review.shows(monthly), review.text
    [order] = demo_shop.checkout(customer, cart["id"]).json()["orders"]
    page = browser.page(f"/customers/{customer}/orders/{order['id']}")
    assert page.shows(monthly) and page.shows(order_total), page.text
    assert browser.page(f"/customers/{customer}/orders").shows(order_total)
    catalog = browser.page(f"/customers/{customer}/catalog?view=AzureReservationsVM")
    assert catalog.shows(monthly), catalog.text


def test_the_words_follow_the_language():
    terms = price_terms(Decimal("72.02"), "EUR", "monthly", "P3Y")
    assert describe_price(terms) == "€72.02 / month for 36 months (€2,592.72 in total)"
    assert terms.total == Decimal("2592.72") and terms.charge_count == 36
    french = describe_price(terms, locale="fr", translations=translations_for("fr"))
    assert french == "72,02\xa0€ / mois pendant 36 mois (2\u202f592,72\xa0€ au total)"
    perpetual = price_terms(Decimal("1069"), "USD", "one_time", None)
    assert describe_price(perpetual) == "$1,069.00 once"
    in_french = describe_price(perpetual, locale="fr", translations=translations_for("fr"))
    assert in_french == "1\u202f069,00\xa0$US en une fois"


# The operator's catalog keeps each availability's plan coherent with its term.


def _operator_sku(operator, sub_type: str, cycles: list[str]) -> str:
    product = operator.post("/v1/products", json={"title": "Visio", "productType": {
        "id": "Software", "subType": {"id": sub_type}}})
    assert product.status_code == 201, product.text
    product_id = product.json()["id"]
    sku = operator.post(f"/v1/products/{product_id}/skus", json={"title": "Plan 2", "supportedBillingCycles": cycles})
    assert sku.status_code == 201, sku.text
    return f"/v1/products/{product_id}/skus/{sku.json()['id']}/availabilities"


@pytest.mark.parametrize(("sub_type", "plan", "terms", "named"), [
    ("Perpetual", "monthly", [], "a monthly price is charged over a term and this one has none"),
    ("Subscription", "annual", [{"duration": "P1M"}], "an annual price cannot be charged over a term of P1M"),
    ("Subscription", "triennial", [{"duration": "P1Y"}], "cannot be charged over a term of P1Y"),
])
def test_the_operator_cannot_price_a_plan_its_term_cannot_hold(actors, desk, sub_type, plan, terms, named):
    operator = actors(Role.operator)
    path = _operator_sku(operator, sub_type, [plan])
    response = operator.post(path, json={"country": "FR", "currency": "EUR", "unitPrice": "10", "billingPlan": plan,
                                         "terms": terms})
    assert response.status_code == 400, response.text
    assert response.json()["data"] == ["billingPlan"] and named in response.json()["description"]
    assert _count(desk, Availability) == 0


@pytest.mark.parametrize(("plan", "term"), [("monthly", "P1M"), ("monthly", "P3Y"), ("annual", "P3Y"),
                                            ("triennial", "P3Y"), ("one_time", "P1Y")])
def test_the_operator_prices_a_plan_over_a_term_of_whole_cycles(actors, plan, term):
    operator = actors(Role.operator)
    path = _operator_sku(operator, "Subscription", [plan])
    response = operator.post(path, json={"country": "FR", "currency": "EUR", "unitPrice": "10", "billingPlan": plan,
                                         "terms": [{"duration": term}]})
    assert response.status_code == 201, response.text
    assert response.json()["priceTerms"]["chargeCount"] is not None


def test_a_price_list_row_whose_plan_its_term_cannot_hold_is_refused_by_line(desk):
    perpetual_monthly = GOOD_ROWS[0].replace(",OneTime,", ",Monthly,")
    with pytest.raises(InvalidPriceList) as raised:
        import_text(desk, "\n".join([HEADER, perpetual_monthly]) + "\n")
    assert raised.value.data == ["line 2: BillingPlan: a monthly price is charged over a term and this one has none; "
                                 "perpetual prices are OneTime."]
    assert _count(desk, Availability) == 0


def test_cart_lines_say_what_they_cost_per_cycle_when_written_read_and_replaced(plans, desk):
    customer = plans.customer("FR")
    created = plans.cart(customer, _line("monthly", "monthly", quantity=2)).json()
    path = f"/v1/customers/{customer}/carts/{created['id']}"
    read = plans.buyer.get(path).json()
    for shape in (created, read):
        terms = shape["lineItems"][0]["priceTerms"]
        assert terms["description"] == "€20.00 / month for 36 months (€720.00 in total)", shape
    replaced = plans.buyer.put(path, json={"lineItems": [_line("annual", "annual", quantity=3)]}).json()
    assert replaced["lineItems"][0]["priceTerms"]["description"] == "€330.00 / year for 3 years (€990.00 in total)"
    # A line that can no longer be bought as it is (kept from before the rule) has no price to show.
    with desk.database.session() as db:
        db.execute(update(CartLineItem).where(CartLineItem.cart_id == created["id"]).values(billing_cycle="monthly"))
    assert plans.buyer.get(path).json()["lineItems"][0]["priceTerms"] is None
