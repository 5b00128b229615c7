"""The event types the desk publishes. Adding one is an entry here, then a `publish_event` call.

Conventions for an event's `data` (what `publish_event(..., data=...)` receives):
- camelCase keys and the Partner Center shapes the REST API already returns;
- the ids a receiver needs first (`customerId`, `orderId`, ...), then the resource as
  `GET` returns it, so a receiver rarely has to call back;
- money as strings with a `currencyCode` (`core.money.money_str`), times as ISO 8601 UTC;
- never a secret: no product key, no download link, no token. Receivers fetch those
  through the API, where access is checked and recorded.
The example of each type is served by `GET /v1/webhooks/eventtypes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_CUSTOMER = "2f4e1c7a-9b0d-4c55-8e21-6a3b7d9f0e12"
_ORDER = "8d1b6f3e-2c4a-4f9e-b7d5-0a1c2e3f4b5d"
_SUBSCRIPTION = "c3a9e7d1-5b2f-4e8a-9c6d-1f0e2b3a4d5c"
_ORDER_RESOURCE = {
    "id": _ORDER,
    "status": "completed",
    "creationDate": "2026-11-24T10:00:00Z",
    "currencyCode": "EUR",
    "totalPrice": "2469.12",
    "lineItems": [{"lineItemNumber": 0, "offerId": "DZH318Z0BXQ7:0001:0003", "quantity": 2,
                   "subscriptionId": _SUBSCRIPTION}],
}


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    # An illustrative `data` object, documented to receivers.
    example: dict[str, Any] = field(default_factory=dict)
    # False for events an endpoint cannot subscribe to, such as the test ping.
    subscribable: bool = True


TEST_EVENT = "webhook.test"

EVENT_TYPES: dict[str, EventType] = {
    event.name: event
    for event in (
        EventType(
            "order.created",
            "An order was placed and charged to the partner's billing.",
            {"customerId": _CUSTOMER, "orderId": _ORDER, "order": _ORDER_RESOURCE},
        ),
        EventType(
            "order.cancelled",
            "Order line items were cancelled (rule R5); the partner was credited.",
            {"customerId": _CUSTOMER, "orderId": _ORDER, "lineItemNumbers": [0],
             "reason": "Bought by mistake", "creditAmount": "2469.12", "currencyCode": "EUR",
             "order": {**_ORDER_RESOURCE, "status": "cancelled"}},
        ),
        EventType(
            "entitlement.revoked",
            "An entitlement was revoked because its purchase was cancelled (rule R5): the customer no longer "
            "holds the product, and its keys and download links stop working.",
            {"customerId": _CUSTOMER, "orderId": _ORDER, "lineItemNumber": 0,
             "entitlementId": "7e9c1a2b-4d3f-4a5e-9b8c-2d1e0f3a4b6c", "entitlementType": "software",
             "subscriptionId": _SUBSCRIPTION, "productId": "DG7GMGF0FKZV", "skuId": "0001",
             "reason": "order.cancelled"},
        ),
        EventType(
            "servicerequest.created",
            "A service request was filed (on the refund topic, a refund request waiting for the operator).",
            {"serviceRequestId": "0b8f4c2e-6d1a-4e3b-9f7c-5a2d8e1b3c4f", "customerId": _CUSTOMER,
             "supportTopicId": "1001", "status": "open", "severity": "moderate",
             "title": "Refund: bought by mistake"},
        ),
        EventType(
            "servicerequest.updated",
            "A note was added to a service request, files were attached to it, or its status changed.",
            {"serviceRequestId": "0b8f4c2e-6d1a-4e3b-9f7c-5a2d8e1b3c4f", "customerId": _CUSTOMER,
             "supportTopicId": "1001", "status": "attention_needed", "severity": "moderate",
             "title": "Refund: bought by mistake", "change": "status_changed"},
        ),
        EventType(
            "refundrequest.approved",
            "The operator approved a refund request (rule R6): its lines are cancelled and the partner credited.",
            {"serviceRequestId": "0b8f4c2e-6d1a-4e3b-9f7c-5a2d8e1b3c4f", "customerId": _CUSTOMER,
             "orderId": _ORDER, "subscriptionId": _SUBSCRIPTION, "approvedAmount": "100.00",
             "creditedAmount": "100.00", "currencyCode": "EUR", "overrideReason": None},
        ),
        EventType(
            "refundrequest.rejected",
            "The operator rejected a refund request (rule R6), with the reason given to the partner.",
            {"serviceRequestId": "0b8f4c2e-6d1a-4e3b-9f7c-5a2d8e1b3c4f", "customerId": _CUSTOMER,
             "orderId": _ORDER, "subscriptionId": _SUBSCRIPTION, "reason": "The customer used the product."},
        ),
        EventType(
            "subscription.charged",
            "A later period of a subscription was charged to the partner (monthly, annual or at renewal), on the "
            "invoice of the month the period starts in. The purchase's own charge is told by order.created.",
            {"customerId": _CUSTOMER, "subscriptionId": _SUBSCRIPTION, "orderId": _ORDER, "lineItemNumber": 0,
             "invoiceId": "4a6c8e0f-1b3d-4f5a-8c7e-9d0b2a4c6e8f", "periodNumber": 1, "chargeType": "cycleCharge",
             "chargeStartDate": "2026-12-24T10:00:00Z", "chargeEndDate": "2027-01-24T10:00:00Z",
             "unitPrice": "72.02", "quantity": 1, "subtotal": "72.02", "currencyCode": "EUR"},
        ),
        EventType(
            "subscription.renewed",
            "A subscription reached the end of its term with autoRenewEnabled and renewed for another term, at "
            "the price in force then (its first period is charged with a subscription.charged event).",
            {"customerId": _CUSTOMER, "subscriptionId": _SUBSCRIPTION, "orderId": _ORDER, "lineItemNumber": 0,
             "unitPrice": "1234.56", "currencyCode": "EUR", "termDuration": "P1Y",
             "commitmentEndDate": "2028-11-24T10:00:00Z"},
        ),
        EventType(
            "subscription.expired",
            "A subscription reached the end of its term without autoRenewEnabled (or its offer is no longer sold): "
            "it is no longer charged.",
            {"customerId": _CUSTOMER, "subscriptionId": _SUBSCRIPTION, "orderId": _ORDER, "lineItemNumber": 0,
             "commitmentEndDate": "2027-11-24T10:00:00Z"},
        ),
        EventType(
            "invoice.closed",
            "The partner's invoice of a month was closed: it has its number and totals and never changes after.",
            {"invoiceId": "4a6c8e0f-1b3d-4f5a-8c7e-9d0b2a4c6e8f", "invoiceNumber": "PD-2026-000123",
             "billingPeriod": "2026-11", "currencyCode": "EUR", "subtotal": "1234.56", "taxTotal": "246.91",
             "totalCharges": "1481.47"},
        ),
        EventType(
            TEST_EVENT,
            "A test ping, sent on request to one endpoint.",
            {"webhookId": "5b7e2d1c-3a4f-4e6b-8c9d-0e1f2a3b4c5d",
             "message": "A test event from Partner Desk."},
            subscribable=False,
        ),
    )
}


def subscribable_event_types() -> list[str]:
    return [name for name, event in EVENT_TYPES.items() if event.subscribable]
