"""The whole purchase through the API: carts, checkout, orders, subscriptions, entitlements, and every refusal."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.audit.models import ActivityRecord
from partnerdesk.billing.models import InvoiceLineItem
from partnerdesk.catalog.models import Availability
from partnerdesk.orders.models import Entitlement, Order, OrderLineItem, Subscription
from partnerdesk.reservations.models import Reservation
from partnerdesk.webhooks.models import WebhookEvent
from tests.orders.factories import (
    OFFICE_BR,
    OFFICE_FR,
    OFFICE_US,
    RI_BR_1Y,
    RI_FR_3Y,
    VISIO_FR_ANNUAL,
    VISIO_FR_MONTHLY,
    ri_line,
    software_line,
)

PURCHASE_TABLES = (Order, OrderLineItem, Subscription, Entitlement, Reservation, InvoiceLineItem)


def row_counts(desk) -> dict[str, int]:
    with desk.database.session(write=False) as db:
        return {table.__tablename__: db.scalar(select(func.count()).select_from(table)) for table in PURCHASE_TABLES}


def nothing_bought(desk) -> bool:
    return not any(row_counts(desk).values())


def test_buying_software_and_a_reserved_instance_makes_orders_subscriptions_entitlements_and_charges(shop, actors):
    customer = shop.customer("FR")
    azure = shop.azure_subscription(customer)
    cart = shop.cart(customer, software_line(quantity=3),
                     ri_line(line_id=1, quantity=2, scope="Single", subscriptionId=azure))
    assert cart.status_code == 201, cart.text
    body = cart.json()
    assert body["status"] == "Active"
    assert [line["currencyCode"] for line in body["lineItems"]] == ["EUR", "EUR"]
    assert body["expirationTimestamp"] == "2026-12-01T10:00:00Z"  # 168 hours, the policy's default

    result = shop.checkout(customer, body["id"])
    assert result.status_code == 201, result.text
    checkout = result.json()
    assert checkout["orderErrors"] == []
    [order] = checkout["orders"]
    assert order["status"] == "completed" and order["currencyCode"] == "EUR"
    assert order["totalPrice"] == "6172.80"  # 3 x 1234.56 + 2 x 1234.56
    assert order["creationDate"] == "2026-11-24T10:00:00Z"
    software, reserved = order["lineItems"]
    assert (software["offerId"], software["quantity"], software["termDuration"]) == (OFFICE_FR, 3, None)
    assert (software["unitPrice"], software["totalPrice"], software["transactionType"]) == ("1234.56", "3703.68", "New")
    assert reserved["provisioningContext"] == {"scope": "Single", "subscriptionId": azure, "duration": "1Year",
                                               "region": "westeurope"}

    agent = shop.buyer
    fetched = agent.get(f"/v1/customers/{customer}/orders/{order['id']}").json()
    # Rule R5: the checkout's answer and the order read back say how long it can be cancelled.
    assert (fetched["cancellableUntil"], fetched["daysLeftToCancel"]) == ("2027-01-23T10:00:00Z", 60)
    assert fetched == order
    assert agent.get(f"/v1/customers/{customer}/orders").json()["totalCount"] == 1
    subscription = agent.get(f"/v1/customers/{customer}/subscriptions/{software['subscriptionId']}").json()
    assert subscription["offerId"] == OFFICE_FR and subscription["quantity"] == 3
    assert subscription["orderId"] == order["id"] and subscription["commitmentEndDate"] is None
    # The two the purchase made, and the Azure plan subscription, listed as Partner Center lists them.
    assert agent.get(f"/v1/customers/{customer}/subscriptions").json()["totalCount"] == 3

    entitlements = agent.get(f"/v1/customers/{customer}/entitlements").json()
    assert entitlements["totalCount"] == 2
    [ri] = agent.get(f"/v1/customers/{customer}/entitlements?entitlementType=reservedInstance").json()["items"]
    assert ri["referenceOrder"] == {"id": order["id"], "lineItemId": "1"}
    assert (ri["productId"], ri["skuId"], ri["quantity"]) == ("DZH318Z0BXQ7", "0001", 2)
    [artifact] = ri["entitledArtifacts"]
    [reservation] = artifact["reservations"]
    assert reservation["scopeType"] == "Single" and reservation["quantity"] == 2
    assert reservation["appliedScopes"] == [f"/subscriptions/{azure}"]
    assert reservation["effectiveDateTime"] == "2026-11-24T10:00:00Z"
    assert reservation["expiryDateTime"] == "2027-11-24T10:00:00Z"
    [sw] = agent.get(f"/v1/customers/{customer}/entitlements?entitlementType=software").json()["items"]
    assert sw["entitledArtifacts"] == [] and sw["quantity"] == 3

    invoices = actors(Role.billing_admin).get("/v1/invoices").json()["items"]
    assert [(i["currencyCode"], i["totalCharges"], i["lineItemCount"]) for i in invoices] == [("EUR", "6172.80", 2)]


def test_a_three_year_reservation_expires_three_years_later_and_keeps_exact_money(shop):
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    checkout = shop.buy(customer, ri_line(RI_FR_3Y, quantity=3, term="P3Y", region="NorthEurope"))
    [line] = checkout["orders"][0]["lineItems"]
    assert line["unitPrice"] == "3000.0001" and line["totalPrice"] == "9000.0003"
    assert checkout["orders"][0]["totalPrice"] == "9000.0003"
    [ri] = shop.buyer.get(f"/v1/customers/{customer}/entitlements").json()["items"]
    reservation = ri["entitledArtifacts"][0]["reservations"][0]
    assert reservation["expiryDateTime"] == "2029-11-24T10:00:00Z"
    assert reservation["region"] == "northeurope" and reservation["scopeType"] == "Shared"
    assert reservation["appliedScopes"] == []


def test_lines_in_several_currencies_or_billing_cycles_make_one_order_each(shop):
    customer = shop.customer("FR")
    checkout = shop.buy(
        customer, software_line(quantity=1),
        {"id": 1, "catalogItemId": VISIO_FR_ANNUAL, "quantity": 10, "billingCycle": "annual", "termDuration": "P1Y"},
        {"id": 2, "catalogItemId": VISIO_FR_MONTHLY, "quantity": 5, "billingCycle": "Monthly", "termDuration": "p1y"},
    )
    orders = {order["billingCycle"]: order for order in checkout["orders"]}
    assert set(orders) == {"one_time", "annual", "monthly"}
    assert orders["annual"]["totalPrice"] == "1200.00" and orders["monthly"]["totalPrice"] == "50.00"
    agent = shop.buyer
    assert agent.get(f"/v1/customers/{customer}/orders?billingType=one_time").json()["totalCount"] == 1
    assert agent.get(f"/v1/customers/{customer}/orders?billingType=recurring").json()["totalCount"] == 2
    assert agent.get(f"/v1/customers/{customer}/orders?billingCycle=annual").json()["totalCount"] == 1
    bad = agent.get(f"/v1/customers/{customer}/orders?billingType=sometimes")
    assert bad.status_code == 400 and bad.json()["code"] == 3102
    [subscription] = [s for s in agent.get(f"/v1/customers/{customer}/subscriptions").json()["items"]
                      if s["billingCycle"] == "annual"]
    assert subscription["commitmentEndDate"] == "2027-11-24T10:00:00Z"


def test_checkout_charges_the_price_in_force_then(shop, desk):
    customer = shop.customer("FR")
    cart = shop.cart(customer, software_line(quantity=2)).json()
    with desk.database.session() as db:
        availability = db.get(Availability, ("DG7GMGF0DVT5", "0001", "0002"))
        availability.unit_price = Decimal("1300.00")
    order = shop.checkout(customer, cart["id"]).json()["orders"][0]
    assert order["totalPrice"] == "2600.00"


def test_a_cart_checks_out_once(shop, desk):
    customer = shop.customer("FR")
    cart = shop.cart(customer, software_line()).json()
    assert shop.checkout(customer, cart["id"]).status_code == 201
    again = shop.checkout(customer, cart["id"])
    assert again.status_code == 409 and again.json()["code"] == 3002
    assert row_counts(desk)["orders"] == 1
    assert shop.buyer.get(f"/v1/customers/{customer}/carts/{cart['id']}").json()["status"] == "Ordered"
    changed = shop.buyer.put(f"/v1/customers/{customer}/carts/{cart['id']}", json={"lineItems": [software_line()]})
    assert changed.status_code == 409


def test_an_expired_cart_is_refused_and_changes_nothing(shop, desk, clock):
    customer = shop.customer("FR")
    cart = shop.cart(customer, software_line()).json()
    clock.advance(timedelta(hours=168))
    response = shop.checkout(customer, cart["id"])
    assert response.status_code == 410 and response.json()["code"] == 3001
    assert nothing_bought(desk)
    assert shop.buyer.get(f"/v1/customers/{customer}/carts/{cart['id']}").json()["status"] == "Active"


def test_cart_expiry_follows_the_policy(shop, desk, clock):
    from partnerdesk.policies import service as policies

    with desk.database.session() as db:
        policies.set_policy(db, key="cart_expiry_hours", value=2, principal=None, now=clock.now())
    customer = shop.customer("FR")
    cart = shop.cart(customer, software_line()).json()
    assert cart["expirationTimestamp"] == "2026-11-24T12:00:00Z"
    clock.advance(timedelta(hours=1, minutes=59))
    assert shop.checkout(customer, cart["id"]).status_code == 201


def test_put_replaces_the_lines_of_an_open_cart(shop):
    customer = shop.customer("FR")
    cart = shop.cart(customer, software_line(quantity=1)).json()
    updated = shop.buyer.put(f"/v1/customers/{customer}/carts/{cart['id']}",
                             json={"lineItems": [software_line(quantity=4, line_id=7)]})
    assert updated.status_code == 200, updated.text
    assert [(line["id"], line["quantity"]) for line in updated.json()["lineItems"]] == [(7, 4)]
    order = shop.checkout(customer, cart["id"]).json()["orders"][0]
    assert order["totalPrice"] == "4938.24"


@pytest.mark.parametrize(("line", "status", "code", "named"), [
    (ri_line(RI_BR_1Y), 400, 2104, "BR"),
    (software_line(OFFICE_US), 400, 2102, "US"),
    (software_line("NOPE00000000:0001:0001"), 404, 2003, "NOPE00000000"),
    (software_line("not-an-id"), 400, 2020, "not-an-id"),
    (software_line(quantity=501), 400, 3011, "quantity"),
    (software_line(termDuration="P1Y"), 400, 3012, "perpetual"),
    ({"catalogItemId": VISIO_FR_ANNUAL, "quantity": 1, "billingCycle": "annual"}, 400, 3012, "P1Y"),
    ({"catalogItemId": VISIO_FR_ANNUAL, "quantity": 1, "billingCycle": "annual", "termDuration": "P3Y"},
     400, 3012, "P3Y"),
    (software_line(billingCycle="monthly"), 400, 3013, "monthly"),
    (software_line(billingCycle="fortnightly"), 400, 3010, "fortnightly"),
    (software_line(provisioningContext={"scope": "Shared"}), 400, 3010, "scope"),
    (ri_line(scope="Everywhere"), 400, 3503, "Everywhere"),
    (ri_line(scope=None), 400, 3503, "scope"),
    (ri_line(duration="3Year"), 400, 3503, "duration"),
    (ri_line(region="mars"), 400, 3503, "mars"),
    (ri_line(region=None), 400, 3503, "region"),
    (ri_line(vmSize="huge"), 400, 3503, "vmSize"),
    (ri_line(scope="Single"), 400, 3503, "subscriptionId"),
    (ri_line(scope="Single", subscriptionId="00000000-0000-0000-0000-000000000000"), 400, 3503, "00000000"),
    (software_line(quantity=0), 400, 1000, "quantity"),
    (software_line(quantity=1.5), 400, 1000, "quantity"),
    (software_line(quantity="2"), 400, 1000, "quantity"),
])
def test_bad_lines_are_refused_at_cart_creation_with_the_reason(shop, desk, line, status, code, named):
    customer = shop.customer("BR" if line["catalogItemId"] == RI_BR_1Y else "FR")
    shop.azure_subscription(customer)
    response = shop.cart(customer, line)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert named in response.json()["description"]


def test_rule_r1_refuses_a_reserved_instance_in_an_excluded_market_at_checkout_too(shop, desk, clock):
    from partnerdesk.policies import service as policies

    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    cart = shop.cart(customer, ri_line()).json()
    with desk.database.session() as db:
        policies.exclude_market(db, country="FR", principal=None, now=clock.now())
    response = shop.checkout(customer, cart["id"])
    assert response.status_code == 400 and response.json()["code"] == 2104
    assert response.json()["description"] == "Reserved Instances are not sold in market FR (rule R1)."
    assert nothing_bought(desk)


def test_software_is_still_sold_in_an_ri_excluded_market(shop):
    customer = shop.customer("BR")
    order = shop.buy(customer, software_line(OFFICE_BR, quantity=2))["orders"][0]
    assert (order["currencyCode"], order["totalPrice"]) == ("BRL", "1000.20")


def test_a_customer_without_an_azure_subscription_cannot_buy_a_reserved_instance(shop, desk):
    customer = shop.customer("FR")
    response = shop.cart(customer, ri_line())
    assert response.status_code == 400 and response.json()["code"] == 3501
    assert customer in response.json()["description"]


def test_an_unregistered_subscription_cannot_carry_a_reservation(shop):
    customer = shop.customer("FR")
    azure = shop.azure_subscription(customer, register=False)
    response = shop.cart(customer, ri_line(scope="Single", subscriptionId=azure))
    assert response.status_code == 400 and response.json()["code"] == 3502
    shared = shop.cart(customer, ri_line())
    assert shared.status_code == 400 and shared.json()["code"] == 3502


def test_single_scope_needs_a_subscription_of_this_customer(shop):
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    neighbour = shop.customer("FR")
    theirs = shop.azure_subscription(neighbour)
    response = shop.cart(customer, ri_line(scope="Single", subscriptionId=theirs))
    assert response.status_code == 400 and response.json()["code"] == 3503
    assert theirs in response.json()["description"]


def test_a_subscription_suspended_after_the_cart_was_made_fails_the_checkout(shop, desk):
    from partnerdesk.reservations.models import AzureSubscription

    customer = shop.customer("FR")
    azure = shop.azure_subscription(customer)
    cart = shop.cart(customer, ri_line(scope="Single", subscriptionId=azure)).json()
    with desk.database.session() as db:
        db.get(AzureSubscription, azure).status = "suspended"
    response = shop.checkout(customer, cart["id"])
    assert response.status_code == 400 and response.json()["code"] == 3501
    assert nothing_bought(desk)


def test_duplicate_line_ids_and_empty_carts_are_refused(shop):
    customer = shop.customer("FR")
    duplicate = shop.cart(customer, software_line(line_id=1), software_line(line_id=1))
    assert duplicate.status_code == 400 and duplicate.json()["code"] == 3010
    empty = shop.buyer.post(f"/v1/customers/{customer}/carts", json={"lineItems": []})
    assert empty.status_code == 400 and "lineItems" in empty.json()["description"]


def test_unknown_carts_orders_and_subscriptions_are_404(shop):
    customer = shop.customer("FR")
    missing = "00000000-0000-0000-0000-000000000000"
    agent = shop.buyer
    assert agent.get(f"/v1/customers/{customer}/carts/{missing}").json()["code"] == 3000
    assert agent.post(f"/v1/customers/{customer}/carts/{missing}/checkout").json()["code"] == 3000
    assert agent.get(f"/v1/customers/{customer}/orders/{missing}").json()["code"] == 3100
    assert agent.get(f"/v1/customers/{customer}/subscriptions/{missing}").json()["code"] == 3101
    assert agent.get(f"/v1/customers/{missing}/orders").status_code == 404
    bad_type = agent.get(f"/v1/customers/{customer}/entitlements?entitlementType=hardware")
    assert bad_type.status_code == 400 and bad_type.json()["code"] == 3102


def test_a_cart_belongs_to_its_customer(shop):
    first, second = shop.customer("FR"), shop.customer("FR")
    cart = shop.cart(first, software_line()).json()
    assert shop.checkout(second, cart["id"]).status_code == 404
    assert shop.buyer.get(f"/v1/customers/{second}/carts/{cart['id']}").status_code == 404


def test_orders_and_entitlements_are_in_the_activity_log_and_order_created_is_published(shop, desk, actors):
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    order = shop.buy(customer, software_line(), ri_line(line_id=1))["orders"][0]
    with desk.database.session(write=False) as db:
        records = db.scalars(select(ActivityRecord).where(ActivityRecord.customer_id == customer)
                             .order_by(ActivityRecord.id)).all()
        events = db.scalars(select(WebhookEvent)).all()
    created = [r for r in records if r.action == "order.created"]
    assert [(r.object_id, r.agent_email, r.operator_type) for r in created] == \
        [(order["id"], shop.buyer.email, "agent")]
    assert created[0].details["totalPrice"] == order["totalPrice"]
    assert sorted(r.details["entitlementType"] for r in records if r.action == "entitlement.created") == \
        ["reservedInstance", "software"]
    [event] = events
    assert event.event_type == "order.created" and event.data["orderId"] == order["id"]
    assert event.data["totalPrice"] == order["totalPrice"]
    log = actors(Role.admin_agent).get(f"/v1/activitylogs?customerId={customer}&action=order.created").json()
    assert log["totalCount"] == 1
