"""The one place orders publish what happened: the activity log and webhook events, in the caller's transaction.

Webhook deliveries go through the webhooks outbox, so they are sent only if the purchase commits.
"""

from __future__ import annotations

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


def order_created(
    db: Session, *, principal: Principal, partner_id: str, customer_id: str, order: dict[str, Any],
    now: datetime, request_id: str | None,
) -> None:
    """Records and publishes one placed order; `order` is its API shape (money already strings)."""
    summary = {
        "orderId": order["id"],
        "customerId": customer_id,
        "status": order["status"],
        "billingCycle": order["billingCycle"],
        "currencyCode": order["currencyCode"],
        "totalPrice": order["totalPrice"],
        "lineItemCount": len(order["lineItems"]),
        "creationDate": order["creationDate"],
    }
    audit.record(db, principal=principal, now=now, action=ORDER_CREATED, object_type="order", object_id=order["id"],
                 partner_id=partner_id, customer_id=customer_id, request_id=request_id,
                 details={key: value for key, value in summary.items() if key not in ("orderId", "customerId")})
    webhooks.publish_event(db, partner_id=partner_id, event_type=ORDER_CREATED, data=summary, now=now)


def entitlement_created(
    db: Session, *, principal: Principal, partner_id: str, customer_id: str, entitlement_id: str,
    entitlement_type: str, order_id: str, line_item_number: int, now: datetime, request_id: str | None,
) -> None:
    """Records a new entitlement in the activity log (there is no webhook event for it)."""
    audit.record(db, principal=principal, now=now, action=ENTITLEMENT_CREATED, object_type="entitlement",
                 object_id=entitlement_id, partner_id=partner_id, customer_id=customer_id, request_id=request_id,
                 details={"entitlementType": entitlement_type, "orderId": order_id,
                          "lineItemNumber": line_item_number})
