"""Carts as Partner Center's clients use them: what `GET .../carts/{id}` answers is sent back with `PUT`."""

from __future__ import annotations

from partnerdesk.accounts.models import Role
from tests.orders.factories import OFFICE_FR, VISIO_FR_ANNUAL, software_line

IGNORED = "Partner-Desk-Ignored-Fields"


def _cart_path(customer_id: str, cart_id: str) -> str:
    return f"/v1/customers/{customer_id}/carts/{cart_id}"


def test_a_cart_read_back_is_accepted_by_put_unchanged(shop):
    customer = shop.customer()
    created = shop.cart(customer, software_line(OFFICE_FR, 2, 0),
                        {**software_line(VISIO_FR_ANNUAL, 3, 1), "billingCycle": "annual", "termDuration": "P1Y"})
    assert created.status_code == 201, created.text
    path = _cart_path(customer, created.json()["id"])
    read = shop.buyer.get(path).json()

    sent_back = shop.buyer.put(path, json=read)

    assert sent_back.status_code == 200, sent_back.text
    assert IGNORED not in sent_back.headers
    assert [(line["catalogItemId"], line["quantity"]) for line in sent_back.json()["lineItems"]] == [
        (OFFICE_FR, 2), (VISIO_FR_ANNUAL, 3)]


def test_put_changes_quantities_and_lines(shop):
    customer = shop.customer()
    created = shop.cart(customer, software_line(OFFICE_FR, 2, 0)).json()
    path = _cart_path(customer, created["id"])
    read = shop.buyer.get(path).json()
    read["lineItems"][0]["quantity"] = 7
    read["lineItems"].append({**software_line(VISIO_FR_ANNUAL, 4, 1), "billingCycle": "annual",
                              "termDuration": "P1Y"})

    updated = shop.buyer.put(path, json=read)

    assert updated.status_code == 200, updated.text
    lines = shop.buyer.get(path).json()["lineItems"]
    assert [(line["catalogItemId"], line["quantity"]) for line in lines] == [(OFFICE_FR, 7), (VISIO_FR_ANNUAL, 4)]

    read["lineItems"] = read["lineItems"][1:]
    assert shop.buyer.put(path, json=read).status_code == 200
    assert [line["catalogItemId"] for line in shop.buyer.get(path).json()["lineItems"]] == [VISIO_FR_ANNUAL]


def test_the_documented_line_fields_are_accepted(shop):
    customer = shop.customer()
    line = {
        **software_line(OFFICE_FR, 1, 0),
        "currencyCode": "EUR",
        "participants": [{"key": "transaction_reseller", "value": "5357564"}],
        "orderGroup": "0",
        "renewsTo": [{"termDuration": "P1Y"}],
        "attributes": {"objectType": "CartLineItem"},
        "provisioningContext": None,
    }

    created = shop.cart(customer, line)

    assert created.status_code == 201, created.text
    assert IGNORED not in created.headers
    assert created.json()["lineItems"][0]["provisioningContext"] == {}
    placed = shop.checkout(customer, created.json()["id"])
    assert placed.status_code == 201, placed.text


def test_a_currency_that_is_not_the_prices_is_refused(shop):
    customer = shop.customer()
    refused = shop.cart(customer, {**software_line(OFFICE_FR, 1, 0), "currencyCode": "USD"})
    assert refused.status_code == 400
    assert "currencyCode" in refused.json()["description"]
    assert "EUR" in refused.json()["description"]


def test_values_stay_strict_while_names_are_lenient(shop):
    customer = shop.customer()
    as_text = shop.cart(customer, {**software_line(OFFICE_FR, 1, 0), "Quantity": "2", "quantity": None})
    assert as_text.status_code == 400
    assert shop.cart(customer, {**software_line(OFFICE_FR), "QUANTITY": "two"}).status_code == 400


def test_an_unknown_field_is_ignored_and_named_in_the_header(shop):
    customer = shop.customer()
    created = shop.buyer.post(f"/v1/customers/{customer}/carts", json={
        "LineItems": [{**software_line(OFFICE_FR, 1, 0), "quantityy": 5}], "Comment": "for the board"})
    assert created.status_code == 201, created.text
    assert created.headers[IGNORED] == "lineItems[0].quantityy, Comment"
    assert created.json()["lineItems"][0]["quantity"] == 1


def test_an_order_sent_back_in_pascal_case_cancels_with_nothing_ignored(shop, actors):
    """The .NET SDK PATCHes the whole order as it read it, its names in PascalCase, status changed."""
    customer = shop.customer()
    [order] = shop.buy(customer, software_line(OFFICE_FR, 1, 0))["orders"]
    admin = actors(Role.admin_agent)
    read = admin.get(f"/v1/customers/{customer}/orders/{order['id']}").json()
    pascal = {key[0].upper() + key[1:]: value for key, value in read.items()}
    pascal["LineItems"] = [{key[0].upper() + key[1:]: value for key, value in line.items()}
                           for line in read["lineItems"]]
    pascal["Status"] = "cancelled"

    cancelled = admin.patch(f"/v1/customers/{customer}/orders/{order['id']}", json=pascal)

    assert cancelled.status_code == 200, cancelled.text
    assert IGNORED not in cancelled.headers
    assert [line["status"] for line in cancelled.json()["lineItems"]] == ["cancelled"]
