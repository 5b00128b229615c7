"""Fixtures for service requests: a customer of Contoso Reseller with one software order, and request bodies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from partnerdesk.accounts.models import Role
from partnerdesk.audit.models import ActivityRecord
from partnerdesk.core.desk import Desk
from partnerdesk.support.models import RefundRequest, ServiceRequest, ServiceRequestNote
from tests.orders.factories import OFFICE_FR, Shop, load_catalog, software_line
from tests.support.actors import Actors

REFUND_TOPIC = 1001
OTHER_TOPIC = 1006


def request_body(topic: int | str = OTHER_TOPIC, **overrides: Any) -> dict[str, Any]:
    body = {
        "title": "Wrong product bought",
        "description": "The customer wanted Visio, not Office.",
        "severity": "moderate",
        "supportTopicId": topic,
        "primaryContact": {"firstName": "Ana", "lastName": "Silva", "email": "ana@contoso.example",
                           "phoneNumber": "+33 4 72 00 00 00"},
    }
    body.update(overrides)
    return body


@dataclass
class Support:
    """A customer with one order of two Office FR licences (EUR 2469.12), and helpers to file requests."""

    desk: Desk
    actors: Actors
    shop: Shop
    customer_id: str
    domain: str
    order: dict[str, Any]

    @property
    def subscription_id(self) -> str:
        return self.order["lineItems"][0]["subscriptionId"]

    def refund(self, **overrides: Any) -> dict[str, Any]:
        refund = {"customerDomain": self.domain, "orderId": self.order["id"], "reason": "wrong_product",
                  "amount": "1234.56", "currency": "EUR"}
        refund.update(overrides)
        return {key: value for key, value in refund.items() if value is not None}

    def refund_body(self, **overrides: Any) -> dict[str, Any]:
        return request_body(REFUND_TOPIC, refundRequest=self.refund(**overrides))

    def file(self, body: dict[str, Any] | None = None, role: Role = Role.admin_agent, locale: str = "en-US",
             **kwargs: Any):
        return self.actors(role).post(f"/v1/servicerequests/{locale}", json=body or request_body(), **kwargs)

    def filed(self, body: dict[str, Any] | None = None, role: Role = Role.admin_agent) -> dict[str, Any]:
        response = self.file(body, role)
        assert response.status_code == 201, response.text
        return response.json()

    def counts(self) -> dict[str, int]:
        """Rows of the support tables and support entries of the activity log."""
        with self.desk.database.session() as db:
            return {
                "requests": db.scalar(select(func.count()).select_from(ServiceRequest)),
                "notes": db.scalar(select(func.count()).select_from(ServiceRequestNote)),
                "refunds": db.scalar(select(func.count()).select_from(RefundRequest)),
                "activity": db.scalar(select(func.count()).select_from(ActivityRecord)
                                      .where(ActivityRecord.action.startswith("servicerequest."))),
            }


@pytest.fixture
def support(desk, actors) -> Support:
    load_catalog(desk)
    shop = Shop(desk=desk, buyer=actors(Role.sales_agent))
    customer_id = shop.customer()
    domain = shop.buyer.get(f"/v1/customers/{customer_id}").json()["companyProfile"]["domain"]
    order = shop.buy(customer_id, software_line(OFFICE_FR, quantity=2))["orders"][0]
    return Support(desk=desk, actors=actors, shop=shop, customer_id=customer_id, domain=domain, order=order)
