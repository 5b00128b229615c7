"""Rule R5 through the API: an admin agent cancels order lines within the window; the partner is credited."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from partnerdesk.accounts.models import Role
from partnerdesk.audit.models import ActivityRecord
from partnerdesk.billing.models import InvoiceLineItem
from partnerdesk.webhooks.models import WebhookEvent
from tests.orders.factories import VISIO_FR_ANNUAL, new_request_id, ri_line, software_line
from tests.orders.test_checkout import row_counts


def cancel_body(*numbers: int, **extra) -> dict:
    return {"status": "cancelled", "lineItems": [{"lineItemNumber": number} for number in numbers], **extra}


@pytest.fixture
def admin(actors):
    return actors(Role.admin_agent)


@pytest.fixture
def bought(shop):
    """A French customer's order of two software lines: 2 x 1234.56 and 1 x 1234.56 EUR."""
    customer = shop.customer("FR")
    order = shop.buy(customer, software_line(quantity=2), software_line(line_id=1))["orders"][0]
    return customer, order


def credit_lines(desk) -> list[InvoiceLineItem]:
    with desk.database.session(write=False) as db:
        return db.scalars(select(InvoiceLineItem).where(InvoiceLineItem.charge_type == "cancel")
                          .order_by(InvoiceLineItem.order_line_number)).all()


def test_an_admin_agent_cancels_one_line_and_everything_it_made_ends(admin, shop, desk, bought):
    customer, order = bought
    path = f"/v1/customers/{customer}/orders/{order['id']}"

    response = admin.patch(path, json=cancel_body(0, reason="Bought by mistake"))

    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["status"] == "completed"  # line 1 is still held
    assert [line["status"] for line in changed["lineItems"]] == ["cancelled", "active"]
    assert changed["totalPrice"] == order["totalPrice"]  # what was ordered does not change; the credit is billed
    # As Partner Center shows it: a cancelled line's quantity is 0; its price stays what was paid.
    assert [(line["quantity"], line["totalPrice"], line["creditedAmount"]) for line in changed["lineItems"]] == \
        [(0, "2469.12", "2469.12"), (1, "1234.56", "0.00")]
    assert (changed["cancellableUntil"], changed["daysLeftToCancel"]) == ("2027-01-23T10:00:00Z", 60)
    assert admin.get(path).json() == changed
    cancelled_subscription = order["lineItems"][0]["subscriptionId"]
    kept_subscription = order["lineItems"][1]["subscriptionId"]
    subscriptions = f"/v1/customers/{customer}/subscriptions"
    assert admin.get(f"{subscriptions}/{cancelled_subscription}").json()["status"] == "deleted"
    assert admin.get(f"{subscriptions}/{kept_subscription}").json()["status"] == "active"
    entitlements = admin.get(f"/v1/customers/{customer}/entitlements").json()["items"]
    assert sorted((e["referenceOrder"]["lineItemId"], e["status"]) for e in entitlements) == \
        [("0", "revoked"), ("1", "active")]

    [credit] = credit_lines(desk)
    assert (credit.order_line_number, credit.quantity, credit.unit_price, credit.subtotal, credit.currency) == \
        (0, -2, Decimal("1234.56"), Decimal("-2469.12"), "EUR")


def test_cancelling_the_last_line_cancels_the_order(admin, bought):
    customer, order = bought
    path = f"/v1/customers/{customer}/orders/{order['id']}"
    assert admin.patch(path, json=cancel_body(1)).json()["status"] == "completed"
    last = admin.patch(path, json=cancel_body(0))
    assert last.status_code == 200
    assert last.json()["status"] == "cancelled"
    assert {line["status"] for line in last.json()["lineItems"]} == {"cancelled"}


def test_the_partner_is_credited_exactly_what_it_paid_and_its_invoice_nets_to_zero(admin, actors, desk, bought):
    customer, order = bought
    admin.patch(f"/v1/customers/{customer}/orders/{order['id']}", json=cancel_body(0, 1))
    billing = actors(Role.billing_admin)
    [invoice] = billing.get("/v1/invoices").json()["items"]
    assert invoice["totalCharges"] == "0.00"
    lines = billing.get(f"/v1/invoices/{invoice['id']}/lineitems").json()["items"]
    by_type = sorted((line["chargeType"], line["subtotal"]) for line in lines)
    assert by_type == [("cancel", "-1234.56"), ("cancel", "-2469.12"), ("new", "1234.56"), ("new", "2469.12")]
    assert sum(Decimal(line.subtotal) for line in credit_lines(desk)) == -Decimal(order["totalPrice"])


def test_a_credit_frees_the_credit_limit(admin, actors, shop, bought):
    customer, order = bought
    partner_id = shop.buyer.get(f"/v1/customers/{customer}").json()["partnerId"]
    operator = actors(Role.operator)
    assert operator.put(f"/v1/partners/{partner_id}/creditlimits/EUR", json={"amount": "4000.00"}).status_code == 200
    refused = shop.cart(customer, software_line())
    assert shop.checkout(customer, refused.json()["id"]).status_code == 402  # 3703.68 owed + 1234.56 > 4000
    admin.patch(f"/v1/customers/{customer}/orders/{order['id']}", json=cancel_body(0))
    again = shop.cart(customer, software_line())
    assert shop.checkout(customer, again.json()["id"]).status_code == 201


def test_cancelling_a_reserved_instance_cancels_its_reservation(admin, shop):
    customer = shop.customer("FR")
    shop.azure_subscription(customer)
    order = shop.buy(customer, ri_line())["orders"][0]
    assert admin.patch(f"/v1/customers/{customer}/orders/{order['id']}", json=cancel_body(0)).status_code == 200
    [ri] = admin.get(f"/v1/customers/{customer}/entitlements?entitlementType=reservedInstance").json()["items"]
    assert ri["status"] == "revoked"
    assert ri["entitledArtifacts"][0]["reservations"][0]["provisioningState"] == "Cancelled"


def test_a_purchase_can_be_cancelled_until_60_days_after_it_was_made_and_never_after(admin, clock, desk, bought):
    customer, order = bought
    path = f"/v1/customers/{customer}/orders/{order['id']}"
    clock.advance(timedelta(days=59, hours=12))
    assert (admin.get(path).json()["daysLeftToCancel"], admin.get(path).json()["cancellableUntil"]) == \
        (0, "2027-01-23T10:00:00Z")
    clock.advance(timedelta(hours=12))  # the very last moment
    assert admin.patch(path, json=cancel_body(0)).status_code == 200
    clock.advance(timedelta(seconds=1))
    shown = admin.get(path).json()
    assert (shown["cancellableUntil"], shown["daysLeftToCancel"]) == (None, None)
    again = admin.patch(path, json=cancel_body(0))  # nothing to change: the same answer, even now
    assert again.status_code == 200 and again.json() == shown
    late = admin.patch(path, json=cancel_body(1))
    assert late.status_code == 409
    assert late.json()["code"] == 3113
    assert "60 days" in late.json()["description"] and "2027-01-23 10:00 UTC" in late.json()["description"]
    assert [line["status"] for line in admin.get(path).json()["lineItems"]] == ["cancelled", "active"]
    assert len(credit_lines(desk)) == 1


def test_the_window_is_the_policy_in_force(admin, actors, clock, bought):
    customer, order = bought
    assert actors(Role.operator).put("/v1/policies/cancellation_window_days", json={"value": 30}).status_code == 200
    clock.advance(timedelta(days=30, seconds=1))
    refused = admin.patch(f"/v1/customers/{customer}/orders/{order['id']}", json=cancel_body(0))
    assert refused.status_code == 409 and "30 days" in refused.json()["description"]


@pytest.mark.parametrize("role", [Role.sales_agent, Role.helpdesk_agent, Role.billing_admin, Role.operator])
def test_only_an_admin_agent_cancels(actors, desk, bought, role):
    customer, order = bought
    before = row_counts(desk)
    response = actors(role).patch(f"/v1/customers/{customer}/orders/{order['id']}", json=cancel_body(0))
    assert response.status_code == 403
    assert response.json()["code"] == 1101
    assert row_counts(desk) == before and credit_lines(desk) == []


def test_another_partners_admin_cannot_see_the_order(actors, desk, bought):
    customer, order = bought
    stranger = actors.new(Role.admin_agent, partner="Fabrikam Reseller")
    response = stranger.patch(f"/v1/customers/{customer}/orders/{order['id']}", json=cancel_body(0))
    assert response.status_code == 404
    assert credit_lines(desk) == []


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"status": "active", "lineItems": [{"lineItemNumber": 0}]}, 400, 3110),
    (cancel_body(7), 400, 3111),
    (cancel_body(0, 0), 400, 3111),
    # Names match in any letter case: the same field twice, in two cases, is refused rather than guessed at.
    ({"status": "cancelled", "lineItems": [{"lineItemNumber": 0, "LineItemNumber": 1}]}, 400, None),
    (cancel_body(-1), 400, None),
    ({"status": "cancelled", "lineItems": [{"lineItemNumber": "0"}]}, 400, None),
])
def test_bad_cancellations_are_refused_and_change_nothing(admin, desk, bought, body, status, code):
    customer, order = bought
    path = f"/v1/customers/{customer}/orders/{order['id']}"
    response = admin.patch(path, json=body)
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["code"] == code
    assert response.json()["description"]
    assert {line["status"] for line in admin.get(path).json()["lineItems"]} == {"active"}
    assert credit_lines(desk) == []


@pytest.mark.parametrize("body", [{"status": "cancelled"}, {"status": "cancelled", "lineItems": []}],
                         ids=["lineItems left out", "no lines listed"])
def test_naming_no_line_cancels_every_line_of_the_order(admin, desk, bought, body):
    customer, order = bought
    path = f"/v1/customers/{customer}/orders/{order['id']}"
    response = admin.patch(path, json=body)
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["status"] == "cancelled"
    assert [(line["status"], line["quantity"], line["creditedAmount"]) for line in changed["lineItems"]] == \
        [("cancelled", 0, "2469.12"), ("cancelled", 0, "1234.56")]
    assert (changed["cancellableUntil"], changed["daysLeftToCancel"]) == (None, None)  # nothing left to cancel
    assert sorted(credit.subtotal for credit in credit_lines(desk)) == [Decimal("-2469.12"), Decimal("-1234.56")]


def test_naming_no_line_cancels_what_is_left(admin, desk, bought):
    customer, order = bought
    path = f"/v1/customers/{customer}/orders/{order['id']}"
    admin.patch(path, json=cancel_body(0))
    rest = admin.patch(path, json={"status": "cancelled"})
    assert rest.status_code == 200 and rest.json()["status"] == "cancelled"
    assert [(credit.order_line_number, credit.subtotal) for credit in credit_lines(desk)] == \
        [(0, Decimal("-2469.12")), (1, Decimal("-1234.56"))]


def test_a_line_is_credited_once_however_often_it_is_cancelled(admin, desk, bought):
    customer, order = bought
    path = f"/v1/customers/{customer}/orders/{order['id']}"
    first = admin.patch(path, json=cancel_body(0)).json()
    again = admin.patch(path, json=cancel_body(0))
    assert again.status_code == 200 and again.json() == first  # the order as it stands; nothing changed
    both = admin.patch(path, json=cancel_body(0, 1))  # line 0 is left as it is, line 1 is cancelled
    assert both.status_code == 200
    assert [(line["status"], line["creditedAmount"]) for line in both.json()["lineItems"]] == \
        [("cancelled", "2469.12"), ("cancelled", "1234.56")]
    assert both.json()["status"] == "cancelled"
    everything = admin.patch(path, json={"status": "cancelled"})
    assert everything.status_code == 200 and everything.json() == both.json()
    assert [credit.order_line_number for credit in credit_lines(desk)] == [0, 1]
    with desk.database.session(write=False) as db:
        records = db.scalars(select(ActivityRecord).where(ActivityRecord.action == "order.cancelled")).all()
    assert len(records) == 2  # a cancel that changes nothing is not recorded as one


def test_the_order_as_get_returned_it_can_be_sent_back_with_its_status_changed(admin, bought):
    customer, order = bought
    path = f"/v1/customers/{customer}/orders/{order['id']}"
    echoed = {**admin.get(path).json(), "status": "cancelled"}
    echoed["lineItems"] = echoed["lineItems"][:1]
    response = admin.patch(path, json=echoed)
    assert response.status_code == 200, response.text
    assert [line["status"] for line in response.json()["lineItems"]] == ["cancelled", "active"]


def test_a_retried_cancellation_with_one_request_id_answers_the_same_and_credits_once(admin, desk, bought):
    customer, order = bought
    path = f"/v1/customers/{customer}/orders/{order['id']}"
    request_id = new_request_id()
    first = admin.patch(path, json=cancel_body(0), request_id=request_id)
    second = admin.patch(path, json=cancel_body(0), request_id=request_id)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == first.json() and second.headers["Idempotent-Replayed"] == "true"
    assert len(credit_lines(desk)) == 1


def test_cancellation_is_in_the_activity_log_and_published(admin, desk, shop):
    customer = shop.customer("FR")
    order = shop.buy(customer, software_line(), software_line(VISIO_FR_ANNUAL, line_id=1, billingCycle="annual",
                                                              termDuration="P1Y"))["orders"]
    annual = next(o for o in order if o["billingCycle"] == "annual")
    admin.patch(f"/v1/customers/{customer}/orders/{annual['id']}", json=cancel_body(0, reason="Wrong plan"))
    with desk.database.session(write=False) as db:
        records = db.scalars(select(ActivityRecord).where(ActivityRecord.action.in_(
            ["order.cancelled", "entitlement.revoked"])).order_by(ActivityRecord.id)).all()
        events = db.scalars(select(WebhookEvent).where(WebhookEvent.event_type != "order.created")
                            .order_by(WebhookEvent.event_type)).all()
    assert [(r.action, r.agent_email, r.operator_type) for r in records] == \
        [("order.cancelled", admin.email, "agent"), ("entitlement.revoked", admin.email, "agent")]
    assert records[0].details["reason"] == "Wrong plan" and records[0].details["creditAmount"] == "120.00"
    assert [event.event_type for event in events] == ["entitlement.revoked", "order.cancelled"]
    revoked, cancelled = events
    assert cancelled.data["orderId"] == annual["id"] and cancelled.data["lineItemNumbers"] == [0]
    assert (cancelled.data["creditAmount"], cancelled.data["currencyCode"]) == ("120.00", "EUR")
    assert cancelled.data["order"]["status"] == "cancelled"
    assert revoked.data["subscriptionId"] == annual["lineItems"][0]["subscriptionId"]
    assert revoked.data["reason"] == "order.cancelled"
