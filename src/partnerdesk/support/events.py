"""What the support domain tells partners' webhook endpoints (types declared in `webhooks/events.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from partnerdesk.support.models import ServiceRequest
from partnerdesk.webhooks import service as webhooks

CREATED = "servicerequest.created"
UPDATED = "servicerequest.updated"
REFUND_APPROVED = "refundrequest.approved"
REFUND_REJECTED = "refundrequest.rejected"


def _summary(request: ServiceRequest) -> dict[str, Any]:
    # No contact details: a receiver that needs them reads the request through the API.
    return {"serviceRequestId": request.id, "customerId": request.customer_id,
            "supportTopicId": request.support_topic_id, "status": request.status, "severity": request.severity,
            "title": request.title}


def filed(db: Session, *, request: ServiceRequest, now: datetime) -> None:
    webhooks.publish_event(db, partner_id=request.partner_id, event_type=CREATED, data=_summary(request), now=now)


def updated(db: Session, *, request: ServiceRequest, change: str, now: datetime) -> None:
    """`change`: "note_added", "attachments_added" or "status_changed"."""
    webhooks.publish_event(db, partner_id=request.partner_id, event_type=UPDATED,
                           data=_summary(request) | {"change": change}, now=now)


def refund_decided(db: Session, *, request: ServiceRequest, event_type: str, data: dict[str, Any],
                   now: datetime) -> None:
    webhooks.publish_event(db, partner_id=request.partner_id, event_type=event_type,
                           data={"serviceRequestId": request.id, "customerId": request.customer_id} | data, now=now)
