"""Property tests: whatever the cart, an order's total is the exact sum of its lines; no float carries money;
whatever is cancelled, each credit is exactly what was paid for its line."""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from partnerdesk.accounts.models import Role
from partnerdesk.billing.models import InvoiceLineItem
from partnerdesk.catalog.models import Availability
from partnerdesk.orders.models import Order, OrderLineItem
from tests.orders.factories import OFFICE_FR, RI_FR_1Y, RI_FR_3Y, VISIO_FR_ANNUAL, ri_line, software_line

MONEY = re.compile(r"^-?\d+\.\d{2,4}$")
# (catalog item, line builder): every kind of FR line the catalog sells.
KINDS = {
    OFFICE_FR: lambda quantity, number: software_line(OFFICE_FR, quantity=quantity, line_id=number),
    VISIO_FR_ANNUAL: lambda quantity, number: {"id": number, "catalogItemId": VISIO_FR_ANNUAL, "quantity": quantity,
                                               "billingCycle": "annual", "termDuration": "P1Y"},
    RI_FR_1Y: lambda quantity, number: ri_line(RI_FR_1Y, quantity=quantity, line_id=number),
    RI_FR_3Y: lambda quantity, number: ri_line(RI_FR_3Y, quantity=quantity, line_id=number, term="P3Y"),
}
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.9999"), places=4, allow_nan=False,
                     allow_infinity=False)
carts = st.lists(st.tuples(st.sampled_from(sorted(KINDS)), st.integers(min_value=1, max_value=100)),
                 min_size=1, max_size=6)


def floats_in(value) -> list:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [found for item in value.values() for found in floats_in(item)]
    if isinstance(value, list):
        return [found for item in value for found in floats_in(item)]
    return []


def _set_prices(desk, chosen: dict[str, Decimal]) -> None:
    with desk.database.session() as db:
        for catalog_item_id, price in chosen.items():
            db.get(Availability, tuple(catalog_item_id.split(":"))).unit_price = price


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=carts, price_list=st.fixed_dictionaries({kind: prices for kind in KINDS}))
def test_order_totals_are_the_exact_sum_of_their_lines(shop, desk, lines, price_list):
    if not hasattr(shop, "_customer"):
        shop._customer = shop.customer("FR")
        shop.azure_subscription(shop._customer)
    customer = shop._customer
    _set_prices(desk, price_list)
    body = shop.buy(customer, *[KINDS[kind](quantity, number) for number, (kind, quantity) in enumerate(lines)])
    assert floats_in(body) == []
    expected_total = sum((price_list[kind] * quantity for kind, quantity in lines), Decimal(0))
    assert sum(Decimal(order["totalPrice"]) for order in body["orders"]) == expected_total
    for order in body["orders"]:
        assert order["currencyCode"] == "EUR" and MONEY.match(order["totalPrice"])
        line_totals = [Decimal(line["totalPrice"]) for line in order["lineItems"]]
        assert Decimal(order["totalPrice"]) == sum(line_totals, Decimal(0))
        for line in order["lineItems"]:
            assert MONEY.match(line["unitPrice"]) and MONEY.match(line["totalPrice"])
            assert Decimal(line["unitPrice"]) * line["quantity"] == Decimal(line["totalPrice"])
            assert Decimal(line["unitPrice"]) == price_list[line["offerId"]]
    order_ids = [order["id"] for order in body["orders"]]
    with desk.database.session(write=False) as db:
        for order in db.scalars(select(Order).where(Order.id.in_(order_ids))):
            stored_lines = db.scalars(select(OrderLineItem).where(OrderLineItem.order_id == order.id)).all()
            assert isinstance(order.total_price, Decimal)
            assert all(isinstance(line.total_price, Decimal) and isinstance(line.unit_price, Decimal)
                       for line in stored_lines)
            assert order.total_price == sum((line.total_price for line in stored_lines), Decimal(0))
        charged = db.scalars(select(InvoiceLineItem.subtotal).where(InvoiceLineItem.order_id.in_(order_ids))).all()
        assert all(isinstance(amount, Decimal) for amount in charged)
        assert sum(charged, Decimal(0)) == expected_total


# Cancel requests against an order of up to 6 lines: each a set of line numbers, some repeated or unknown.
cancel_requests = st.lists(st.lists(st.integers(min_value=0, max_value=7), min_size=1, max_size=4), max_size=5)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=carts, price=prices, requests=cancel_requests)
def test_credits_never_exceed_what_was_paid_and_the_invoice_nets_the_lines_still_held(shop, desk, actors, lines,
                                                                                        price, requests):
    if not hasattr(shop, "_customer"):
        shop._customer = shop.customer("FR")
    customer = shop._customer
    _set_prices(desk, {OFFICE_FR: price})
    body = shop.buy(customer, *[software_line(OFFICE_FR, quantity=quantity, line_id=number)
                                for number, (_kind, quantity) in enumerate(lines)])
    [order] = body["orders"]
    paid = {line["lineItemNumber"]: Decimal(line["totalPrice"]) for line in order["lineItems"]}
    admin = actors(Role.admin_agent)
    cancelled: set[int] = set()
    for numbers in requests:
        response = admin.patch(f"/v1/customers/{customer}/orders/{order['id']}",
                               json={"status": "cancelled", "lineItems": [{"lineItemNumber": n} for n in numbers]})
        # A line already cancelled is left as it is (rule R5: never credited twice); only bad numbers are refused.
        valid = len(set(numbers)) == len(numbers) and set(numbers) <= paid.keys()
        assert response.status_code == (200 if valid else 400), response.text
        if valid:
            cancelled |= set(numbers)
    with desk.database.session(write=False) as db:
        charges = db.scalars(select(InvoiceLineItem).where(InvoiceLineItem.order_id == order["id"])).all()
    credited: dict[int, Decimal] = {}
    for charge in charges:
        assert isinstance(charge.subtotal, Decimal)
        if charge.charge_type == "cancel":
            credited[charge.order_line_number] = credited.get(charge.order_line_number, Decimal(0)) - charge.subtotal
    assert credited == {number: paid[number] for number in cancelled}
    assert sum((charge.subtotal for charge in charges), Decimal(0)) == \
        sum((amount for number, amount in paid.items() if number not in cancelled), Decimal(0))
    status = admin.get(f"/v1/customers/{customer}/orders/{order['id']}").json()["status"]
    assert status == ("cancelled" if cancelled == paid.keys() else "completed")
