"""The orders list answers each order exactly as reading it alone does, and as `OrderOut` documents it.

The list builds its JSON objects itself (`presenters.order_shape`), without the model, to answer a page
of 50 orders cheaply; these tests hold it to the model and to `GET .../orders/{orderId}` for every kind
of order: several lines, a Reserved Instance with a term, a recurring cycle, a cancelled and credited
line, exact amounts beyond the currency's cents.
"""

from __future__ import annotations

import pytest

from partnerdesk.accounts.models import Role
from partnerdesk.orders.schemas import OrderOut
from tests.billing.recurring_support import add_recurring_prices, monthly_ri_line
from tests.orders.factories import OFFICE_FR, RI_FR_3Y, VISIO_FR_MONTHLY, ri_line, software_line

pytestmark = pytest.mark.both_engines


def _orders_of_every_kind(shop, actors) -> tuple[str, list[str]]:
    add_recurring_prices(shop.desk)
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    bought = [
        shop.buy(customer, software_line(quantity=3), ri_line(line_id=1)),  # two lines, one with a term
        shop.buy(customer, ri_line(RI_FR_3Y, quantity=1, term="P3Y")),  # EUR 3000.0001: beyond the cents
        shop.buy(customer, {"id": 0, "catalogItemId": VISIO_FR_MONTHLY, "quantity": 2, "billingCycle": "monthly",
                            "termDuration": "P1Y"}),
        shop.buy(customer, monthly_ri_line(quantity=2)),
        shop.buy(customer, software_line(OFFICE_FR, quantity=1), software_line(OFFICE_FR, quantity=2, line_id=1)),
    ]
    ids = [order["id"] for result in bought for order in result["orders"]]
    # One line of the last order cancelled and credited (rule R5): quantity 0, creditedAmount, its status.
    cancelled = actors(Role.admin_agent).patch(f"/v1/customers/{customer}/orders/{ids[-1]}",
                                               json={"status": "cancelled", "lineItems": [{"lineItemNumber": 1}]})
    assert cancelled.status_code == 200, cancelled.text
    return customer, ids


def test_each_listed_order_is_the_order_read_alone(shop, actors):
    customer, ids = _orders_of_every_kind(shop, actors)
    reader = actors(Role.helpdesk_agent)
    listed = reader.get(f"/v1/customers/{customer}/orders").json()
    assert listed["totalCount"] == len(ids)
    assert sorted(order["id"] for order in listed["items"]) == sorted(ids)
    for order in listed["items"]:
        assert order == reader.get(f"/v1/customers/{customer}/orders/{order['id']}").json()
    cancelled = next(order for order in listed["items"] if order["id"] == ids[-1])
    assert [(line["quantity"], line["status"], line["creditedAmount"]) for line in cancelled["lineItems"]] == \
        [(1, "active", "0.00"), (0, "cancelled", "2469.12")]
    exact = next(order for order in listed["items"] if order["id"] == ids[1])
    assert exact["totalPrice"] == "3000.0001" and exact["lineItems"][0]["priceTerms"]["amount"] == "3000.0001"


def test_each_listed_order_is_exactly_what_its_schema_documents(shop, actors):
    customer, ids = _orders_of_every_kind(shop, actors)
    listed = actors(Role.sales_agent).get(f"/v1/customers/{customer}/orders").json()
    for order in listed["items"]:
        # No field missing, none added, every value in the form the model writes it.
        assert OrderOut.model_validate(order).model_dump(mode="json") == order


def test_pages_of_the_list_show_the_same_orders(shop, actors):
    customer, ids = _orders_of_every_kind(shop, actors)
    reader = actors(Role.operator)
    whole = reader.get(f"/v1/customers/{customer}/orders").json()["items"]
    paged, url = [], f"/v1/customers/{customer}/orders?size=2"
    while url:
        page = reader.get(url).json()
        paged += page["items"]
        url = page["links"].get("next", {}).get("uri")
    assert paged == whole
