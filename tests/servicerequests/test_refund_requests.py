"""Refund requests (rule R6): the four items, each checked against the purchase; refused ones write nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from partnerdesk.accounts.models import Role
from partnerdesk.audit.models import ActivityRecord
from tests.orders.factories import OFFICE_US, software_line
from tests.servicerequests.conftest import REFUND_TOPIC, request_body

# Money and the purchase's tables: the same answers on both engines.
pytestmark = pytest.mark.both_engines

NOTHING = {"requests": 0, "notes": 0, "refunds": 0, "activity": 0}


def test_an_admin_agent_files_a_refund_request(support):
    response = support.file(support.refund_body(subscriptionId=support.subscription_id, amount="1234.5",
                                                currency="eur"))
    assert response.status_code == 201, response.text
    shown = response.json()
    assert shown["supportTopicName"] == "CSP purchase/refund on behalf of customers"
    assert shown["customerId"] == support.customer_id
    assert shown["refundRequest"] == {
        "customerDomain": support.domain, "customerTenantId": support.customer_id, "orderId": support.order["id"],
        "subscriptionId": support.subscription_id, "reason": "wrong_product", "reasonDetails": "",
        "amount": "1234.50", "currency": "EUR"}
    with support.desk.database.session() as db:
        record = db.scalars(select(ActivityRecord).where(ActivityRecord.object_id == shown["id"])).one()
    assert record.action == "servicerequest.created"
    assert record.details["refund"] == {"orderId": support.order["id"], "subscriptionId": support.subscription_id,
                                        "reason": "wrong_product", "amount": "1234.50", "currency": "EUR"}


def test_the_tenant_id_and_the_whole_order_are_enough(support):
    response = support.file(support.refund_body(customerDomain=None, customerTenantId=support.customer_id,
                                                amount="2469.12", reason="other", reasonDetails="Duplicate order"))
    assert response.status_code == 201, response.text
    assert response.json()["refundRequest"]["customerDomain"] == support.domain
    assert response.json()["refundRequest"]["reasonDetails"] == "Duplicate order"


def test_a_helpdesk_agent_may_not_file_a_refund_request(support):
    response = support.file(support.refund_body(), Role.helpdesk_agent)
    assert response.status_code == 403
    assert response.json()["code"] == 7010
    assert support.counts() == NOTHING


@pytest.mark.parametrize(("left_out", "named"), [
    (("customerDomain",), "customerDomain or customerTenantId"),
    (("orderId",), "orderId or subscriptionId"),
    (("reason",), "reason"),
    (("amount",), "amount"),
])
def test_each_missing_item_alone_is_named(support, left_out, named):
    response = support.file(support.refund_body(**{field: None for field in left_out}))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 7011
    assert response.json()["data"] == [named]
    assert support.counts() == NOTHING


ALL_ITEMS = ["customerDomain or customerTenantId", "orderId or subscriptionId", "reason", "amount", "currency"]


@pytest.mark.parametrize("refund", [None, {}, {"customerDomain": " ", "orderId": "", "reasonDetails": "x"}])
def test_all_items_missing_are_named_in_one_400(support, refund):
    body = request_body(REFUND_TOPIC) if refund is None else request_body(REFUND_TOPIC, refundRequest=refund)
    response = support.file(body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 7011
    assert response.json()["data"] == ALL_ITEMS
    assert support.counts() == NOTHING


def test_reason_other_needs_details(support):
    response = support.file(support.refund_body(reason="other"))
    assert response.status_code == 400
    assert response.json()["data"] == ["reasonDetails"]


def test_a_reason_outside_the_list_is_refused(support):
    response = support.file(support.refund_body(reason="changed_mind"))
    assert response.status_code == 400 and response.json()["code"] == 7017
    assert support.counts() == NOTHING


def test_another_partners_customer_is_refused_like_an_unknown_one(support, actors):
    rival_shop = type(support.shop)(desk=support.desk, buyer=actors(Role.sales_agent, partner="Rival"))
    rival_customer = rival_shop.customer()
    rival_domain = rival_shop.buyer.get(f"/v1/customers/{rival_customer}").json()["companyProfile"]["domain"]
    for overrides in ({"customerDomain": rival_domain}, {"customerDomain": None, "customerTenantId": rival_customer},
                      {"customerDomain": "nobody.onmicrosoft.com"}, {"customerDomain": "not a domain"}):
        response = support.file(support.refund_body(**overrides))
        assert response.status_code == 400, response.text
        assert response.json()["code"] == 7012
    assert support.counts() == NOTHING


def test_a_domain_and_tenant_id_of_two_customers_are_refused(support):
    other = support.shop.customer()
    response = support.file(support.refund_body(customerTenantId=other))
    assert response.status_code == 400 and response.json()["code"] == 7012


def test_an_order_of_another_customer_is_refused(support):
    other = support.shop.customer()
    other_order = support.shop.buy(other, software_line())["orders"][0]
    for overrides in ({"orderId": other_order["id"]},
                      {"orderId": None, "subscriptionId": other_order["lineItems"][0]["subscriptionId"]},
                      {"orderId": "no-such-order"},
                      {"subscriptionId": other_order["lineItems"][0]["subscriptionId"]}):
        response = support.file(support.refund_body(**overrides))
        assert response.status_code == 400, response.text
        assert response.json()["code"] == 7013
        assert "refundRequest.orderId" in response.json()["data"] or \
            "refundRequest.subscriptionId" in response.json()["data"]
    assert support.counts() == NOTHING


@pytest.mark.parametrize("amount", ["2469.13", "1e6", "1e99999999999999999"])
def test_an_amount_above_what_was_paid_is_refused(support, amount):
    response = support.file(support.refund_body(amount=amount))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 7015
    assert response.json()["data"] == ["refundRequest.amount", "2469.12"]
    assert support.counts() == NOTHING


def test_one_line_refunds_at_most_that_line(support):
    response = support.file(support.refund_body(orderId=None, subscriptionId=support.subscription_id,
                                                amount="2469.12"))
    assert response.status_code == 201  # the order's only line holds both licences
    extra_line = support.shop.buy(support.customer_id, software_line(quantity=1))["orders"][0]
    response = support.file(support.refund_body(orderId=extra_line["id"], amount="1234.57"))
    assert response.status_code == 400
    assert response.json()["data"] == ["refundRequest.amount", "1234.56"]


def test_what_was_already_credited_cannot_be_asked_again(support):
    admin = support.actors(Role.admin_agent)
    cancelled = admin.patch(f"/v1/customers/{support.customer_id}/orders/{support.order['id']}",
                            json={"status": "cancelled", "lineItems": [{"lineItemNumber": 0}]})
    assert cancelled.status_code == 200, cancelled.text
    response = support.file(support.refund_body(amount="0.01"))
    assert response.status_code == 400
    assert response.json()["data"] == ["refundRequest.amount", "0.00"]


@pytest.mark.parametrize("amount", ["-10", "0", "0.00", "ten", "NaN", "Infinity", "12.34567", "",
                                    "1e-99999999999999999"])
def test_an_amount_that_is_not_positive_or_not_a_number_is_refused(support, amount):
    response = support.file(support.refund_body(amount=amount))
    assert response.status_code == 400, response.text
    assert response.json()["code"] in (7011, 7014)
    assert support.counts() == NOTHING


def test_an_amount_sent_as_a_json_number_is_refused(support):
    response = support.file(support.refund_body(amount=12.5))
    assert response.status_code == 400
    assert support.counts() == NOTHING


@pytest.mark.parametrize("currency", ["USD", "EURO", "XXX"])
def test_a_currency_other_than_the_orders_is_refused(support, currency):
    response = support.file(support.refund_body(currency=currency))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 7016
    assert response.json()["data"] == ["refundRequest.currency", "EUR"]
    assert support.counts() == NOTHING


def test_a_usd_order_is_refunded_in_usd(support):
    customer = support.shop.customer(country="US")
    domain = support.shop.buyer.get(f"/v1/customers/{customer}").json()["companyProfile"]["domain"]
    order = support.shop.buy(customer, software_line(OFFICE_US))["orders"][0]
    response = support.file(support.refund_body(customerDomain=domain, orderId=order["id"], amount="999.99",
                                                currency="USD"))
    assert response.status_code == 201, response.text
    assert response.json()["refundRequest"]["amount"] == "999.99"


def test_a_refund_request_on_another_topic_is_refused(support):
    response = support.file(request_body(1002, refundRequest=support.refund()))
    assert response.status_code == 400 and response.json()["code"] == 7018
    assert support.counts() == NOTHING
