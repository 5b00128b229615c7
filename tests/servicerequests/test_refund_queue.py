"""The operator's refund queue (rule R6): approval cancels and credits (all or part), once; rejection keeps a
reason; after the cancellation window only an override with a reason lets an approval through."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.audit.models import ActivityRecord
from partnerdesk.billing.models import InvoiceLineItem
from partnerdesk.jobs.models import Job
from partnerdesk.support.models import SupportEmail
from partnerdesk.webhooks.models import WebhookEvent
from tests.servicerequests.conftest import Support, request_body
from tests.software.conftest import software  # noqa: F401 - the fixture
from tests.software.factories import SoftwareShop

# Approval is a cancellation: orders, billing, keys and links in one transaction, on both engines.
pytestmark = pytest.mark.both_engines

PAID = Decimal("2469.12")  # two Office FR licences in the support fixture


def credits(desk, order_id: str) -> Decimal:
    with desk.database.session(write=False) as db:
        subtotals = db.scalars(select(InvoiceLineItem.subtotal).where(InvoiceLineItem.order_id == order_id))
        return -sum((subtotal for subtotal in subtotals if subtotal < 0), Decimal(0))


def activity(desk, action: str) -> list[dict]:
    with desk.database.session(write=False) as db:
        return [row.details for row in db.scalars(select(ActivityRecord).where(ActivityRecord.action == action))]


def events(desk, event_type: str) -> list[dict]:
    with desk.database.session(write=False) as db:
        return [row.data for row in db.scalars(select(WebhookEvent).where(WebhookEvent.event_type == event_type))]


def refund_filed(support: Support, **overrides) -> dict:
    return support.filed(support.refund_body(**overrides))


def approve(support: Support, request_id: str, role: Role = Role.operator, **body):
    return support.actors(role).post(f"/v1/servicerequests/{request_id}/refundrequest/approve", json=body)


def reject(support: Support, request_id: str, role: Role = Role.operator, **body):
    return support.actors(role).post(f"/v1/servicerequests/{request_id}/refundrequest/reject", json=body)


def order_of(support: Support) -> dict:
    return support.actors(Role.admin_agent).get(
        f"/v1/customers/{support.customer_id}/orders/{support.order['id']}").json()


def test_approving_the_whole_order_cancels_it_and_credits_what_was_asked(support):
    filed = refund_filed(support, amount=str(PAID))

    approved = approve(support, filed["id"], note="Checked with the customer.")

    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "closed"
    refund = body["refundRequest"]
    assert refund["decision"] == "approved" and refund["approvedAmount"] == "2469.12"
    assert refund["creditedAmount"] == "2469.12" and refund["decidedBy"] and "overrideReason" not in refund
    assert "Refund approved: 2469.12 EUR credited" in body["notes"][-1]["text"]
    assert "Checked with the customer." in body["notes"][-1]["text"]
    order = order_of(support)
    assert order["status"] == "cancelled" and all(line["quantity"] == 0 for line in order["lineItems"])
    assert credits(support.desk, support.order["id"]) == PAID


def test_a_partial_approval_cancels_the_line_and_credits_only_the_part(support):
    filed = refund_filed(support, subscriptionId=support.subscription_id, orderId=None, amount="1000.00")

    approved = approve(support, filed["id"], amount="400.50")

    assert approved.status_code == 200, approved.text
    refund = approved.json()["refundRequest"]
    assert refund["approvedAmount"] == "400.50" and refund["creditedAmount"] == "400.50"
    assert credits(support.desk, support.order["id"]) == Decimal("400.50")
    line = order_of(support)["lineItems"][0]
    assert line["status"] == "cancelled" and line["creditedAmount"] == "400.50"


def test_an_approved_amount_above_what_was_asked_is_refused_and_changes_nothing(support):
    filed = refund_filed(support, amount="100.00")

    refused = approve(support, filed["id"], amount="100.01")

    assert refused.status_code == 400 and refused.json()["code"] == 7022
    assert "more than the 100.00 EUR the request asks for" in refused.json()["description"]
    assert credits(support.desk, support.order["id"]) == 0 and order_of(support)["status"] != "cancelled"


@pytest.mark.parametrize("amount", ["-5", "0", "abc", "1.00001", "NaN"])
def test_a_bad_approved_amount_is_refused(support, amount):
    filed = refund_filed(support)

    refused = approve(support, filed["id"], amount=amount)

    assert refused.status_code == 400 and refused.json()["code"] == 7014
    assert refused.json()["data"] == ["amount"]
    assert credits(support.desk, support.order["id"]) == 0


def test_a_refund_is_decided_once(support):
    filed = refund_filed(support)
    assert approve(support, filed["id"]).status_code == 200

    again = approve(support, filed["id"])
    rejected = reject(support, filed["id"], reason="Too late")

    for answer in (again, rejected):
        assert answer.status_code == 409 and answer.json()["code"] == 7021
        assert "was approved on" in answer.json()["description"]
    assert credits(support.desk, support.order["id"]) == Decimal("1234.56")


def test_a_retried_approval_with_one_request_id_answers_the_same(support):
    filed = refund_filed(support)
    operator = support.actors(Role.operator)
    path = f"/v1/servicerequests/{filed['id']}/refundrequest/approve"

    first = operator.post(path, json={}, request_id="3f2b9c1e-7a4d-4e8b-9c0d-1e2f3a4b5c6d")
    second = operator.post(path, json={}, request_id="3f2b9c1e-7a4d-4e8b-9c0d-1e2f3a4b5c6d")

    assert first.status_code == second.status_code == 200 and first.json() == second.json()
    assert credits(support.desk, support.order["id"]) == Decimal("1234.56")


def test_rejection_needs_a_reason_and_credits_nothing(support):
    filed = refund_filed(support)
    assert reject(support, filed["id"], reason="  ").json()["code"] == 7022
    assert reject(support, filed["id"]).status_code == 400

    rejected = reject(support, filed["id"], reason="The customer used the product for 50 days.")

    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert body["status"] == "closed" and body["refundRequest"]["decision"] == "rejected"
    assert body["refundRequest"]["decisionNote"] == "The customer used the product for 50 days."
    assert body["notes"][-1]["text"] == "Refund rejected: The customer used the product for 50 days."
    assert credits(support.desk, support.order["id"]) == 0 and order_of(support)["status"] != "cancelled"


@pytest.mark.parametrize("role", [role for role in Role if role is not Role.operator])
def test_only_the_operator_decides(support, role):
    filed = refund_filed(support)

    for answer in (approve(support, filed["id"], role), reject(support, filed["id"], role, reason="No")):
        assert answer.status_code == 403

    assert credits(support.desk, support.order["id"]) == 0


def test_a_request_without_a_refund_cannot_be_approved(support):
    filed = support.filed(request_body())

    refused = approve(support, filed["id"])

    assert refused.status_code == 409 and refused.json()["code"] == 7020


def test_a_request_its_partner_closed_cannot_be_approved(support):
    filed = refund_filed(support)
    support.actors(Role.admin_agent).patch(f"/v1/servicerequests/{filed['id']}", json={"status": "closed"})

    refused = approve(support, filed["id"])

    assert refused.status_code == 409 and refused.json()["code"] == 7005
    assert credits(support.desk, support.order["id"]) == 0


def test_an_approval_after_a_direct_cancel_credits_nothing_more(support):
    filed = refund_filed(support)
    cancelled = support.actors(Role.admin_agent).patch(
        f"/v1/customers/{support.customer_id}/orders/{support.order['id']}", json={"status": "cancelled"})
    assert cancelled.status_code == 200

    refused = approve(support, filed["id"])

    assert refused.status_code == 409 and refused.json()["code"] == 7023
    assert credits(support.desk, support.order["id"]) == PAID  # the direct cancel's credit, once
    assert support.actors(Role.operator).get(f"/v1/servicerequests/{filed['id']}").json()["status"] == "open"


def test_the_window_holds_for_approvals_unless_the_operator_overrides_with_a_reason(support, clock):
    filed = refund_filed(support)
    clock.advance(timedelta(days=60, seconds=1))  # one second after rule R5's window closed

    refused = approve(support, filed["id"])

    assert refused.status_code == 409 and refused.json()["code"] == 7024
    assert "overrideReason" in refused.json()["description"]
    assert credits(support.desk, support.order["id"]) == 0

    approved = approve(support, filed["id"], overrideReason="Microsoft confirmed the refund in case 1234.")

    assert approved.status_code == 200, approved.text
    assert approved.json()["refundRequest"]["overrideReason"] == "Microsoft confirmed the refund in case 1234."
    assert "Approved after the cancellation window" in approved.json()["notes"][-1]["text"]
    logged = activity(support.desk, "refundrequest.approved")
    assert logged[-1]["overrideReason"] == "Microsoft confirmed the refund in case 1234."


def test_day_60_is_still_inside_the_window(support, clock):
    filed = refund_filed(support)
    clock.advance(timedelta(days=60))

    assert approve(support, filed["id"]).status_code == 200


def test_every_decision_is_logged_published_and_emailed(support):
    approved_request = refund_filed(support, subscriptionId=support.subscription_id, orderId=None)
    rejected_request = refund_filed(support)

    approve(support, approved_request["id"])
    reject(support, rejected_request["id"], reason="Duplicate request.")

    assert activity(support.desk, "refundrequest.approved")[0]["creditedAmount"] == "1234.56"
    assert activity(support.desk, "refundrequest.rejected")[0]["reason"] == "Duplicate request."
    [approved_event] = events(support.desk, "refundrequest.approved")
    assert approved_event["serviceRequestId"] == approved_request["id"]
    assert approved_event["creditedAmount"] == "1234.56" and approved_event["currencyCode"] == "EUR"
    assert events(support.desk, "refundrequest.rejected")[0]["reason"] == "Duplicate request."
    assert len(events(support.desk, "order.cancelled")) == 1
    with support.desk.database.session(write=False) as db:
        statuses = sorted((row.service_request_id, row.status) for row in db.scalars(select(SupportEmail)))
        jobs = db.scalar(select(func.count()).select_from(Job).where(Job.kind == "support.email"))
    # Filed (open), then closed by the decision: two emails per request, each with its job.
    assert statuses == sorted([(approved_request["id"], "open"), (approved_request["id"], "closed"),
                               (rejected_request["id"], "open"), (rejected_request["id"], "closed")])
    assert jobs == 4


def test_the_queue_lists_refund_requests_by_decision(support):
    pending = refund_filed(support)
    decided = refund_filed(support)
    support.filed(request_body())
    approve(support, decided["id"])
    operator = support.actors(Role.operator)

    def ids(decision: str) -> list[str]:
        return [item["id"] for item in operator.get(f"/v1/servicerequests?refundDecision={decision}").json()["items"]]

    assert ids("pending") == [pending["id"]]
    assert ids("approved") == [decided["id"]]
    assert ids("rejected") == []
    assert operator.get("/v1/servicerequests?refundDecision=maybe").json()["code"] == 7003


def test_approval_revokes_the_keys_and_kills_every_link(software: SoftwareShop):  # noqa: F811
    software_id = software.buy(quantity=1)
    shown = software.keys_and_downloads(software_id).json()
    link = shown["downloads"][0]["uri"].removeprefix(software.desk.settings.public_base_url)
    item = software.item(software_id)
    admin = software.actors(Role.admin_agent)
    domain = admin.get(f"/v1/customers/{software.customer_id}").json()["companyProfile"]["domain"]
    body = request_body(1001, refundRequest={"customerDomain": domain, "orderId": item["orderId"],
                                             "reason": "purchased_by_mistake", "amount": "1.00", "currency": "EUR"})
    filed = admin.post("/v1/servicerequests/en-US", json=body)
    assert filed.status_code == 201, filed.text

    approved = software.actors(Role.operator).post(
        f"/v1/servicerequests/{filed.json()['id']}/refundrequest/approve", json={})

    assert approved.status_code == 200, approved.text
    assert software.download(link).status_code == 410
    assert software.item(software_id)["status"] == "revoked"
    again = software.keys_and_downloads(software_id).json()
    assert again["downloads"] == [] and again["productKeys"][0]["status"] == "revoked"
