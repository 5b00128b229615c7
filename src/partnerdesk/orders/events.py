"""The one place orders publish what happened: the activity log and webhook events, in the caller's transaction.

Webhook deliveries go through the webhooks outbox, so they are sent only if the purchase commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from partnerdesk.accounts.service import Principal
from partnerdesk.audit import service as audit
from partnerdesk.webhooks import service as webhooks

ORDER_CREATED = "order.created"
ORDER_CANCELLED = "order.cancelled"
ENTITLEMENT_CREATED = "entitlement.created"
ENTITLEMENT_REVOKED = "entitlement.revoked"


@dataclass(frozen=True)
class EntitlementMade:
    entitlement_id: str
    entitlement_type: str
    order_id: str
    line_item_number: int


def orders_placed(
    db: Session, *, principal: Principal, partner_id: str, customer_id: str, orders: Sequence[dict[str, Any]],
    entitlements: Sequence[EntitlementMade], now: datetime, request_id: str | None,
) -> None:
    """Records the orders of a checkout and the entitlements they made, and publishes `order.created`.

    Each order is its API shape's summary (money and times already strings, and `lineItemCount`).
    The activity-log records go in one statement; there is no webhook event for an entitlement.
    """
    summaries = [
        {"orderId": order["id"], "customerId": customer_id, "status": order["status"],
         "billingCycle": order["billingCycle"], "currencyCode": order["currencyCode"],
         "totalPrice": order["totalPrice"], "lineItemCount": order["lineItemCount"],
         "creationDate": order["creationDate"]}
        for order in orders
    ]
    entries = [
        audit.entry(principal=principal, now=now, action=ORDER_CREATED, object_type="order",
                    object_id=summary["orderId"], partner_id=partner_id, customer_id=customer_id,
                    request_id=request_id,
                    details={key: value for key, value in summary.items() if key not in ("orderId", "customerId")})
        for summary in summaries
    ]
    entries += [
        audit.entry(principal=principal, now=now, action=ENTITLEMENT_CREATED, object_type="entitlement",
                    object_id=made.entitlement_id, partner_id=partner_id, customer_id=customer_id,
                    request_id=request_id,
                    details={"entitlementType": made.entitlement_type, "orderId": made.order_id,
                             "lineItemNumber": made.line_item_number})
        for made in entitlements
    ]
    audit.append(db, entries)
    for summary in summaries:
        webhooks.publish_event(db, partner_id=partner_id, event_type=ORDER_CREATED, data=summary, now=now)


def lines_cancelled(
    db: Session, *, principal: Principal, partner_id: str, customer_id: str, order: dict[str, Any],
    line_numbers: Sequence[int], credit: str, reason: str | None, entitlements: Sequence[Any], now: datetime,
    request_id: str | None,
) -> None:
    """Records a cancellation (rule R5) and the entitlements it revoked; publishes `order.cancelled`
    and one `entitlement.revoked` per entitlement.

    `order` is the order's API shape after the cancellation; `credit` the amount credited, as on the wire.
    """
    cancelled = {"customerId": customer_id, "orderId": order["id"], "lineItemNumbers": list(line_numbers),
                 "reason": reason, "creditAmount": credit, "currencyCode": order["currencyCode"]}
    revoked = [
        {"customerId": customer_id, "orderId": order["id"], "lineItemNumber": entitlement.line_item_number,
         "entitlementId": entitlement.id, "entitlementType": entitlement.entitlement_type,
         "subscriptionId": entitlement.subscription_id, "productId": entitlement.product_id,
         "skuId": entitlement.sku_id, "reason": ORDER_CANCELLED}
        for entitlement in entitlements
    ]
    audit.append(db, [
        audit.entry(principal=principal, now=now, action=ORDER_CANCELLED, object_type="order", object_id=order["id"],
                    partner_id=partner_id, customer_id=customer_id, request_id=request_id,
                    details={key: value for key, value in cancelled.items() if key not in ("orderId", "customerId")}
                    | {"orderStatus": order["status"]}),
        *(audit.entry(principal=principal, now=now, action=ENTITLEMENT_REVOKED, object_type="entitlement",
                      object_id=data["entitlementId"], partner_id=partner_id, customer_id=customer_id,
                      request_id=request_id,
                      details={key: data[key] for key in ("entitlementType", "orderId", "lineItemNumber", "reason")})
          for data in revoked),
    ])
    webhooks.publish_event(db, partner_id=partner_id, event_type=ORDER_CANCELLED, data={**cancelled, "order": order},
                           now=now)
    for data in revoked:
        webhooks.publish_event(db, partner_id=partner_id, event_type=ENTITLEMENT_REVOKED, data=data, now=now)
