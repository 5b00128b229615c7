"""Helpers shared by the webhook tests."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from partnerdesk.accounts import service as accounts
from partnerdesk.core.desk import Desk
from partnerdesk.jobs.worker import run_due_jobs
from partnerdesk.webhooks import service as webhooks
from tests.support.actors import Caller


def create_endpoint(admin: Caller, url: str, event_types: list[str] | None = None, **extra: Any) -> dict:
    body = {"url": url, "eventTypes": event_types or ["order.created"], "description": "ERP", **extra}
    response = admin.post("/v1/webhooks", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def partner_id_of(desk: Desk, caller: Caller) -> str:
    with desk.database.session(write=False) as db:
        return accounts.get_agent_by_email(db, caller.email).partner_id


def publish(desk: Desk, partner_id: str, event_type: str = "order.created", **data: Any) -> str:
    """Publishes one event in its own committed transaction, as a checkout would; returns the event id."""
    data = data or {"orderId": str(uuid.uuid4()), "customerId": str(uuid.uuid4())}
    with desk.database.session() as db:
        event = webhooks.publish_event(db, partner_id=partner_id, event_type=event_type, data=data,
                                       now=desk.clock.now())
        return event.id


def count(desk: Desk, model) -> int:
    with desk.database.session(write=False) as db:
        return db.scalar(select(func.count()).select_from(model))


def deliver_due(desk: Desk) -> int:
    return run_due_jobs(desk, limit=100)
