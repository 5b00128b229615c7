"""Partner Center's documented request examples are accepted, and Partner Desk answers in the documented
shape (field names and JSON types; values are this desk's own). Fixtures: tests/compat/fixtures/."""

from __future__ import annotations

import copy

import pytest

from partnerdesk.accounts.models import Role
from tests.compat.shapes import FIXTURES, assert_documented_shape, fixture, shape_differences
from tests.orders.factories import OFFICE_FR, OFFICE_US, RI_FR_1Y, ri_line

IGNORED = "Partner-Desk-Ignored-Fields"


def _with_our_item(request: dict, catalog_item_id: str) -> dict:
    """The documented cart with one of this catalog's software items in place of Partner Center's RI."""
    body = copy.deepcopy(request)
    for line in body["LineItems"]:
        line["CatalogItemId"] = catalog_item_id
        line.pop("ProvisioningContext")
    return body


def test_the_comparison_sees_a_missing_field_and_a_wrong_type():
    documented = {"id": "x", "lineItems": [{"quantity": 1, "links": {"self": {"uri": "/"}}}]}
    same = {"id": "y", "lineItems": [{"quantity": 2, "links": {"self": {"uri": "/a"}}}]}
    assert shape_differences(documented, same) == []
    assert shape_differences(documented, {"id": 3, "lineItems": [{"links": {"self": {}}}]}) == [
        "id: documented string, answered number", "lineItems[].quantity: missing",
        "lineItems[].links.self.uri: missing"]


def test_the_create_a_customer_example_is_accepted_as_printed(actors):
    """PascalCase, the domain alone in CompanyProfile, EN-US, and the example's two trailing commas."""
    caller = actors(Role.sales_agent)
    printed = (FIXTURES / "create-customer.request.txt").read_bytes()

    created = caller.post("/v1/customers", content=printed, headers={"Content-Type": "application/json"})

    assert created.status_code == 201, created.text
    assert IGNORED not in created.headers
    body = created.json()
    assert body["companyProfile"]["domain"] == "xyz.ccsctp.net"
    assert body["companyProfile"]["companyName"] == "test company"  # named as in the billing profile
    assert body["billingProfile"]["culture"] == "en-US"
    assert body["billingProfile"]["language"] == "en"
    assert_documented_shape("create-customer", body)
    assert_documented_shape("create-customer", caller.get(f"/v1/customers/{body['id']}").json())


def test_the_create_a_customer_example_as_json_is_accepted_with_the_net_sdk_language(actors):
    request = fixture("create-customer")["request"]
    request["BillingProfile"]["Language"] = "En"  # the .NET sample's spelling
    created = actors(Role.admin_agent).post("/v1/customers", json=request)
    assert created.status_code == 201, created.text
    assert created.json()["billingProfile"]["language"] == "en"


def test_a_malformed_body_is_still_refused(actors):
    refused = actors(Role.sales_agent).post("/v1/customers", content=b'{"CompanyProfile": {,}}',
                                           headers={"Content-Type": "application/json"})
    assert refused.status_code == 400
    assert refused.json()["code"] == 1001


def test_the_create_and_update_a_cart_examples_are_accepted(shop):
    customer = shop.customer(country="FR")
    created = shop.buyer.post(f"/v1/customers/{customer}/carts",
                              json=_with_our_item(fixture("create-cart")["request"], OFFICE_FR))
    assert created.status_code == 201, created.text
    assert IGNORED not in created.headers
    assert_documented_shape("create-cart", created.json())

    cart_id = created.json()["id"]
    update = _with_our_item(fixture("update-cart")["request"], OFFICE_FR)
    update["LineItems"][0]["Quantity"] = 5
    updated = shop.buyer.put(f"/v1/customers/{customer}/carts/{cart_id}", json=update)
    assert updated.status_code == 200, updated.text
    assert IGNORED not in updated.headers
    assert updated.json()["lineItems"][0]["quantity"] == 5
    assert_documented_shape("update-cart", updated.json())

    placed = shop.checkout(customer, cart_id)
    assert placed.status_code == 201, placed.text
    assert_documented_shape("checkout-cart", placed.json())


def test_products_and_availabilities_answer_in_the_documented_shape(shop):
    products = shop.buyer.get("/v1/products?country=US&targetView=Software").json()
    assert products["items"] and products["items"][0]["publisherName"] == "Microsoft"
    assert products["items"][0]["isMicrosoftProduct"] is True
    assert_documented_shape("products", products)
    product, sku, availability = OFFICE_US.split(":")
    listed = shop.buyer.get(f"/v1/products/{product}/skus/{sku}/availabilities?country=US").json()
    assert listed["items"][0]["defaultCurrency"] == {"code": "USD", "symbol": "$"}
    assert listed["items"][0]["isPurchasable"] is True
    assert_documented_shape("availabilities", listed)


def test_subscriptions_of_both_kinds_answer_in_the_documented_shape(shop):
    customer = shop.customer()
    shop.azure_subscription(customer)
    shop.buy(customer, {"id": 0, "catalogItemId": OFFICE_FR, "quantity": 1, "billingCycle": "one_time"})
    listed = shop.buyer.get(f"/v1/customers/{customer}/subscriptions").json()
    assert listed["totalCount"] == 2
    assert_documented_shape("subscriptions", listed)


def test_entitlements_answer_in_the_documented_shape(shop):
    customer = shop.customer()
    shop.azure_subscription(customer)
    shop.buy(customer, ri_line(RI_FR_1Y, 1))
    listed = shop.buyer.get(f"/v1/customers/{customer}/entitlements?entitlementtype=reservedinstance").json()
    assert listed["totalCount"] == 1
    assert_documented_shape("entitlements", listed)


def test_audit_records_answer_in_the_documented_shape(shop, actors):
    customer = shop.customer()
    shop.buy(customer, {"id": 0, "catalogItemId": OFFICE_FR, "quantity": 1, "billingCycle": "one_time"})
    listed = actors(Role.admin_agent).get("/v1/auditrecords").json()
    assert {record["operationType"] for record in listed["items"]} >= {"add_customer", "create_order"}
    assert_documented_shape("audit-records", listed)


@pytest.mark.parametrize("path", ["/v1/customers/00000000-0000-4000-8000-000000000000", "/v1/nowhere"])
def test_errors_answer_in_the_documented_shape(actors, path):
    answered = actors(Role.admin_agent).get(path)
    assert answered.status_code == 404
    assert answered.json()["source"] == "PartnerDesk"
    assert_documented_shape("error", answered.json())


def test_a_customer_read_back_is_accepted_as_a_new_customers_body(actors):
    caller = actors(Role.admin_agent)
    first = caller.post("/v1/customers", json=fixture("create-customer")["request"]).json()
    again = {**first, "companyProfile": {**first["companyProfile"], "domain": "another.example.com"}}
    created = caller.post("/v1/customers", json=again)
    assert created.status_code == 201, created.text
    assert IGNORED not in created.headers
